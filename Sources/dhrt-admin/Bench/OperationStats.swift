import Histogram

/// The kind of a benchmark operation.
enum Operation: Int, Sendable, CaseIterable {
    case read, update

    var name: String { self == .read ? "read" : "update" }
}

/// Latencies (microseconds, HdrHistogram) and outcomes of one setting, per connection or merged.
struct OperationStats: Sendable {
    /// Latencies above a minute are clamped: they are failures anyway and the histogram stays small.
    static let highestMicros: UInt64 = 60_000_000

    var latency: [Histogram<UInt64>]
    var ok = 0
    /// Failed operations by cause: an HTTP status ("503") or "connection", "timeout".
    var errors: [String: Int] = [:]
    /// Successful answers that were not 2xx (e.g. "300" siblings), counted but not failures.
    var notable: [String: Int] = [:]
    /// Seconds of measurement these figures cover (summed over rounds).
    var seconds = 0.0

    init() {
        latency = Operation.allCases.map { _ in
            Histogram<UInt64>(
                lowestDiscernibleValue: 1, highestTrackableValue: OperationStats.highestMicros,
                numberOfSignificantValueDigits: .three)
        }
    }

    @inline(__always)
    mutating func record(_ operation: Operation, micros: UInt64) {
        latency[operation.rawValue].record(min(max(micros, 1), OperationStats.highestMicros))
    }

    var failed: Int { errors.values.reduce(0, +) }

    /// Both operations in one histogram.
    var combined: Histogram<UInt64> {
        var all = latency[0]
        for other in latency.dropFirst() { all.add(other) }
        return all
    }

    mutating func merge(_ other: OperationStats) {
        for index in latency.indices { latency[index].add(other.latency[index]) }
        ok += other.ok
        errors.merge(other.errors, uniquingKeysWith: +)
        notable.merge(other.notable, uniquingKeysWith: +)
    }
}

/// Percentiles in milliseconds, in the order a person reads them.
struct LatencySummary: Codable, Equatable, Sendable {
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var mean: Double

    init(_ histogram: Histogram<UInt64>) {
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 1000 * 1000).rounded() / 1000 }
        guard histogram.totalCount > 0 else {
            (p50, p90, p99, p999, max, mean) = (0, 0, 0, 0, 0, 0)
            return
        }
        p50 = ms(histogram.valueAtPercentile(50))
        p90 = ms(histogram.valueAtPercentile(90))
        p99 = ms(histogram.valueAtPercentile(99))
        p999 = ms(histogram.valueAtPercentile(99.9))
        max = ms(histogram.max)
        mean = (histogram.mean / 1000 * 1000).rounded() / 1000
    }

    /// The percentiles of the plot, with their labels.
    var points: [(label: String, value: Double)] {
        [("p50", p50), ("p90", p90), ("p99", p99), ("p99.9", p999), ("max", max)]
    }
}
