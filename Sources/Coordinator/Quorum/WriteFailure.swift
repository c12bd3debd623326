/// Why a write did not reach its quorum. `notEnoughReplicas`, `notEnoughPrimaries` and `timedOut` are HTTP
/// 503; `localStoreFailed` is what the node makes of its reason (500 for a disk error); `coordinatorNotAReplica`
/// is 500.
public enum WriteFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Too few replicas stored it: some failed, or the preference list is shorter than `w`.
    /// Replicas in `acked` did store the write; it will spread from them.
    case notEnoughReplicas(required: Int, replicas: Int, acked: [String], failed: [String: String])
    /// The deadline passed with fewer than `required` acks. The write may still have been stored (it was
    /// stored by `acked` and may yet be by replicas that did not answer).
    case timedOut(required: Int, acked: [String])
    /// Fewer than `required` primaries (the key's own replicas, not fallbacks) stored it: `X-Dhrt-PW`.
    case notEnoughPrimaries(required: Int, acked: [String])
    /// The coordinating replica could not store the write; nothing was sent to other replicas.
    case localStoreFailed(reason: String)
    /// The machine was created on a node outside the preference list: a bug in the caller, which MUST forward
    /// the request to a replica instead (HTTP 500).
    case coordinatorNotAReplica(String)

    /// A sentence for the HTTP error detail.
    public var description: String {
        switch self {
        case .notEnoughReplicas(let required, let replicas, let acked, let failed):
            let failures = failed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            let cause = failures.isEmpty ? "" : " (failed: \(failures.joined(separator: "; ")))"
            return "write needs \(required) of \(replicas) replicas but only \(acked.count) stored it\(cause)"
        case .notEnoughPrimaries(let required, let acked):
            return "write needs \(required) primary replicas (X-Dhrt-PW) but only \(acked.count) stored it; "
                + "fallbacks do not count towards PW"
        case .timedOut(let required, let acked):
            guard !acked.isEmpty else {
                return "write timed out before any replica answered; it may still have been stored"
            }
            let names = acked.joined(separator: ", ")
            return "write timed out after \(acked.count) of \(required) required acks (\(names)); "
                + "the write was stored there and may still spread"
        case .localStoreFailed(let reason):
            return "coordinating replica could not store the write: \(reason)"
        case .coordinatorNotAReplica(let name):
            return "node \(name) is not a replica of the key and must forward the write"
        }
    }
}
