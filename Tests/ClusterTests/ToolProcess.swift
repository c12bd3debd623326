import Foundation

/// A command-line tool (curl, redis-cli) run by a test, bounded in time.
enum ToolProcess {
    /// The tool's path on PATH, nil when it is not installed.
    static func find(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `tool` to its end (killed after `limit`); returns its exit status and its output, stdout then stderr.
    static func run(_ tool: String, _ arguments: [String], limit: Duration = .seconds(20)) async throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        // Files, not pipes: a pipe that fills would stall the tool until the limit.
        let directory = FileManager.default.temporaryDirectory.path
        let outPath = "\(directory)/dhrt-tool-\(UUID().uuidString.prefix(8)).out"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let status = try await exitStatus(of: process, within: limit)
        try? out.close()
        guard let status else {
            throw HarnessError("\(tool) \(arguments.joined(separator: " ")) ran past \(limit)")
        }
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        return (status, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The exit status, or nil after killing a process that ran past `limit`. Reaps with waitpid: Process's own
    /// monitor can miss the exit of a tool that forks detached children (`dhrt-admin cluster start`).
    private static func exitStatus(of process: Process, within limit: Duration) async throws -> Int32? {
        let pid = process.processIdentifier
        let deadline = ContinuousClock.now + limit
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            }
            // Reaped by Process already: it has the status.
            if result < 0, !process.isRunning { return process.terminationStatus }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return nil
    }
}
