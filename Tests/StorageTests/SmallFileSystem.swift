import Foundation
import TestSupport

/// A small tmpfs mounted over a fresh temporary directory (see `TmpfsMount`).
struct SmallFileSystem {
    let directory: TemporaryDirectory
    let mount: TmpfsMount
    var path: String { directory.path }

    /// Mounts a tmpfs of `bytes`; nil when mounting is not permitted.
    init?(bytes: Int) {
        let directory = TemporaryDirectory()
        guard let mount = TmpfsMount(at: directory.path, bytes: bytes) else {
            directory.remove()
            return nil
        }
        self.directory = directory
        self.mount = mount
    }

    /// Unmounts and removes the mount point. Call it on every path (`defer`).
    func remove() {
        mount.unmount()
        directory.remove()
    }

    static var isAvailable: Bool { TmpfsMount.isAvailable }
}
