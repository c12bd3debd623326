/// One hint at the node holding it: a write meant for `owner`'s replica of `collection`/`key`.
public struct HintKey: Hashable, Sendable {
    /// The replica the write was meant for.
    public var owner: String
    public var collection: String
    public var key: [UInt8]

    /// Creates a hint key.
    public init(owner: String, collection: String, key: [UInt8]) {
        self.owner = owner
        self.collection = collection
        self.key = key
    }
}

/// The hints a fallback holds, per intended owner, and when to replay them, sans IO.
///
/// The node stores each hint durably (one record per key and owner, later hints for the same key merged into
/// it), then reports it with `onStored`. It calls `onTick(now:up:)` periodically with the owners its failure
/// detector sees up; the queue answers `.replay` for hints to send as replica merges, at most `maxInFlight` per
/// owner at once and `rate` per second. The node reports each answer: `onReplayAcked` once the owner stored the
/// merge durably (the queue answers `.delete`), `onReplayFailed` otherwise (the owner is paused for
/// `retryDelay`). A hint stored again while its replay is in flight gets a new generation: the older replay's
/// acknowledgement does not delete it, the newer bytes are replayed as well. Replay is a merge, so repeating
/// one is harmless.
///
/// Bounds: `admits(bytes:)` refuses a hint that would take the total above `maxBytes`; hints older than
/// `maxAge` are dropped on a tick (`.drop`). Both count in `dropped`; anti-entropy must then repair the key.
public struct HintQueue: Sendable {
    /// Bounds and pace.
    public struct Limits: Sendable, Hashable {
        /// Total bytes of stored hints (object bytes) this node accepts.
        public var maxBytes: Int
        /// Nanoseconds after its newest write after which an unreplayed hint is dropped.
        public var maxAge: UInt64
        /// Replays in flight per owner.
        public var maxInFlight: Int
        /// Replays started per owner per second.
        public var rate: Double
        /// Nanoseconds an owner is left alone after a failed replay.
        public var retryDelay: UInt64

        /// Creates limits; the defaults keep a day of hints up to 1 GiB, replayed at up to 2,000 a second.
        public init(
            maxBytes: Int = 1 << 30, maxAge: UInt64 = 24 * 3_600 * 1_000_000_000, maxInFlight: Int = 32,
            rate: Double = 2_000, retryDelay: UInt64 = 1_000_000_000
        ) {
            self.maxBytes = maxBytes
            self.maxAge = maxAge
            self.maxInFlight = max(1, maxInFlight)
            self.rate = max(1, rate)
            self.retryDelay = retryDelay
        }
    }

    /// What the node must do next.
    public enum Action: Hashable, Sendable {
        /// Send the stored hint to its owner (or the key's current replicas) as a replica merge; report the answer
        /// with this generation.
        case replay(HintKey, generation: UInt64)
        /// The owner stored the hint durably: delete the stored record (if it still holds the bytes replayed).
        case delete(HintKey)
        /// The hint is dropped unreplayed: delete the stored record, log it and count it.
        case drop(HintKey, reason: DropReason)
    }

    /// Why a hint was dropped.
    public enum DropReason: String, Hashable, Sendable {
        /// It waited longer than `maxAge`.
        case expired
    }

    /// The figures of one owner's queue.
    public struct OwnerStats: Hashable, Sendable {
        public var owner: String
        public var count: Int
        public var bytes: Int
        /// Nanoseconds since the oldest hint was stored; 0 without hints.
        public var oldestAge: UInt64
        public var inFlight: Int
    }

    private struct Entry: Sendable {
        var bytes: Int
        var createdAt: UInt64
        var generation: UInt64
        var queued: Bool
        var inFlight: UInt64?
    }

    private struct Owner: Sendable {
        var entries: [HintKey: Entry] = [:]
        /// Keys waiting to be replayed, oldest first; `head` is the next one.
        var queue: [HintKey] = []
        var head = 0
        var inFlight = 0
        var bytes = 0
        var tokens = 0.0
        var lastRefill: UInt64?
        var pausedUntil: UInt64 = 0
    }

