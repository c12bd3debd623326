/// Coordinates one client write at the coordinating replica, sans IO, with a sloppy quorum.
///
/// Flow (the node drives it):
/// 1. `start()` → `.storeLocally` and `.scheduleTimeout(at:)` (and `.scheduleHandoff(at:)` when given). The node
///    applies the client write to its own stored copy atomically (`ReplicaStore.coordinate`) and appends it, then
///    calls `onLocalApplied(_:)` with the resulting object (or `onLocalFailure(reason:)`), and `onLocalDurable()`
///    once its append is durable. `onLocalStored(_:)` is both at once.
/// 2. `onLocalApplied` → `.send(to:object:)` naming the other replicas, so that they store in parallel with the
///    local fsync; the node sends the object to each (they `ReplicaStore.merge` it) and reports `onAck(from:)` /
///    `onFailure(from:reason:)`. The coordinator counts towards `w` only once durable.
/// 3. Sloppy quorum: a primary judged down (`down`, when a fallback is free), one that fails, or one still silent
///    at the hand-off instant (`onHandoff(now:)`) is stood in for by the next free fallback:
///    `.sendHint(to:owner:object:)`; the fallback stores the object as a hint for the owner and its ack fills
///    the owner's place towards `w`. A failed fallback is replaced by the next one. `pw` primaries (not
///    fallbacks) must ack as well.
/// 4. Exactly one `.reply(_:)` comes out over the machine's life: success once `w` places (the local store
///    included) are filled and `pw` primaries acked, failure once that can no longer happen or at the deadline.
///    Late acknowledgements are still recorded (`acked`) but never produce a second reply.
/// 5. `isFinished` turns true when every replica answered or the deadline passed; the node then drops it.
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
        /// Call `onHandoff(now:)` at this instant: silent primaries then get a fallback.
        case scheduleHandoff(at: UInt64)
        /// Send this object to each named replica (encode it once); report each answer.
        case send(to: [String], object: VersionedObject)
        /// Send this object to the fallback `to` as a hint for `owner`; report its answer as a replica's.
        case sendHint(to: String, owner: String, object: VersionedObject)
        /// Answer the client. Emitted exactly once.
        case reply(Outcome)
    }

    /// The answer for the client.
    public enum Outcome: Hashable, Sendable {
        /// `w` replicas stored the write; `acks` in the order they answered (the local replica first), fallbacks
        /// included (see `hinted`). `object` is the stored version: its context goes back to the client.
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
    /// Acknowledgements required (places filled, by a primary or its fallback).
    public let w: Int
    /// Primaries that must ack themselves (`X-Dhrt-PW`); 0 lets fallbacks fill every place but the coordinator's.
    public let pw: Int
    /// Members of `replicas` that gain the key in a pending plan: they count towards `w`, not towards `pw`.
    public let incoming: Set<String>
    /// Members of `replicas` that lose the key in the pending plan.
    public let leaving: Set<String>
    /// When the write gives up, on the node's monotonic clock.
    public let deadline: UInt64
    /// When silent primaries get a fallback; nil waits for failures only.
    public let handoffAt: UInt64?

    /// Replicas and fallbacks that stored the object durably, in the order they answered, late ones included.
    public private(set) var acked: [String] = []
    /// Replicas and fallbacks that reported a failure (or were judged down), with the reason.
    public private(set) var failed: [String: String] = [:]
    /// Fallbacks sent a hint, and the primary each stands in for, in the order they were chosen.
    public private(set) var standIns: [(fallback: String, owner: String)] = []
    /// The object stored locally, once known.
    public private(set) var object: VersionedObject?
    /// Whether the client reply has been emitted.
    public private(set) var hasReplied = false
    /// Whether the deadline passed.
    public private(set) var hasTimedOut = false
    private var started = false
    private var freeFallbacks: [String]
    private let down: Set<String>

    /// Creates the machine; nothing happens until `start()`.
    /// - Parameters:
    ///   - replicas: The key's preference list (distinct names) containing `coordinator`.
    ///   - w: Acknowledgements required (from `Quorums.resolve`), at least 1.
    ///   - deadline: Monotonic nanoseconds after which `onTimeout` fails the write.
    ///   - fallbacks: Members after the preference list in ring order, none of them in `replicas`.
    ///   - down: Primaries the failure detector judges down: skipped for a fallback if one is free.
    ///   - pw: Primaries that must ack themselves.
    ///   - handoffAt: When primaries that have not answered get a fallback too.
    ///   - incoming: Members of `replicas` that are not primaries yet (a pending plan's receivers).
    ///   - leaving: Members of `replicas` that the pending plan takes the key from.
    ///
    /// With a plan pending, `w` places must be filled in both lists: the current one (`replicas` but `incoming`)
    /// and the one after the plan (`replicas` but `leaving`), so that the write keeps `w` copies whether or not
    /// the owners switch, and a dead receiver fails only the writes whose next list cannot reach `w` without it.
    public init(
        requestID: UInt64, coordinator: String, replicas: [String], w: Int, deadline: UInt64,
        fallbacks: [String] = [], down: Set<String> = [], pw: Int = 0, handoffAt: UInt64? = nil,
        incoming: Set<String> = [], leaving: Set<String> = []
    ) {
        self.incoming = incoming
        self.leaving = leaving
        self.requestID = requestID
        self.coordinator = coordinator
        self.replicas = replicas
        self.w = max(1, w)
        self.pw = max(0, pw)
        self.deadline = deadline
        self.handoffAt = handoffAt
        self.freeFallbacks = fallbacks.filter { !replicas.contains($0) && !down.contains($0) }
        self.down = down
    }

    /// Whether nothing more can happen: every replica answered or the deadline passed.
    public var isFinished: Bool {
        hasTimedOut || (hasReplied && object == nil)
            || (hasReplied && !replicas.contains(where: isPending) && !standIns.contains { isPending($0.fallback) })
    }

    /// Replicas and fallbacks that have not answered yet.
    public var pending: [String] {
        (replicas + standIns.map(\.fallback)).filter { !acked.contains($0) && failed[$0] == nil }
    }

    /// `pending.contains(name)` without building the list: this runs several times per write.
    private func isPending(_ name: String) -> Bool {
        (replicas.contains(name) || standIns.contains { $0.fallback == name }) && !acked.contains(name)
            && failed[name] == nil
    }

    /// Fallbacks that stored the write, each with the primary it stands in for.
    public var hinted: [(fallback: String, owner: String)] {
        standIns.filter { acked.contains($0.fallback) }
    }

    /// Begins the write. A `w` or `pw` larger than the preference list, or a `pw` above the primaries not judged
    /// down, fails at once, before anything is stored.
    public mutating func start() -> [Action] {
        guard !started else { return [] }
        started = true
        guard replicas.contains(coordinator) else {
            hasReplied = true
            return [.reply(.failure(.coordinatorNotAReplica(coordinator)))]
        }
        guard w <= replicas.count - max(incoming.count, leaving.count), pw <= replicas.count - incoming.count else {
            hasReplied = true
            let failure = WriteFailure.notEnoughReplicas(
                required: max(w, pw), replicas: replicas.count, acked: [], failed: [:])
            return [.reply(.failure(failure))]
        }
        // Like Riak's pw: with too few primaries up the write is refused before anything is stored.
        let upPrimaries = replicas.filter { isPrimary($0) && ($0 == coordinator || !down.contains($0)) }.count
        guard pw <= upPrimaries else {
            hasReplied = true
            return [.reply(.failure(.notEnoughPrimaries(required: pw, acked: [])))]
        }
        var actions: [Action] = [.storeLocally, .scheduleTimeout(at: deadline)]
        if let handoffAt, handoffAt < deadline { actions.append(.scheduleHandoff(at: handoffAt)) }
        return actions
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
        var others: [String] = []
        var hints: [Action] = []
        for name in replicas where name != coordinator {
            if down.contains(name), !freeFallbacks.isEmpty {
                failed[name] = "judged down by the failure detector"
                hints += standIn(for: name)
            } else {
                others.append(name)
            }
        }
        return (others.isEmpty ? [] : [.send(to: others, object: object)]) + hints + decide()
    }

    /// The local append is durable: the coordinator's own acknowledgement.
    public mutating func onLocalDurable() -> [Action] {
        guard object != nil, isPending(coordinator) else { return [] }
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

    /// A replica or fallback stored the object. Duplicates and unknown names are ignored.
    public mutating func onAck(from replica: String) -> [Action] {
        guard object != nil, replica != coordinator, isPending(replica) else { return [] }
        acked.append(replica)
        return decide()
    }

    /// A replica or fallback failed to store the object (error reply, connection lost, ...): its place goes to
    /// the next free fallback.
    public mutating func onFailure(from replica: String, reason: String) -> [Action] {
        guard object != nil, replica != coordinator, isPending(replica) else { return [] }
        failed[replica] = reason
        let owner = standIns.first { $0.fallback == replica }?.owner ?? replica
        let hints = isCovered(owner) ? [] : standIn(for: owner)
        return hints + decide()
    }

    /// The hand-off instant passed: every primary that has not answered gets a fallback as well (if free); its
    /// own late answer still counts.
    public mutating func onHandoff(now: UInt64) -> [Action] {
        guard let handoffAt, now >= handoffAt, object != nil, !hasTimedOut else { return [] }
        var actions: [Action] = []
        for name in replicas where name != coordinator && isPending(name) {
            if !standIns.contains(where: { $0.owner == name }) { actions += standIn(for: name) }
        }
        return actions + decide()
    }

    /// The deadline timer fired. Calls before `deadline` are ignored.
    public mutating func onTimeout(now: UInt64) -> [Action] {
        guard started, now >= deadline, !hasTimedOut else { return [] }
        hasTimedOut = true
        guard !hasReplied else { return [] }
        hasReplied = true
        return [.reply(.failure(.timedOut(required: w, acked: acked)))]
    }

    /// Sends the owner's place to the next free fallback, if any.
    private mutating func standIn(for owner: String) -> [Action] {
        // Past the deadline the write has been answered for; a late failure asks nobody new.
        guard let object, !freeFallbacks.isEmpty, !hasTimedOut else { return [] }
        let fallback = freeFallbacks.removeFirst()
        standIns.append((fallback, owner))
        return [.sendHint(to: fallback, owner: owner, object: object)]
    }

    /// Whether the owner's place is filled or still may be by someone already asked.
    private func isCovered(_ owner: String) -> Bool {
        isFilled(owner) || isPending(owner) || standIns.contains { $0.owner == owner && isPending($0.fallback) }
    }

    private func isPrimary(_ name: String) -> Bool { !incoming.contains(name) }

    private func isFilled(_ owner: String) -> Bool {
        acked.contains(owner) || standIns.contains { $0.owner == owner && acked.contains($0.fallback) }
    }

    /// Places filled, and places that can still be filled, among the members of `replicas` that `inList` keeps.
    private func places(_ inList: (String) -> Bool) -> (filled: Int, possible: Int) {
        var (filled, open, uncovered) = (0, 0, 0)
        for name in replicas where inList(name) {
            if isFilled(name) {
                filled += 1
            } else if isCovered(name) {
                open += 1
            } else {
                uncovered += 1
            }
        }
        return (filled, filled + open + min(uncovered, freeFallbacks.count))
    }

    private mutating func decide() -> [Action] {
        guard !hasReplied, let object else { return [] }
        let current = places(isPrimary)
        let next = incoming.isEmpty && leaving.isEmpty ? current : places { !leaving.contains($0) }
        let primaries = replicas.count { isPrimary($0) && acked.contains($0) }
        if current.filled >= w, next.filled >= w, primaries >= pw {
            hasReplied = true
            return [.reply(.success(acks: acked, object: object))]
        }
        if current.possible < w || next.possible < w {
            hasReplied = true
            let failure = WriteFailure.notEnoughReplicas(
                required: w, replicas: replicas.count, acked: acked, failed: failed)
            return [.reply(.failure(failure))]
        }
        if primaries + replicas.count(where: { isPrimary($0) && isPending($0) }) < pw {
            hasReplied = true
            let acked = replicas.filter { isPrimary($0) && self.acked.contains($0) }
            return [.reply(.failure(.notEnoughPrimaries(required: pw, acked: acked)))]
        }
        return []
    }
}
