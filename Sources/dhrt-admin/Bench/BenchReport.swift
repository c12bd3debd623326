import Foundation

/// The figures of a benchmark run, as a table and as JSON.
struct BenchReport: Codable {
    struct Parameters: Codable {
        var nodes: [String]
        var workload: String
        var readFraction: Double
        var distribution: String
        var keys: Int
        var valueSize: Int
        var connections: Int
        var threads: Int
        var durationSeconds: Double?
        var ops: Int?
        var rate: Double?
        var warmupSeconds: Double
        var rounds: Int
        var settings: [String]
        var n: Int
        var collection: String
        var loadPhase: Bool
        var seed: UInt64
        var startedAt: String
        var cores: Int
        var blindUpdates: Bool
    }

    struct Result: Codable {
        var setting: String
        var r: Int?
        var w: Int?
        var ops: Int
        var seconds: Double
        var opsPerSec: Double
        var latencyMs: LatencySummary
        var readLatencyMs: LatencySummary?
        var updateLatencyMs: LatencySummary?
        var errors: [String: Int]
        /// Successful answers other than 2xx, such as "300" (siblings).
        var other: [String: Int]
    }

    var parameters: Parameters
    var results: [Result]

    init(
        configuration: BenchConfiguration, n: Int, started: Date, settings: [(QuorumSetting, OperationStats)]
    ) {
        parameters = Parameters(
            nodes: configuration.nodes, workload: configuration.workload.name,
            readFraction: configuration.workload.readFraction, distribution: configuration.distribution.rawValue,
            keys: configuration.keys, valueSize: configuration.valueSize, connections: configuration.connections,
            threads: configuration.threads, durationSeconds: configuration.durationSeconds, ops: configuration.ops,
            rate: configuration.rate, warmupSeconds: configuration.warmupSeconds, rounds: configuration.rounds,
            settings: configuration.settings.map(\.name), n: n, collection: configuration.collection,
            loadPhase: configuration.load, seed: configuration.seed,
            startedAt: ISO8601DateFormatter().string(from: started),
            cores: ProcessInfo.processInfo.activeProcessorCount, blindUpdates: configuration.blindUpdates)
        results = settings.map { setting, stats in
            let reads = stats.latency[Operation.read.rawValue]
            let updates = stats.latency[Operation.update.rawValue]
            return Result(
                setting: setting.name, r: QuorumValue.count(setting.r, n: n), w: QuorumValue.count(setting.w, n: n),
                ops: stats.ok, seconds: stats.seconds,
                opsPerSec: (Double(stats.ok) / max(stats.seconds, 0.001) * 10).rounded() / 10,
                latencyMs: LatencySummary(stats.combined),
                readLatencyMs: reads.totalCount > 0 ? LatencySummary(reads) : nil,
                updateLatencyMs: updates.totalCount > 0 ? LatencySummary(updates) : nil,
                errors: stats.errors, other: stats.notable)
        }
    }

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    static func decode(_ data: Data) throws -> BenchReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(BenchReport.self, from: data)
    }

    /// One row per setting, numbers right-aligned.
    func table() -> String {
        let header = ["setting", "r/w", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors"]
        var rows = [header]
        for result in results {
            let latency = result.latencyMs
            let errors = result.errors.isEmpty
                ? "0" : result.errors.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
            let rw = "\(result.r.map(String.init) ?? "?")/\(result.w.map(String.init) ?? "?")"
            rows.append(
                [result.setting, rw, Self.grouped(result.opsPerSec)]
                    + [latency.p50, latency.p90, latency.p99, latency.p999, latency.max].map {
                        String(format: "%.2f", $0)
                    }
                    + [errors])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
        return rows.enumerated().map { index, row in
            let line = row.enumerated().map { column, cell in
                if column == row.count - 1 { return cell }
                return column == 0 ? cell.padding(widths[column]) : cell.leftPadding(widths[column])
            }.joined(separator: "  ")
            return index == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n")
    }

    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }
}
