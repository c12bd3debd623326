import Synchronization

/// Recent replica-call latency per peer (Cassandra's dynamic snitch, simplified): reads ask the fastest
/// replicas first and speculate on the next one when a replica is slower than its usual high percentile.
///
/// Each peer keeps an exponentially weighted mean and mean deviation (as TCP's RTO estimator does); mean + 4 ×
/// deviation stands in for its p99.
final class PeerLatency: Sendable {
    private struct Estimate {
        var mean: Double
        var deviation: Double
    }

    private let estimates = Mutex<[String: Estimate]>([:])
    /// The speculation delay never drops below this (a loopback reply takes tens of microseconds, a busy
    /// node's scheduling noise more) nor exceeds `maximum`.
    let minimum: UInt64
    let maximum: UInt64

    init(minimum: UInt64 = 2_000_000, maximum: UInt64 = 200_000_000) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Records one successful call's latency.
    func record(_ peer: String, nanoseconds: UInt64) {
        let sample = Double(nanoseconds)
        estimates.withLock { estimates in
            guard var estimate = estimates[peer] else {
                estimates[peer] = Estimate(mean: sample, deviation: sample / 2)
                return
            }
            estimate.deviation += 0.25 * (abs(sample - estimate.mean) - estimate.deviation)
            estimate.mean += 0.125 * (sample - estimate.mean)
            estimates[peer] = estimate
        }
    }

    /// `names` with `local` first (if present), then peers by ascending mean latency; peers without a sample
    /// yet come first, so that they get measured; ties keep the preference order.
    func order(_ names: [String], local: String) -> [String] {
        let means = estimates.withLock { estimates in names.map { estimates[$0]?.mean ?? 0 } }
        let ranked = zip(names, means).enumerated().sorted { a, b in
            let (aLocal, bLocal) = (a.element.0 == local, b.element.0 == local)
            if aLocal != bLocal { return aLocal }
            if a.element.1 != b.element.1 { return a.element.1 < b.element.1 }
            return a.offset < b.offset
        }
        return ranked.map(\.element.0)
    }

    /// How long to wait for `peers` before asking one more replica.
    func speculationDelay(for peers: some Sequence<String>) -> UInt64 {
        let slowest = estimates.withLock { estimates in
            peers.reduce(0.0) { worst, peer in
                guard let estimate = estimates[peer] else { return worst }
                return max(worst, estimate.mean + 4 * estimate.deviation)
            }
        }
        return min(maximum, max(minimum, UInt64(slowest)))
    }
}
