import Foundation

/// A small tmpfs mounted over a fresh directory, for running the engine out of disk space. Mounting needs root
/// (CAP_SYS_ADMIN); tests that use it are skipped elsewhere (`isAvailable`).
struct SmallFileSystem {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    /// Mounts a tmpfs of `bytes` (rounded up to pages by the kernel); nil when mounting is not permitted.
    init?(bytes: Int) {
        let directory = TemporaryDirectory()
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0755", "tmpfs", directory.path]) else {
            directory.remove()
            return nil
        }
        self.directory = directory
    }

    /// Unmounts and removes the mount point. Call it on every path (`defer`).
    func remove() {
        _ = Self.run("/bin/umount", ["-l", path])
        directory.remove()
    }

    /// Whether this process may mount a tmpfs (root, and mount(8) present).
    static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        guard let probe = SmallFileSystem(bytes: 64 << 10) else { return false }
        probe.remove()
        return true
    }()

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
