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
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            try? out.close()
            throw HarnessError("\(tool) \(arguments.joined(separator: " ")) ran past \(limit)")
        }
        try? out.close()
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
