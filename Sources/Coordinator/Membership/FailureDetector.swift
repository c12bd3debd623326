import Foundation

/// How reachable a member looks from this node. Not part of the ring: each node judges for itself.
public enum Liveness: String, Sendable, Equatable {
    /// Answers heartbeats in time.
    case up
    /// Late: a heartbeat is overdue, but not long enough to call it down.
    case unhealthy
    /// Silent for longer than any pause its history explains. Still a member: only a leave moves its data.
    case down
}

/// A φ-accrual failure detector (Hayashibara et al., as in Akka and Cassandra) over heartbeat arrivals.
///
/// φ is −log10 of the probability that a heartbeat still comes given the time since the last one, under a
/// normal distribution fitted to recent intervals. `unhealthy` uses the intervals alone; `down` adds an
/// acceptable pause to the mean, so a node that merely stalls under load (a GC pause, a full run queue) is
/// late, not down. Pure: time comes in as nanoseconds on a monotonic clock.
public struct FailureDetector: Sendable {
    public struct Settings: Sendable, Equatable {
        /// φ at which a member is considered unhealthy or down.
        public var threshold: Double = 8
        /// Floor of the fitted deviation, so that very regular heartbeats do not make φ spike.
        public var minimumDeviation: UInt64 = 200_000_000
        /// Added to the mean interval before a member is called down.
        public var acceptablePause: UInt64 = 3_000_000_000
        /// The interval assumed before any heartbeat was measured.
        public var expectedInterval: UInt64 = 1_000_000_000
        /// Intervals remembered per member.
        public var window = 100

        public init() {}
    }

    /// A member whose liveness changed.
    public struct Change: Sendable, Equatable {
        public var member: String
        public var liveness: Liveness
    }

    struct History: Sendable {
        var last: UInt64
        var intervals: [UInt64]
        var next = 0
        var sum: Double
        var squares: Double
        var liveness: Liveness = .up
    }

    public let settings: Settings
    private var members: [String: History] = [:]

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Starts watching `member` as of `now` (as if it had just answered); a known member is left as it is.
    public mutating func watch(_ member: String, now: UInt64) {
        guard members[member] == nil else { return }
        let expected = Double(settings.expectedInterval)
        // Two bootstrap intervals around the expected one, as Akka does, give a mean and a deviation.
        let low = UInt64(expected * 0.75)
        let high = UInt64(expected * 1.25)
        members[member] = History(
            last: now, intervals: [low, high], next: 0, sum: Double(low + high),
            squares: Double(low) * Double(low) + Double(high) * Double(high))
    }

    /// Stops watching members not in `keep`.
    public mutating func retain(_ keep: Set<String>) {
        members = members.filter { keep.contains($0.key) }
    }

    /// A heartbeat (an answered probe) from `member`.
    public mutating func onHeartbeat(from member: String, now: UInt64) -> [Change] {
        watch(member, now: now)
        guard var history = members[member] else { return [] }
        if now > history.last {
            let interval = now - history.last
            if history.intervals.count < settings.window {
                history.intervals.append(interval)
            } else {
                let old = Double(history.intervals[history.next])
                history.sum -= old
                history.squares -= old * old
                history.intervals[history.next] = interval
                history.next = (history.next + 1) % settings.window
            }
            history.sum += Double(interval)
            history.squares += Double(interval) * Double(interval)
            history.last = now
        }
        let changed = history.liveness != .up
        history.liveness = .up
        members[member] = history
        return changed ? [Change(member: member, liveness: .up)] : []
    }

    /// Re-judges every member at `now`.
    public mutating func onTick(now: UInt64) -> [Change] {
        var changes: [Change] = []
        for (name, history) in members {
            let judged = judge(history, now: now)
            guard judged != history.liveness else { continue }
            // Once down, only a heartbeat brings a member back.
            if history.liveness == .down { continue }
            members[name]?.liveness = judged
            changes.append(Change(member: name, liveness: judged))
        }
        return changes.sorted { $0.member < $1.member }
    }

    /// The member's current liveness (`up` for members not watched).
    public func liveness(of member: String) -> Liveness { members[member]?.liveness ?? .up }

    /// φ of `member` at `now` with the acceptable pause added (what `down` is judged by).
    public func phi(of member: String, now: UInt64) -> Double {
        guard let history = members[member] else { return 0 }
        return phi(history, now: now, pause: settings.acceptablePause)
    }

    private func judge(_ history: History, now: UInt64) -> Liveness {
        if phi(history, now: now, pause: settings.acceptablePause) >= settings.threshold { return .down }
        if phi(history, now: now, pause: 0) >= settings.threshold { return .unhealthy }
        return .up
    }

    private func phi(_ history: History, now: UInt64, pause: UInt64) -> Double {
        let count = Double(history.intervals.count)
        let mean = history.sum / count + Double(pause)
        let variance = max(0, history.squares / count - (history.sum / count) * (history.sum / count))
        let deviation = max(variance.squareRoot(), Double(settings.minimumDeviation))
        let elapsed = Double(now > history.last ? now - history.last : 0)
        // Logistic approximation of the normal CDF's tail (as in Akka's PhiAccrualFailureDetector).
        let y = (elapsed - mean) / deviation
        let e = exp(-y * (1.5976 + 0.070566 * y * y))
        if elapsed > mean { return -log10(e / (1 + e)) }
        return -log10(1 - 1 / (1 + e))
    }
}
