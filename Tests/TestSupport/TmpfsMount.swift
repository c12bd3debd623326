import Foundation

/// A tmpfs of a few bytes mounted over a directory, for running out of disk space. Mounting needs root
/// (CAP_SYS_ADMIN); tests that use it are skipped elsewhere (`isAvailable`). Call `unmount()` on every path.
public struct TmpfsMount: Sendable {
    public let path: String

    /// Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) over `path`; nil when that is not permitted.
    public init?(at path: String, bytes: Int) {
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0755", "tmpfs", path]) else {
            return nil
        }
        self.path = path
    }

    public func unmount() { _ = Self.run("/bin/umount", ["-l", path]) }

    /// Whether this process may mount a tmpfs (root, and mount(8) present).
    public static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-probe-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard let mount = TmpfsMount(at: probe, bytes: 64 << 10) else { return false }
        mount.unmount()
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
