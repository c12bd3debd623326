import Testing

@testable import Coordinator

@Suite struct FailureDetectorTests {
    static let second: UInt64 = 1_000_000_000

    /// Heartbeats every `interval` from t=0 to `until`, with an optional jitter pattern.
    private func beating(
        _ detector: inout FailureDetector, every interval: UInt64, until: UInt64, jitter: [UInt64] = [0]
    ) {
        var now: UInt64 = 0
        var index = 0
        while now <= until {
            _ = detector.onHeartbeat(from: "n2", now: now)
            now += interval + jitter[index % jitter.count]
            index += 1
        }
    }

    @Test func aSilentMember_becomesUnhealthyThenDown_andUpWhenItAnswersAgain() {
        var detector = FailureDetector()
        detector.watch("n2", now: 0)
        beating(&detector, every: Self.second, until: 30 * Self.second)
        let last: UInt64 = 30 * Self.second
        #expect(detector.onTick(now: last + Self.second).isEmpty)
        var unhealthyAt: UInt64?
        var downAt: UInt64?
        var now = last
        while now < last + 20 * Self.second, downAt == nil {
            now += 100_000_000
            for change in detector.onTick(now: now) {
                if change.liveness == .unhealthy { unhealthyAt = now }
                if change.liveness == .down { downAt = now }
            }
        }
        let unhealthy = try! #require(unhealthyAt) - last
        let down = try! #require(downAt) - last
        #expect(unhealthy > Self.second && unhealthy < 4 * Self.second, "unhealthy after \(unhealthy) ns")
        #expect(down > 3 * Self.second && down < 8 * Self.second, "down after \(down) ns")
        #expect(detector.liveness(of: "n2") == .down)
        // A late tick does not bring it back; a heartbeat does.
        #expect(detector.onTick(now: now + Self.second).isEmpty)
        #expect(detector.onHeartbeat(from: "n2", now: now + 2 * Self.second) == [.init(member: "n2", liveness: .up)])
    }

    @Test func aMemberThatAnswersLateButRegularly_isNeverDown() {
        var detector = FailureDetector()
        detector.watch("n2", now: 0)
        // Answers vary between 1 s and 2.5 s apart, as under heavy load.
        var now: UInt64 = 0
        var worst = Liveness.up
        for step in 0..<300 {
            let gap = Self.second + UInt64(step % 4) * 500_000_000
            for check in stride(from: now, to: now + gap, by: 100_000_000) {
                for change in detector.onTick(now: check) where change.liveness == .down { worst = .down }
            }
            now += gap
            _ = detector.onHeartbeat(from: "n2", now: now)
        }
        #expect(worst != .down)
    }

    @Test func aNeverHeardMember_isDownAfterTheBootstrapIntervalAndPause() {
        var detector = FailureDetector()
        detector.watch("n3", now: 0)
        #expect(detector.onTick(now: Self.second).isEmpty)
        let changes = (1...100).flatMap { detector.onTick(now: UInt64($0) * 100_000_000) }
        #expect(changes.last == .init(member: "n3", liveness: .down))
        detector.retain([])
        #expect(detector.liveness(of: "n3") == .up, "a forgotten member is not judged")
    }
}
