/// Coordinates one client write at the coordinating replica, sans IO.
///
/// Flow (the node drives it):
/// 1. `start()` → `.storeLocally` and `.scheduleTimeout(at:)`. The node applies the client write to its own
///    stored copy atomically (`ReplicaStore.coordinate`) and appends it, then calls `onLocalApplied(_:)` with
///    the resulting object (or `onLocalFailure(reason:)`), and `onLocalDurable()` once its append is durable.
///    `onLocalStored(_:)` is both at once.
/// 2. `onLocalApplied` → `.send(to:object:)` naming the other replicas, so that they store in parallel with the
///    local fsync; the node sends the object to each (they `ReplicaStore.merge` it) and reports `onAck(from:)` /
///    `onFailure(from:reason:)`. The coordinator counts towards `w` only once durable.
/// 3. Exactly one `.reply(_:)` comes out over the machine's life: success once `w` replicas (the local store
///    included) stored the object, failure once `w` can no longer be reached or at the deadline.
///    Late acknowledgements are still recorded (`acked`) but never produce a second reply.
/// 4. `isFinished` turns true when every replica answered or the deadline passed; the node then drops it.
///
/// The coordinator MUST be a member of `replicas`; a node outside the preference list forwards the request to
/// the first reachable replica instead of creating this machine.
public struct QuorumWrite: Sendable {
    /// What the node must do next.
    public enum Action: Hashable, Sendable {
        /// Apply the client write to the local copy, then report `onLocalStored` or `onLocalFailure`.
        case storeLocally
        /// Call `onTimeout(now:)` at this instant (nanoseconds on the node's monotonic clock).
        case scheduleTimeout(at: UInt64)
        /// Send this object to each named replica (encode it once); report each answer.
        case send(to: [String], object: VersionedObject)
        /// Answer the client. Emitted exactly once.
        case reply(Outcome)
    }

    /// The answer for the client.
    public enum Outcome: Hashable, Sendable {
        /// `w` replicas stored the write; `acks` in the order they answered (the local replica first).
        /// `object` is the stored version: its context goes back to the client.
        case success(acks: [String], object: VersionedObject)
        /// The write did not reach `w` replicas (HTTP 503); see `WriteFailure`.
        case failure(WriteFailure)
    }

    /// Request id, for the node's bookkeeping and logs.
    public let requestID: UInt64
    /// The preference list, coordinator included, in preference order.
    public let replicas: [String]
    /// The coordinating replica (this node).
    public let coordinator: String
    /// Acknowledgements required.
    public let w: Int
    /// When the write gives up, on the node's monotonic clock.
    public let deadline: UInt64

    /// Replicas that stored the object durably, in the order they answered, late ones included.
    public private(set) var acked: [String] = []
    /// Replicas that reported a failure, with the reason.
    public private(set) var failed: [String: String] = [:]
    /// The object stored locally, once known.
    public private(set) var object: VersionedObject?
    /// Whether the client reply has been emitted.
    public private(set) var hasReplied = false
    /// Whether the deadline passed.
    public private(set) var hasTimedOut = false
    private var started = false

    /// Creates the machine; nothing happens until `start()`.
    /// - Parameters:
    ///   - replicas: The key's preference list (distinct names) containing `coordinator`.
    ///   - w: Acknowledgements required (from `Quorums.resolve`), at least 1.
    ///   - deadline: Monotonic nanoseconds after which `onTimeout` fails the write.
    public init(requestID: UInt64, coordinator: String, replicas: [String], w: Int, deadline: UInt64) {
        self.requestID = requestID
        self.coordinator = coordinator
        self.replicas = replicas
        self.w = max(1, w)
        self.deadline = deadline
    }

    /// Whether nothing more can happen: every replica answered or the deadline passed.
    public var isFinished: Bool {
        hasTimedOut || (hasReplied && pending.isEmpty) || (hasReplied && object == nil)
    }

    /// Replicas that have not answered yet.
    public var pending: [String] {
        replicas.filter { !acked.contains($0) && failed[$0] == nil }
    }