    /// The limits the queue runs with.
    public let limits: Limits
    private var owners: [String: Owner] = [:]
    private var nextGeneration: UInt64 = 1
    private var lastExpiry: UInt64 = 0
    /// Bytes of every hint held.
    public private(set) var totalBytes = 0
    /// Hints replayed and deleted since start.
    public private(set) var replayed = 0
    /// Hints dropped (refused when full, or expired) since start.
    public private(set) var dropped = 0

    /// Creates an empty queue.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Hints held.
    public var count: Int { owners.values.reduce(0) { $0 + $1.entries.count } }

    /// Owners with hints held, by name.
    public var ownerNames: [String] { owners.filter { !$0.value.entries.isEmpty }.keys.sorted() }

    /// Whether a new hint of `bytes` fits; a refusal counts as a drop.
    public mutating func admits(bytes: Int) -> Bool {
        guard totalBytes + bytes <= limits.maxBytes else {
            dropped += 1
            return false
        }
        return true
    }

    /// A hint was stored durably with `bytes` object bytes (a new one, or merged into one held). `createdAt` is
    /// when its newest write was merged in (kept across a restart): expiry drops every write the hint holds, so
    /// it counts from the last one.
    public mutating func onStored(_ hint: HintKey, bytes: Int, createdAt: UInt64) {
        let generation = nextGeneration
        nextGeneration += 1
        let grown = modifying(hint.owner) { owner -> Int in
            if var entry = owner.entries[hint] {
                let grown = bytes - entry.bytes
                owner.bytes += grown
                entry.bytes = bytes
                entry.createdAt = max(entry.createdAt, createdAt)
                entry.generation = generation
                if !entry.queued {
                    entry.queued = true
                    owner.queue.append(hint)
                }
                owner.entries[hint] = entry
                return grown
            }
            owner.entries[hint] = Entry(
                bytes: bytes, createdAt: createdAt, generation: generation, queued: true, inFlight: nil)
            owner.queue.append(hint)
            owner.bytes += bytes
            return bytes
        }
        totalBytes += grown
    }

    /// Runs `body` on the owner's queue in place. Copying an `Owner` out of the dictionary and back would copy
    /// its whole table on the first change: once per hint, quadratic in an outage.
    private mutating func modifying<Result>(_ name: String, _ body: (inout Owner) -> Result) -> Result {
        body(&owners[name, default: Owner()])
    }

    /// A periodic tick: drops expired hints and starts replays to the owners in `up`.
    public mutating func onTick(now: UInt64, up: Set<String>) -> [Action] {
        var actions = expire(now: now)
        for name in owners.keys.sorted() where up.contains(name) {
            actions += pump(name, now: now)
        }
        return actions
    }

    /// The owner (or the key's current replicas) stored the replayed hint durably.
    public mutating func onReplayAcked(_ hint: HintKey, generation: UInt64, now: UInt64) -> [Action] {
        guard owners[hint.owner]?.entries[hint]?.inFlight == generation else { return [] }
        let deleted = modifying(hint.owner) { owner -> Int? in
            var entry = owner.entries[hint]!
            owner.inFlight -= 1
            entry.inFlight = nil
            if entry.generation == generation {
                owner.entries[hint] = nil
                owner.bytes -= entry.bytes
                return entry.bytes
            }
            // Stored again while in flight: the newer bytes still have to reach the owner.
            if !entry.queued {
                entry.queued = true
                owner.queue.append(hint)
            }
            owner.entries[hint] = entry
            return nil
        }
        var actions: [Action] = []
        if let deleted {
            totalBytes -= deleted
            replayed += 1
            actions.append(.delete(hint))
        }
        return actions + pump(hint.owner, now: now)
    }

    /// The replay failed (the owner refused it, the connection dropped, it timed out): retry later.
    public mutating func onReplayFailed(_ hint: HintKey, generation: UInt64, now: UInt64) {
        guard owners[hint.owner]?.entries[hint]?.inFlight == generation else { return }
        let retryAt = now + limits.retryDelay
        modifying(hint.owner) { owner in
            var entry = owner.entries[hint]!
            owner.inFlight -= 1
            entry.inFlight = nil
            if !entry.queued {
                entry.queued = true
                owner.queue.append(hint)
            }
            owner.entries[hint] = entry
            owner.pausedUntil = retryAt
        }
    }

