/// Coordinates one client read, sans IO, including the read-repair decision.
///
/// Flow (the node drives it):
/// 1. `start()` → `.fetch(from:)` naming the first `fanout` replicas of the preference order (the node puts
///    its own copy first and the fastest peers next), `.scheduleTimeout(at:)`, and, while replicas remain
///    unasked, `.scheduleSpeculation(after:)`. A failure, or the speculation timer firing before the reply, asks
///    the next unasked replica, so one slow or dead replica neither fails nor stalls the read.
/// 2. Each answer goes to `onReply(from:_:)`: the replica's object (tombstones included), `.notFound`, or
///    `.failure`. Once `r` replicas answered (failures do not count) one `.reply(.success(_:))` carries the
///    merge (`sync`) of every answer so far; it fails once `r` can no longer be reached or at the deadline.
/// 3. The machine keeps collecting until every replica asked answered or the deadline passed, then emits
///    `.repair(to:object:)` once, naming the replicas that answered with something older than the final merge
///    (a `.notFound` included, failures and silent replicas excluded), and is finished. The node sends the
///    object to them in the background (they `ReplicaStore.merge` it).
///
/// The reply's `stale` list names replicas already known to need repair when the reply left; each of them is
/// in the final `.repair` too, because the merge only grows. The node reports it as `X-Dhrt-Repaired`.
/// Replicas never asked are never repaired by this read: asking fewer than all is the trade of speed for
/// repair coverage that `fanout` makes (the node asks every replica on a sampled share of reads).
public struct QuorumRead: Sendable {
    /// A replica's answer to a fetch.
    public enum Reply: Hashable, Sendable {
        /// The replica's stored object (possibly all tombstones).
        case object(VersionedObject)
        /// The replica has no record of the key.
        case notFound
        /// The replica could not answer (error reply, connection lost, corrupt record).
        case failure(String)
    }

    /// What the node must do next.
    public enum Action: Hashable, Sendable {
        /// Fetch the key from each named replica; report each answer with `onReply`.
        case fetch(from: [String])
        /// Call `onTimeout(now:)` at this instant (nanoseconds on the node's monotonic clock).
        case scheduleTimeout(at: UInt64)
        /// Call `onSpeculation()` after this many nanoseconds: an asked replica is slower than usual by then.
        case scheduleSpeculation(after: UInt64)
        /// Answer the client. Emitted exactly once.
        case reply(Outcome)
        /// Send `object` to each named replica, which merges it in. Emitted at most once, when finished.
        case repair(to: [String], object: VersionedObject)
    }

    /// The answer for the client.
    public enum Outcome: Hashable, Sendable {
        /// `r` replicas answered.
        case success(ReadResult)
        /// Fewer than `r` replicas answered (HTTP 503).
        case failure(ReadFailure)
    }

    /// Request id, for the node's bookkeeping and logs.
    public let requestID: UInt64
    /// The preference list, in preference order.
    public let replicas: [String]
    /// Answers required.
    public let r: Int
    /// When the read gives up, on the node's monotonic clock.
    public let deadline: UInt64
    /// How the collection reconciles concurrent writes.
    public let resolution: ConflictResolution
    /// Replicas asked at the start (at least `r`); the rest are asked only on failure or speculation.
    public let fanout: Int
    /// How long after a fetch the next unasked replica is asked if the reply is still missing; nil never.
    public let speculationDelay: UInt64?

    /// Every answer received, by replica.
    public private(set) var replies: [String: Reply] = [:]
    /// Replicas that answered (object or not found), in order of arrival.
    public private(set) var answered: [String] = []
    /// The merge of every object received so far.
    public private(set) var merged = VersionedObject()
    /// Whether the client reply has been emitted.
    public private(set) var hasReplied = false
    /// Whether the repair decision has been taken; nothing happens afterwards.
    public private(set) var isFinished = false
    /// Replicas named in the final `.repair` action.
    public private(set) var repaired: [String] = []
    /// Replicas asked so far, in order.
    public private(set) var asked: [String] = []
    private var started = false

    /// Creates the machine; nothing happens until `start()`.
    /// - Parameters:
    ///   - replicas: The key's preference list (distinct names).
    ///   - r: Answers required (from `Quorums.resolve`), at least 1.
    ///   - deadline: Monotonic nanoseconds after which `onTimeout` ends the read.
    ///   - fanout: Replicas to ask at once, raised to `r`; nil asks every replica (full read repair).
    ///   - speculationDelay: Nanoseconds to wait for an asked replica before asking one more; nil never.
    public init(
        requestID: UInt64,
        replicas: [String],
        r: Int,
        deadline: UInt64,
        resolution: ConflictResolution = .siblings,
        fanout: Int? = nil,
        speculationDelay: UInt64? = nil
    ) {
        self.requestID = requestID
        self.replicas = replicas
        self.r = max(1, r)
        self.deadline = deadline
        self.resolution = resolution
        self.fanout = min(replicas.count, max(self.r, fanout ?? replicas.count))
        self.speculationDelay = speculationDelay
    }

    /// Replicas asked that have not answered yet.
    public var pending: [String] { asked.filter { replies[$0] == nil } }

    /// Replicas not asked yet, in preference order.
    public var unasked: [String] { replicas.filter { !asked.contains($0) } }

