import Testing

@testable import dhrt_admin

@Suite struct HistogramTests {
    private func stats(_ micros: ClosedRange<UInt64>, _ operation: Operation = .read) -> OperationStats {
        var stats = OperationStats()
        for value in micros {
            stats.record(operation, micros: value)
            stats.ok += 1
        }
        return stats
    }

    @Test func summary_percentilesAreOrdered() {
        let summary = LatencySummary(stats(1...10_000).combined)
        #expect(summary.p50 <= summary.p90 && summary.p90 <= summary.p99)
        #expect(summary.p99 <= summary.p999 && summary.p999 <= summary.max)
        #expect(abs(summary.p50 - 5.0) < 0.01)
        #expect(abs(summary.p99 - 9.9) < 0.01)
        #expect(abs(summary.max - 10.0) < 0.01)
    }

    @Test func merge_addsCountsErrorsAndLatencies() {
        var first = stats(1...1000)
        first.errors["503"] = 2
        var second = stats(1001...2000, .update)
        second.errors["503"] = 1
        second.errors["timeout"] = 4
        second.notable["300"] = 5
        first.merge(second)
        #expect(first.ok == 2000)
        #expect(first.errors == ["503": 3, "timeout": 4])
        #expect(first.notable == ["300": 5])
        #expect(first.latency[Operation.read.rawValue].totalCount == 1000)
        #expect(first.latency[Operation.update.rawValue].totalCount == 1000)
        #expect(first.combined.totalCount == 2000)
        #expect(abs(LatencySummary(first.combined).p50 - 1.0) < 0.01)
    }

    @Test func emptyHistogram_summarisesToZeros() {
        let summary = LatencySummary(OperationStats().combined)
        #expect(OperationStats().combined.totalCount == 0)
        #expect(summary.points.map(\.value) == [0, 0, 0, 0, 0])
        #expect(summary.mean == 0)
    }

    @Test func hugeLatencies_areClampedNotLost() {
        var stats = OperationStats()
        stats.record(.read, micros: 10 * OperationStats.highestMicros)
        #expect(stats.combined.totalCount == 1)
    }
}
