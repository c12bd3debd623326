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
/// resumes where the last durable batch ended. Pure: the shell carries out the actions and reports batches,
/// failures and ticks.
///
/// Which sources: when the plan takes one replica out of the partition's list, that replica hands the range
/// over alone, since the receiver then holds exactly what it held and no acknowledged write loses a copy. When
/// it takes out several (a write may have missed any one of them), or the loser is down or fails, the receiver
/// copies from every current replica in turn (merging versions), so that whatever a write quorum stored
/// reaches it. A failed pull is retried after a back-off. A source of a copy from several replicas is never
/// skipped, down or not: without the loser, a write acknowledged by two replicas may be on one keeper alone.
/// Such a copy waits for the source to return and says so (`waitingFor`); force-removing or replacing the dead
/// member re-plans it.
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
        /// The replicas this partition is copied from, one after another; empty until the copy starts.
        public var sources: [String] = []
        /// Which of `sources` is being copied.
        public var sourceIndex = 0
        public var cursor: TransferCursor?
        public var keys = 0
        public var bytes = 0
        /// Keys the source still had after the last batch, for a progress estimate.
        public var remaining: Int?
        public var failures = 0
        /// The down source this copy waits for ("" when the partition has no source at all); nil otherwise.
        public var waitingFor: String?
    }

    /// What survives a restart: the plan, the partitions copied, and where the others stand.
    public struct Checkpoint: Sendable, Equatable {
        public struct Position: Sendable, Equatable {
            public var sources: [String]
            public var sourceIndex: Int
            public var cursor: TransferCursor?

            public init(sources: [String], sourceIndex: Int, cursor: TransferCursor?) {
                self.sources = sources
                self.sourceIndex = sourceIndex
                self.cursor = cursor
            }
        }

        public var planID: UInt64
        public var done: [Int]
        public var positions: [Int: Position]

        public init(planID: UInt64, done: [Int], positions: [Int: Position]) {
            self.planID = planID
            self.done = done
            self.positions = positions
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
    /// `ring.future`, kept because building it rebuilds a preference table.
    private var future: Ring?
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
            positions: partitions.values.reduce(into: [:]) { result, progress in
                guard progress.phase != .done, !progress.sources.isEmpty else { return }
                result[progress.partition] = .init(
                    sources: progress.sources, sourceIndex: progress.sourceIndex, cursor: progress.cursor)
            })
    }

    /// A new ring (or new liveness): starts the copies of a new plan, forgets a finished or replaced one.
    public mutating func onRing(_ ring: Ring, down: Set<String>, now: UInt64) -> [Action] {
        if ring != self.ring {
            self.ring = ring
            future = ring.future
        }
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
                if let position = restored?.positions[partition] {
                    progress.sources = position.sources
                    progress.sourceIndex = position.sourceIndex
                    progress.cursor = position.cursor
                }
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
        guard finished else {
            partitions[partition] = progress
            return [.pull(partition: partition, from: progressSource(progress), after: progress.cursor)]
        }
        // This source is copied; the next one starts from the beginning (or waits, if it is down).
        if progress.sourceIndex + 1 < progress.sources.count {
            progress.sourceIndex += 1
            progress.cursor = nil
            progress.phase = .queued
            partitions[partition] = progress
            return schedule(now: now)
        }
        progress.phase = .done
        partitions[partition] = progress
        return schedule(now: now)
    }

    /// A pull of `partition` failed (source down, refused, timed out, answered with an error). A handover from
    /// the losing replica turns into a copy from every other replica; otherwise the same source is retried.
    public mutating func onFailure(partition: Int, now: UInt64) -> [Action] {
        guard var progress = partitions[partition], case .active = progress.phase else { return [] }
        progress.failures += 1
        if let ring { fallBackToKeepingReplicas(&progress, ring: ring, partition: partition) }
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

    /// A handover from the losing replica alone becomes a copy from every replica that keeps the range, from the
    /// start, so that no acknowledged write loses a copy when the loser cannot hand over.
    private func fallBackToKeepingReplicas(_ progress: inout Progress, ring: Ring, partition: Int) {
        guard progress.sources.count == 1, let others = otherReplicas(ring, partition: partition),
            others != progress.sources
        else { return }
        progress.sources = others
        progress.sourceIndex = 0
        progress.cursor = nil
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
            if progress.sources.isEmpty { progress.sources = initialSources(ring, partition: partition) }
            if !progress.sources.isEmpty, down.contains(progressSource(progress)) {
                // A handover from a down loser becomes a copy from the others.
                fallBackToKeepingReplicas(&progress, ring: ring, partition: partition)
            }
            guard !progress.sources.isEmpty, !down.contains(progressSource(progress)) else {
                progress.waitingFor = progress.sources.isEmpty ? "" : progressSource(progress)
                progress.phase = .waiting(retryAt: now + retryDelay)
                partitions[partition] = progress
                continue
            }
            progress.waitingFor = nil
            let source = progressSource(progress)
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

    private func progressSource(_ progress: Progress) -> String { progress.sources[progress.sourceIndex] }

    /// The replica that loses the range, alone when the plan takes out exactly one and it is not down; else
    /// every current replica, losers first: with two losers, a write acknowledged without one of them is
    /// still on the other, and must reach the receiver.
    private func initialSources(_ ring: Ring, partition: Int) -> [String] {
        let future = future ?? ring.future
        let losing = Set(ring.preferenceList(partition: partition).map(\.name))
            .subtracting(future.preferenceList(partition: partition).map(\.name))
        let all = ring.sources(partition: partition, for: name, future: future)
        let losers = all.filter(losing.contains)
        if losers.count == 1, !down.contains(losers[0]) { return losers }
        if losers.count > 1 { return all }
        return otherReplicas(ring, partition: partition) ?? []
    }

    /// The current replicas that keep the range (not this node, not members that left): together they hold
    /// every write a quorum acknowledged. Every current replica when none keeps it.
    private func otherReplicas(_ ring: Ring, partition: Int) -> [String]? {
        let future = future ?? ring.future
        let all = ring.sources(partition: partition, for: name, future: future)
        let keeping = Set(future.preferenceList(partition: partition).map(\.name))
        let others = all.filter(keeping.contains)
        if !others.isEmpty { return others }
        return all.isEmpty ? nil : all
    }
}