    /// Per-owner figures, by owner name.
    public func stats(now: UInt64) -> [OwnerStats] {
        owners.keys.sorted().compactMap { name in
            let owner = owners[name]!
            guard !owner.entries.isEmpty else { return nil }
            let oldest = owner.entries.values.lazy.map(\.createdAt).min() ?? now
            return OwnerStats(
                owner: name, count: owner.entries.count, bytes: owner.bytes,
                oldestAge: now > oldest ? now - oldest : 0, inFlight: owner.inFlight)
        }
    }

    /// The hints held for `owner`, with their sizes and creation times, in replay order.
    public func hints(of owner: String) -> [(hint: HintKey, bytes: Int, createdAt: UInt64)] {
        guard let held = owners[owner] else { return [] }
        return held.entries.sorted { $0.value.createdAt < $1.value.createdAt }.map {
            ($0.key, $0.value.bytes, $0.value.createdAt)
        }
    }

    private mutating func pump(_ name: String, now: UInt64) -> [Action] {
        guard let pausedUntil = owners[name]?.pausedUntil, now >= pausedUntil else { return [] }
        let limits = limits
        return modifying(name) { owner in Self.pump(&owner, limits: limits, now: now) }
    }

    private static func pump(_ owner: inout Owner, limits: Limits, now: UInt64) -> [Action] {
        // Token bucket: `rate` per second, bursts up to one window of in-flight replays.
        let burst = Double(limits.maxInFlight)
        if let last = owner.lastRefill, now > last {
            owner.tokens = min(burst, owner.tokens + Double(now - last) / 1e9 * limits.rate)
        } else if owner.lastRefill == nil {
            owner.tokens = burst
        }
        owner.lastRefill = now
        var actions: [Action] = []
        while owner.inFlight < limits.maxInFlight, owner.tokens >= 1, owner.head < owner.queue.count {
            let hint = owner.queue[owner.head]
            owner.head += 1
            guard var entry = owner.entries[hint], entry.queued else { continue }
            entry.queued = false
            guard entry.inFlight == nil else {
                // Its older generation is still in flight; the answer requeues it.
                owner.entries[hint] = entry
                continue
            }
            entry.inFlight = entry.generation
            owner.entries[hint] = entry
            owner.inFlight += 1
            owner.tokens -= 1
            actions.append(.replay(hint, generation: entry.generation))
        }
        if owner.head == owner.queue.count {
            owner.queue.removeAll(keepingCapacity: true)
            owner.head = 0
        } else if owner.head > 1024, owner.head * 2 > owner.queue.count {
            owner.queue.removeFirst(owner.head)
            owner.head = 0
        }
        return actions
    }

    private mutating func expire(now: UInt64) -> [Action] {
        // A full scan, so at most once a second.
        guard now > limits.maxAge, now >= lastExpiry + 1_000_000_000 else { return [] }
        lastExpiry = now
        let cutoff = now - limits.maxAge
        var actions: [Action] = []
        for name in owners.keys.sorted() {
            let old = owners[name]!.entries.filter { $0.value.createdAt < cutoff && $0.value.inFlight == nil }
            guard !old.isEmpty else { continue }
            let sorted = old.sorted(by: { $0.value.createdAt < $1.value.createdAt })
            modifying(name) { owner in
                for (hint, entry) in sorted {
                    owner.entries[hint] = nil
                    owner.bytes -= entry.bytes
                }
            }
            for (hint, entry) in sorted {
                totalBytes -= entry.bytes
                dropped += 1
                actions.append(.drop(hint, reason: .expired))
            }
        }
        return actions
    }
}

extension HintQueue {
    /// Where a hint for `owner` is replayed. While the owner still replicates the key (as a current replica or a
    /// pending plan's receiver): to the owner and to the plan's receivers, as every write during a plan goes to
    /// them (a receiver may have copied the range from the owner already, and an owner that is leaving drops it).
    /// Once the key has moved: to every current replica and receiver.
    public static func replayTargets(owner: String, replicas: [String], incoming: [String]) -> [String] {
        if replicas.contains(owner) || incoming.contains(owner) { return [owner] + incoming.filter { $0 != owner } }
        return replicas + incoming.filter { !replicas.contains($0) }
    }
}
