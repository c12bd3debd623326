import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts, signals and watches node processes; also probes loopback ports.
enum ProcessControl {
    /// glibc's POSIX_SPAWN_SETSID (not imported into Swift): the child leads its own session, so a
    /// terminal's Ctrl-C or the end of the launching shell does not reach it.
    private static let spawnSetSID: Int16 = 0x80

    /// Spawns `path arguments…` detached, stdin from /dev/null, stdout and stderr appended to `logPath`.
    static func spawnDetached(_ path: String, _ arguments: [String], logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawnattr_setflags(&attributes, spawnSetSID)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw AdminError.failed("cannot start \(path): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// True while `pid` runs and is a dhrt-node (guards against a recycled PID); reaps our own exited children.
    static func isRunningNode(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        if let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return false }
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        return command.contains("dhrt-node")
    }

    /// SIGTERM, then SIGKILL if the process is still there after `grace` seconds. Returns true if it had to kill.
    @discardableResult
    static func stop(_ pid: pid_t, grace: Double) async -> Bool {
        guard isRunningNode(pid) else { return false }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if !isRunningNode(pid) { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        for _ in 0..<40 where isRunningNode(pid) { try? await Task.sleep(for: .milliseconds(50)) }
        return true
    }

    /// Whether a TCP port on 127.0.0.1 can be bound right now.
    static func isPortFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return bound == 0
    }

    /// The `dhrt-node` beside this executable, else the first on PATH.
    static func findNodeBinary() -> String? {
        let fileManager = FileManager.default
        if let me = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let beside = (me as NSString).deletingLastPathComponent + "/dhrt-node"
            if fileManager.isExecutableFile(atPath: beside) { return beside }
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/dhrt-node"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
