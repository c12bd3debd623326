import Foundation

/// One benchmark invocation: the load phase, then every setting in turns, then the report.
struct BenchSession {
    let configuration: BenchConfiguration
    /// Replicas per key, to turn one/quorum/all into numbers.
    let n: Int

    /// Asks a node for N (`n` at the top of `/v1/status` or in its `ring`).
    static func askReplicas(_ url: String) async -> Int? {
        guard let status = try? await NodeClient(baseURL: url).json("/v1/status") as? [String: Any] else { return nil }
        for container in [status, status["ring"] as? [String: Any] ?? [:]] {
            if let n = container["n"] as? Int ?? container["replicas"] as? Int { return n }
        }
        return nil
    }

    /// The order of slices: every setting once per round, so settings take turns.
    static func schedule(settings: [QuorumSetting], rounds: Int) -> [(round: Int, setting: QuorumSetting)] {
        (1...rounds).flatMap { round in settings.map { (round, $0) } }
    }

    /// `total` split into `parts` whole shares that differ by at most one.
    static func share(_ total: Int, parts: Int, index: Int) -> Int {
        total / parts + (index < total % parts ? 1 : 0)
    }

    func run() async throws -> BenchReport {
        let configuration = configuration
        let started = Date()
        log(Self.describe(configuration, n: n))
        let runner = BenchRunner(configuration)
        do {
            try await runner.connect()
            if configuration.load { try await load(runner) }
            var results: [String: OperationStats] = [:]
            for (round, setting) in Self.schedule(settings: configuration.settings, rounds: configuration.rounds) {
                let roundIndex = round - 1
                let (read, write) = SlicePlan.headers(for: setting)
                let warmup = UInt64(configuration.warmupSeconds * 1e9)
                let measureFrom = monotonicNanos() + warmup
                let sliceSeconds = configuration.durationSeconds.map { $0 / Double(configuration.rounds) }
                let stopAt = sliceSeconds.map { measureFrom + UInt64($0 * 1e9) }
                let sliceOps = configuration.ops.map {
                    Self.share($0, parts: configuration.rounds, index: roundIndex)
                }
                let interval = configuration.rate.map { UInt64(Double(configuration.connections) / $0 * 1e9) }
                let title = configuration.rounds > 1 ? "\(setting.name) \(round)/\(configuration.rounds)" : setting.name
                var stats = try await runner.runSlice(title: title) { index in
                    SlicePlan(
                        mode: .run(configuration.workload), readHeaders: read, writeHeaders: write,
                        measureFrom: measureFrom, stopAt: stopAt,
                        opsLimit: sliceOps.map { Self.share($0, parts: configuration.connections, index: index) },
                        intervalNanos: interval)
                }
                stats.seconds = sliceSeconds ?? max(0.001, Double(monotonicNanos() - measureFrom) / 1e9)
                log(Self.sliceLine(title, stats))
                results[setting.name, default: OperationStats()].merge(stats)
                results[setting.name]!.seconds += stats.seconds
            }
            await runner.shutdown()
            return BenchReport(
                configuration: configuration, n: n, started: started,
                settings: configuration.settings.map { ($0, results[$0.name] ?? OperationStats()) })
        } catch {
            await runner.shutdown()
            throw error
        }
    }

    private func load(_ runner: BenchRunner) async throws {
        let configuration = configuration
        let start = monotonicNanos()
        let stats = try await runner.runSlice(title: "load") { index in
            SlicePlan(
                mode: .load(first: index, stride: configuration.connections, end: configuration.keys),
                readHeaders: "", writeHeaders: "X-Dhrt-W: quorum\r\n", measureFrom: 0, stopAt: nil, opsLimit: nil,
                intervalNanos: nil)
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        let written = stats.ok
        var line = "load: \(written) of \(configuration.keys) keys in \(String(format: "%.1f", seconds)) s "
            + "(\(Int(Double(written) / max(seconds, 0.001))) ops/s)"
        if stats.failed > 0 { line += ", errors \(stats.errors)" }
        log(line)
        if written == 0 { throw AdminError.failed("the load phase wrote nothing; errors: \(stats.errors)") }
    }

    static func describe(_ configuration: BenchConfiguration, n: Int) -> String {
        let length = configuration.durationSeconds.map { "\(format($0)) s" } ?? "\(configuration.ops!) ops"
        let mode = configuration.rate.map { "open loop at \(Int($0)) ops/s" } ?? "closed loop"
        return "bench: workload \(configuration.workload), \(configuration.distribution.rawValue) over "
            + "\(configuration.keys) keys, \(configuration.valueSize) B values, \(configuration.connections) "
            + "connections to \(configuration.nodes.count) node(s), \(mode); settings "
            + "\(configuration.settings.map(\.name).joined(separator: ", ")) (N=\(n)), \(length) each over "
            + "\(configuration.rounds) round(s), \(format(configuration.warmupSeconds)) s warmup"
    }

    private static func sliceLine(_ title: String, _ stats: OperationStats) -> String {
        let summary = LatencySummary(stats.combined)
        let rate = Double(stats.ok) / max(stats.seconds, 0.001)
        var line = "\(title): \(Int(rate)) ops/s, p50 \(summary.p50) ms, p99 \(summary.p99) ms"
        if stats.failed > 0 { line += ", errors \(stats.errors)" }
        return line
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