    /// Begins the write. A `w` larger than the preference list fails at once, before anything is stored.
    public mutating func start() -> [Action] {
        guard !started else { return [] }
        started = true
        guard replicas.contains(coordinator) else {
            hasReplied = true
            return [.reply(.failure(.coordinatorNotAReplica(coordinator)))]
        }
        guard w <= replicas.count else {
            hasReplied = true
            let failure = WriteFailure.notEnoughReplicas(
                required: w,
                replicas: replicas.count,
                acked: [],
                failed: [:]
            )
            return [.reply(.failure(failure))]
        }
        return [.storeLocally, .scheduleTimeout(at: deadline)]
    }

    /// The local store succeeded with `object` and is durable: `onLocalApplied` then `onLocalDurable`.
    public mutating func onLocalStored(_ object: VersionedObject) -> [Action] {
        let applied = onLocalApplied(object)
        return applied + onLocalDurable()
    }

    /// The client write was applied locally (appended, not yet durable) with `object` as the result.
    public mutating func onLocalApplied(_ object: VersionedObject) -> [Action] {
        guard started, self.object == nil, failed[coordinator] == nil, !hasTimedOut else { return [] }
        self.object = object
        let others = replicas.filter { $0 != coordinator }
        return others.isEmpty ? [] : [.send(to: others, object: object)]
    }

    /// The local append is durable: the coordinator's own acknowledgement.
    public mutating func onLocalDurable() -> [Action] {
        guard object != nil, pending.contains(coordinator) else { return [] }
        acked.append(coordinator)
        return decide()
    }

    /// The local store failed (disk error, precondition failure, ...). Before `onLocalApplied` nothing was sent
    /// and the write fails; afterwards (the fsync failed) the coordinator counts as a failed replica.
    public mutating func onLocalFailure(reason: String) -> [Action] {
        guard started, failed[coordinator] == nil, !acked.contains(coordinator) else { return [] }
        failed[coordinator] = reason
        if object != nil { return decide() }
        guard !hasReplied else { return [] }
        hasReplied = true
        return [.reply(.failure(.localStoreFailed(reason: reason)))]
    }

    /// A replica stored the object. Duplicates and unknown names are ignored.
    public mutating func onAck(from replica: String) -> [Action] {
        guard object != nil, replica != coordinator, pending.contains(replica) else { return [] }
        acked.append(replica)
        return decide()
    }

    /// A replica failed to store the object (error reply, connection lost, ...).
    public mutating func onFailure(from replica: String, reason: String) -> [Action] {
        guard object != nil, replica != coordinator, pending.contains(replica) else { return [] }
        failed[replica] = reason
        return decide()
    }

    /// The deadline timer fired. Calls before `deadline` are ignored.
    public mutating func onTimeout(now: UInt64) -> [Action] {
        guard started, now >= deadline, !hasTimedOut else { return [] }
        hasTimedOut = true
        guard !hasReplied else { return [] }
        hasReplied = true
        return [.reply(.failure(.timedOut(required: w, acked: acked)))]
    }

    private mutating func decide() -> [Action] {
        guard !hasReplied, let object else { return [] }
        if acked.count >= w {
            hasReplied = true
            return [.reply(.success(acks: acked, object: object))]
        }
        if acked.count + pending.count < w {
            hasReplied = true
            let failure = WriteFailure.notEnoughReplicas(
                required: w,
                replicas: replicas.count,
                acked: acked,
                failed: failed
            )
            return [.reply(.failure(failure))]
        }
        return []
    }
}

/// Why a write did not reach its quorum. `notEnoughReplicas` and `timedOut` are HTTP 503; `localStoreFailed`
/// is what the node makes of its reason (500 for a disk error); `coordinatorNotAReplica` is 500.
public enum WriteFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Too few replicas stored it: some failed, or the preference list is shorter than `w`.
    /// Replicas in `acked` did store the write; it will spread from them.
    case notEnoughReplicas(required: Int, replicas: Int, acked: [String], failed: [String: String])
    /// The deadline passed with fewer than `required` acks. The write may still have been stored (it was
    /// stored by `acked` and may yet be by replicas that did not answer).
    case timedOut(required: Int, acked: [String])
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