    /// Begins the read. An `r` larger than the preference list fails at once, without fetching.
    public mutating func start() -> [Action] {
        guard !started else { return [] }
        started = true
        guard r <= replicas.count else {
            hasReplied = true
            isFinished = true
            return [
                .reply(.failure(.notEnoughReplicas(required: r, replicas: replicas.count, answered: [], failed: [:])))
            ]
        }
        asked = Array(replicas.prefix(fanout))
        var actions: [Action] = [.fetch(from: asked), .scheduleTimeout(at: deadline)]
        if let delay = speculationDelay, asked.count < replicas.count {
            actions.append(.scheduleSpeculation(after: delay))
        }
        return actions
    }

    /// The speculation timer fired: with the reply still missing, ask the next unasked replica and arm the
    /// timer again while others remain.
    public mutating func onSpeculation() -> [Action] {
        guard started, !hasReplied, !isFinished, let delay = speculationDelay, let next = unasked.first else {
            return []
        }
        asked.append(next)
        var actions: [Action] = [.fetch(from: [next])]
        if !unasked.isEmpty { actions.append(.scheduleSpeculation(after: delay)) }
        return actions
    }

    /// A replica answered. Duplicates and unknown names are ignored.
    public mutating func onReply(from replica: String, _ reply: Reply) -> [Action] {
        guard started, !isFinished, asked.contains(replica), replies[replica] == nil else { return [] }
        replies[replica] = reply
        var actions: [Action] = []
        switch reply {
        case .object(let object):
            // The first answer is the merge so far: a stored object is already in sync with itself.
            if merged.isEmpty && resolution == .siblings {
                merged = object
            } else {
                merged.merge(object, resolution: resolution)
            }
            answered.append(replica)
        case .notFound:
            answered.append(replica)
        case .failure:
            // Keep `r` within reach: a failed replica is replaced by the next unasked one.
            if !hasReplied, let next = unasked.first {
                asked.append(next)
                actions.append(.fetch(from: [next]))
            }
        }
        actions += decide()
        if pending.isEmpty { actions += finish() }
        return actions
    }

    /// The deadline timer fired. Calls before `deadline` are ignored.
    public mutating func onTimeout(now: UInt64) -> [Action] {
        guard started, !isFinished, now >= deadline else { return [] }
        var actions: [Action] = []
        if !hasReplied {
            hasReplied = true
            actions.append(.reply(.failure(.timedOut(required: r, answered: answered))))
        }
        return actions + finish()
    }

    private mutating func decide() -> [Action] {
        guard !hasReplied else { return [] }
        if answered.count >= r {
            hasReplied = true
            return [.reply(.success(ReadResult(object: merged, answered: answered, stale: staleReplicas())))]
        }
        if answered.count + pending.count + unasked.count < r {
            hasReplied = true
            let failure = ReadFailure.notEnoughReplicas(
                required: r,
                replicas: replicas.count,
                answered: answered,
                failed: failures
            )
            return [.reply(.failure(failure))]
        }
        return []
    }

    private mutating func finish() -> [Action] {
        isFinished = true
        repaired = staleReplicas()
        return repaired.isEmpty ? [] : [.repair(to: repaired, object: merged)]
    }

    /// Answered replicas whose copy lacks something the merge holds.
    private func staleReplicas() -> [String] {
        answered.filter { replica in
            switch replies[replica] {
            case .object(let object): !object.descends(merged, resolution: resolution)
            case .notFound: !merged.isEmpty
            default: false
            }
        }
    }

    private var failures: [String: String] {
        replies.compactMapValues { reply in
            if case .failure(let reason) = reply { reason } else { nil }
        }
    }
}

/// A successful read.
public struct ReadResult: Hashable, Sendable {
    /// The merge of every answer received before replying. `isNotFound` → 404 (its `context` may still be
    /// non-empty after a delete and can be given to the client); `hasConflict` → 300 with `liveSiblings`;
    /// otherwise the single live sibling. Its `context` is the client's `X-Dhrt-Context`.
    public var object: VersionedObject
    /// Replicas that answered before the reply, in order of arrival (`X-Dhrt-Acks`).
    public var answered: [String]
    /// Answered replicas already known to be stale; all of them will be repaired (`X-Dhrt-Repaired`).
    public var stale: [String]

    /// Creates a result.
    public init(object: VersionedObject, answered: [String], stale: [String]) {
        self.object = object
        self.answered = answered
        self.stale = stale
    }
}

/// Why a read did not reach its quorum (HTTP 503).
public enum ReadFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Too many replicas failed, or the preference list is shorter than `r`.
    case notEnoughReplicas(required: Int, replicas: Int, answered: [String], failed: [String: String])
    /// The deadline passed with fewer than `required` answers.
    case timedOut(required: Int, answered: [String])

    /// A sentence for the HTTP error detail.
    public var description: String {
        switch self {
        case .notEnoughReplicas(let required, let replicas, let answered, let failed):
            let failures = failed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            let cause = failures.isEmpty ? "" : " (failed: \(failures.joined(separator: "; ")))"
            return "read needs \(required) of \(replicas) replicas but only \(answered.count) answered\(cause)"
        case .timedOut(let required, let answered):
            return "read timed out with \(answered.count) of \(required) required answers"
        }
    }
}
