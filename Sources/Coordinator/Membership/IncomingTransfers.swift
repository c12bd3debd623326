public import Ring

/// Where a partition's copy stands: the last (collection, key) received, in the order the source sends them.
public struct TransferCursor: Sendable, Hashable {
    public var collection: String
    public var key: [UInt8]

    public init(collection: String, key: [UInt8]) {
        self.collection = collection
        self.key = key
    }
}

/// The receiving side of range transfer: which partitions this node must copy before owners switch, from whom,
/// and how far each copy got.
///
/// The receiver pulls: it asks a source for the records of a partition after its cursor, merges the batch,
/// and asks again from the batch's last key, so an interrupted copy (either side restarted, a connection lost)
/// resumes where the last durable batch ended. A failed pull moves to the next source after a back-off. Pure:
/// the shell carries out the actions and reports batches, failures and ticks.
public struct IncomingTransfers: Sendable {
    public enum Action: Sendable, Equatable {
        /// Ask `from` for `partition`'s records after `after` (nil: from the start).
        case pull(partition: Int, from: String, after: TransferCursor?)
        /// Every partition of plan `planID` is copied: tell the claimant.
        case reportDone(planID: UInt64)
    }

    public enum Phase: Sendable, Equatable {
        case queued
        case active(source: String)
        /// No source answered; tried again at `retryAt`.
        case waiting(retryAt: UInt64)
        case done
    }

    public struct Progress: Sendable, Equatable {
        public var partition: Int
        public var phase: Phase = .queued
        public var cursor: TransferCursor?
        public var keys = 0
        public var bytes = 0
        /// Keys the source still had after the last batch, for a progress estimate.
        public var remaining: Int?
        public var failures = 0
    }

    /// What survives a restart: the plan, the partitions copied and the cursors of the others.
    public struct Checkpoint: Sendable, Equatable {
        public var planID: UInt64
        public var done: [Int]
        public var cursors: [Int: TransferCursor]

        public init(planID: UInt64, done: [Int], cursors: [Int: TransferCursor]) {
            self.planID = planID
            self.done = done
            self.cursors = cursors
        }
    }

    public let name: String
    public let concurrency: Int
    public let retryDelay: UInt64
    /// How long after a plan is first seen its copies start: members that have not heard of the plan yet
    /// write only to the old replicas, and gossip reaches them within about a round.
    public let startDelay: UInt64
    public private(set) var planID: UInt64 = 0
    public private(set) var partitions: [Int: Progress] = [:]
    private var ring: Ring?
    private var down: Set<String> = []
    private var restored: Checkpoint?

    public init(
        name: String, concurrency: Int = 2, retryDelay: UInt64 = 1_000_000_000, startDelay: UInt64 = 0,
        checkpoint: Checkpoint? = nil
    ) {
        self.name = name
        self.concurrency = max(1, concurrency)
        self.retryDelay = retryDelay
        self.startDelay = startDelay
        restored = checkpoint
    }

    public var isDone: Bool { planID != 0 && partitions.values.allSatisfy { $0.phase == .done } }

    public var checkpoint: Checkpoint {
        Checkpoint(
            planID: planID, done: partitions.values.filter { $0.phase == .done }.map(\.partition).sorted(),
            cursors: partitions.values.reduce(into: [:]) { result, progress in
                if progress.phase != .done, let cursor = progress.cursor { result[progress.partition] = cursor }
            })
    }

    /// A new ring (or new liveness): starts the copies of a new plan, forgets a finished or replaced one.
    public mutating func onRing(_ ring: Ring, down: Set<String>, now: UInt64) -> [Action] {
        self.ring = ring
        self.down = down
        let id = ring.planID
        if id != planID {
            planID = id
            partitions = [:]
            guard id != 0 else { return [] }
            let restored = self.restored?.planID == id ? self.restored : nil
            let done = Set(restored?.done ?? [])
            for partition in ring.gains(of: name) {
                var progress = Progress(partition: partition)
                if startDelay > 0 { progress.phase = .waiting(retryAt: now + startDelay) }
                if done.contains(partition) { progress.phase = .done }
                progress.cursor = restored?.cursors[partition]
                partitions[partition] = progress
            }
            self.restored = nil
        }
        guard id != 0 else { return [] }
        return schedule(now: now)
    }

    /// A batch of `partition` is merged and durable; `last` is its last record, `finished` says the source had
    /// nothing after it.
    public mutating func onBatch(
        partition: Int, last: TransferCursor?, finished: Bool, keys: Int, bytes: Int, remaining: Int, now: UInt64
    ) -> [Action] {
        guard var progress = partitions[partition], case .active = progress.phase else { return [] }
        if let last { progress.cursor = last }
        progress.keys += keys
        progress.bytes += bytes
        progress.remaining = remaining
        progress.failures = 0
        if finished {
            progress.phase = .done
            partitions[partition] = progress
            return schedule(now: now)
        }
        partitions[partition] = progress
        guard case .active(let source) = progress.phase else { return [] }
        return [.pull(partition: partition, from: source, after: progress.cursor)]
    }

    /// A pull of `partition` failed (source down, refused, timed out, answered with an error).
    public mutating func onFailure(partition: Int, now: UInt64) -> [Action] {
        guard var progress = partitions[partition], case .active = progress.phase else { return [] }
        progress.failures += 1
        progress.phase = .waiting(retryAt: now + retryDelay)
        partitions[partition] = progress
        return schedule(now: now)
    }

    /// Time passed: retries partitions whose back-off is over; repeats the done report until the ring shows it.
    public mutating func onTick(now: UInt64) -> [Action] {
        guard planID != 0 else { return [] }
        var actions = schedule(now: now)
        if isDone, !partitions.isEmpty, let ring, !ring.transferred.contains(name),
            !actions.contains(.reportDone(planID: planID))
        {
            actions.append(.reportDone(planID: planID))
        }
        return actions
    }

    private mutating func schedule(now: UInt64) -> [Action] {
        guard let ring else { return [] }
        var actions: [Action] = []
        var active = partitions.values.filter { if case .active = $0.phase { true } else { false } }.count
        for partition in partitions.keys.sorted() where active < concurrency {
            var progress = partitions[partition]!
            switch progress.phase {
            case .queued: break
            case .waiting(let retryAt) where retryAt <= now: break
            default: continue
            }
            let sources = ring.sources(partition: partition, for: name).filter { !down.contains($0) }
            guard !sources.isEmpty else {
                progress.phase = .waiting(retryAt: now + retryDelay)
                partitions[partition] = progress
                continue
            }
            let source = sources[progress.failures % sources.count]
            progress.phase = .active(source: source)
            partitions[partition] = progress
            actions.append(.pull(partition: partition, from: source, after: progress.cursor))
            active += 1
        }
        if actions.isEmpty, isDone, !partitions.isEmpty, !ring.transferred.contains(name) {
            actions.append(.reportDone(planID: planID))
        }
        return actions
    }
}
