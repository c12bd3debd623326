import Foundation

/// One `dhrt-node` process started by a test, with its ports, data directory and log file.
final class NodeProcess: @unchecked Sendable {
    let name: String
    let httpPort: Int
    let clusterPort: Int
    let logPath: String
    let seeds: [String]
    let directory: String
    let extra: [String]
    private let process: Process

    var httpURL: String { "http://127.0.0.1:\(httpPort)" }
    var clusterAddress: String { "127.0.0.1:\(clusterPort)" }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Starts the binary; the caller MUST eventually call `kill()`.
    init(name: String, httpPort: Int, clusterPort: Int, seeds: [String], directory: String, extra: [String] = [])
        throws
    {
        self.name = name
        self.httpPort = httpPort
        self.clusterPort = clusterPort
        self.seeds = seeds
        self.directory = directory
        self.extra = extra
        logPath = "\(directory)/\(name).log"
        // A restarted node appends to the log of its earlier runs.
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments =
            [
                "--name", name, "--http", "127.0.0.1:\(httpPort)", "--cluster", "127.0.0.1:\(clusterPort)",
                "--data-dir", "\(directory)/\(name)", "--timeout-ms", "5000",
            ] + seeds.flatMap { ["--seed", $0] } + extra
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Starts the same node again (name, ports, data directory, flags) after it stopped; the caller MUST
    /// eventually call `kill()` on the new process.
    func restart(seeds: [String]? = nil) throws -> NodeProcess {
        precondition(!isRunning, "restart a node only after it stopped")
        return try NodeProcess(
            name: name, httpPort: httpPort, clusterPort: clusterPort, seeds: seeds ?? self.seeds,
            directory: directory, extra: extra)
    }

    /// Asks the node to stop gracefully (SIGTERM) and waits, bounded, for it to exit; true if it did.
    func terminate(within limit: Duration = .seconds(30)) async -> Bool {
        guard process.isRunning else { return true }
        Foundation.kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    /// The exit status once the process ended (nil while it runs).
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Stops the process at once (SIGKILL) and reaps it.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Freezes the process (SIGSTOP): its sockets stay open but nothing answers, like a node stuck in GC or swap.
    func pause() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGSTOP)
    }

    /// Lets a paused process run again (SIGCONT).
    func resume() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
    }

    /// The last lines of the node's log, for failure messages.
    func logTail(_ lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// `dhrt-node` beside the running test executable (e.g. `.build/debug/`), or `$DHRT_NODE_BINARY`.
    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["DHRT_NODE_BINARY"] { return path }
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if let selfExe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: selfExe))
        }
        candidates.append(executable)
        for candidate in candidates {
            // Walk up from the test executable (which may sit inside a .xctest bundle) to the build directory.
            var directory = candidate.deletingLastPathComponent()
            for _ in 0..<4 {
                let path = directory.appendingPathComponent("dhrt-node").path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw HarnessError(
            "dhrt-node binary not found next to the test executable (\(executable.path)); "
                + "run `swift build` first or set DHRT_NODE_BINARY")
    }
}
