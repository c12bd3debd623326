import HeapModule
import Ring
import TestSupport

@testable import Coordinator

/// A whole cluster's membership over a seeded network: ring changes through the metadata log (`MetadataLog`,
/// voters by `RingVoters`), gossip of committed rings, the failure detector, receivers copying ranges
/// (`IncomingTransfers`), quorum writes and reads run by the node's own `WriteCoordination`/`ReadCoordination`
/// to current and incoming replicas with epoch fencing and read repair, network partitions, crashes and
/// restarts, and one plan aborted. Messages may be lost or delivered twice; every node runs on its own skewed clock. Everything but the network and the stores is the product's own code; what a
/// node synced to disk (ring, log state, the store's synced part, transfer checkpoint) survives its crashes,
/// and what group commit had not synced yet is lost.
final class MembershipSimulation: @unchecked Sendable {
    struct Event: Comparable {
        var time: UInt64
        var sequence: Int
        var action: () -> Void

        static func < (a: Event, b: Event) -> Bool { (a.time, a.sequence) < (b.time, b.sequence) }
        static func == (a: Event, b: Event) -> Bool { (a.time, a.sequence) == (b.time, b.sequence) }
    }

    final class SimNode: @unchecked Sendable {
        let name: String
        var ring: Ring?
        var alive = true
        var detector = FailureDetector()
        var transfers: IncomingTransfers
        var checkpoint: IncomingTransfers.Checkpoint?
        var log: MetadataLog?
        /// The log state last persisted: all a crash leaves of it.
        var disk: MetadataState?
        /// Receivers that reported their copies done to this node, by plan.
        var reports: [UInt64: Set<String>] = [:]
        /// key → the versioned object stored here, as reads see it.
        var store: [Int: VersionedObject] = [:]
        /// What of `store` group commit has synced: all a crash leaves of it.
        var synced: [Int: VersionedObject] = [:]
        /// Keys written since the last sync, and who waits for it.
        var dirty: Set<Int> = []
        var syncWaiters: [() -> Void] = []
        var syncScheduled = false
        /// Hints held for other owners, their synced part and the ones written since the last sync.
        var hints: [HintKey: VersionedObject] = [:]
        var syncedHints: [HintKey: VersionedObject] = [:]
        var dirtyHints: Set<HintKey> = []
        var hintQueue = HintQueue(limits: MembershipSimulation.hintLimits)
        /// Bumped by every crash: answers and timers meant for an earlier life are dropped.
        var incarnation = 0
        var stableSince: (epoch: UInt64, at: UInt64) = (0, 0)
        /// The node's own clock: how fast it runs against true time (0.9-1.1) and where it started, so that
        /// timeouts, the detector, transfer retries, drop grace and write timestamps all run on skewed clocks.
        let clockRate: Double
        let clockOffset: UInt64

        init(name: String, clockRate: Double, clockOffset: UInt64) {
            self.name = name
            self.clockRate = clockRate
            self.clockOffset = clockOffset
            transfers = MembershipSimulation.transfers(name, checkpoint: nil)
        }

        /// The actor id of this life's writes: a new one after every crash, as `ActorIdentity` gives a node
        /// restarted after a kill.
        var actor: String { "\(name)~\(incarnation)" }
    }

    /// A membership change the operator asks for, retried until the committed ring shows it.
    struct Wanted {
        var change: RingChange
        var after: UInt64
    }

    static let ms: UInt64 = 1_000_000
    static let settings = MetadataLog.Settings(electionTimeout: 600 * ms...1_200 * ms, heartbeatInterval: 100 * ms)
    let partitions = 16
    let keys = 120
    var now: UInt64 = 0
    var random: SeededGenerator
    var nodes: [String: SimNode] = [:]
    var queue = Heap<Event>()
    var sequence = 0
    var nextValue = 0
    /// Writes acknowledged to the client: the key, the dot the write made, when, and whether a fallback's hint
    /// was among the acknowledgements (sloppy quorum: a read of the primaries may then miss it until the replay).
    var acked: [(key: Int, dot: Dot, value: Int, at: UInt64, sloppy: Bool)] = []
    /// Reads answered to the client: the key, when it started, what it returned.
    var reads: [(key: Int, startedAt: UInt64, object: VersionedObject)] = []
    var writesEnabled = true
    var faultsEnabled = true
    let dropRate: Double
    /// Chance that a message arrives twice (a retried request): receivers must be idempotent, callers take
    /// the first answer.
    let duplicateRate: Double
    /// Side of each node while the network is split; nil when whole.
    var sides: [String: Int]? = nil
    /// While split: whether only messages from side 0 to side 1 are lost (a one-way link), not both ways.
    var oneWay = false
    var wanted: [Wanted] = []
    /// When the pending plan gets aborted (once), if one is pending then.
    var abortAt: UInt64
    var aborted = false
    /// The ring committed at each epoch, as its encoding: two different ones break the log's promise.
    var committedByEpoch: [UInt64: [UInt8]] = [:]
    var leadersByTerm: [UInt64: Set<String>] = [:]
    var violations: [String] = []
    var fenced = 0
    /// Whether a hint replay carries the ring epoch it was aimed by, so that a node that no longer holds the key
    /// refuses it (as every other replica write) instead of storing what it will drop.
    var fencesHintReplay = true
    var hintsStored = 0
    var ringCache: [[UInt8]: Ring] = [:]

    init(seed: UInt64, dropRate: Double = 0.02, duplicateRate: Double = 0.02) {
        random = SeededGenerator(seed: seed)
        self.dropRate = dropRate
        self.duplicateRate = duplicateRate
        abortAt = UInt64.random(in: 4_000...14_000, using: &random) * Self.ms
        for index in 1...5 {
            nodes["n\(index)"] = SimNode(
                name: "n\(index)", clockRate: Double.random(in: 0.9...1.1, using: &random),
                clockOffset: UInt64.random(in: 0...1_000_000, using: &random) * Self.ms)
        }
        let founders = ["n1", "n2", "n3"].map { Member(name: $0, clusterAddress: $0) }
        let ring = try! Ring.formed(clusterID: 9, partitionCount: partitions, replicas: 3, members: founders)
        let base = MetadataState(entries: [
            MetadataEntry(index: max(1, ring.epoch), term: 0, voters: RingVoters.of(ring), payload: ring.encoded())
        ])
        committedByEpoch[ring.epoch] = ring.encoded()
        for name in ["n1", "n2", "n3"] {
            let node = nodes[name]!
            node.ring = ring
            node.disk = base
            node.log = makeLog(name, state: base)
        }
    }

    static func transfers(_ name: String, checkpoint: IncomingTransfers.Checkpoint?) -> IncomingTransfers {
        IncomingTransfers(
            name: name, concurrency: 2, retryDelay: 500 * ms, startDelay: 2_000 * ms, checkpoint: checkpoint)
    }

    /// `node`'s clock now.
    func clock(_ node: SimNode) -> UInt64 { node.clockOffset + UInt64(Double(now) * node.clockRate) }

    func makeLog(_ name: String, state: MetadataState) -> MetadataLog {
        var log = MetadataLog(
            name: name, state: state, settings: Self.settings, seed: random.next(), now: clock(nodes[name]!))
        if let ring = nodes[name]?.ring { log.setLearners(RingVoters.learners(of: ring, voters: log.voters)) }
        return log
    }

    // MARK: Event loop and network

    func at(_ time: UInt64, _ action: @escaping () -> Void) {
        sequence += 1
        queue.insert(Event(time: time, sequence: sequence, action: action))
    }

    func run(until end: UInt64) {
        while let first = queue.min, first.time <= end {
            let event = queue.removeMin()
            now = event.time
            event.action()
        }
        now = end
    }

    func canTalk(_ a: String, _ b: String) -> Bool {
        guard let sides, sides[a] != sides[b] else { return true }
        return oneWay && sides[a] == 1
    }

    /// Delivers `body` at `to` after a random delay, unless the message is dropped, the two are on different
    /// sides of a partition, or `to` is down then.
    func send(from: String, to name: String, _ body: @escaping (SimNode) -> Void) {
        guard Double.random(in: 0..<1, using: &random) >= dropRate else { return }
        let copies = Double.random(in: 0..<1, using: &random) < duplicateRate ? 2 : 1
        for _ in 0..<copies {
            let delay = UInt64.random(in: 1...20, using: &random) * Self.ms
            at(now + delay) { [self] in
                guard let node = nodes[name], node.alive, canTalk(from, name) else { return }
                body(node)
            }
        }
    }

    // MARK: Scenario

    func start() {
        for name in nodes.keys.sorted() { tick(name) }
        // n4 joins at 3 s; n5 at 20 s; n2 leaves once nothing else is pending. One plan is aborted on the way
        // (its change is then asked for again).
        wanted = [
            Wanted(change: .join(Member(name: "n4", clusterAddress: "n4")), after: 3_000 * Self.ms),
            Wanted(change: .join(Member(name: "n5", clusterAddress: "n5")), after: 20_000 * Self.ms),
            Wanted(change: .leave("n2"), after: 36_000 * Self.ms),
        ]
        writeLoop()
        readLoop()
        crashLoop()
        partitionLoop()
    }

    func crashLoop() {
        at(now + UInt64.random(in: 1_500...4_000, using: &random) * Self.ms) { [self] in
            guard faultsEnabled else { return }
            let victims = nodes.values.filter { $0.alive && $0.ring != nil }.map(\.name).sorted()
            if let name = victims.randomElement(using: &random), nodes.values.filter({ !$0.alive }).isEmpty {
                let node = nodes[name]!
                node.alive = false
                node.incarnation += 1
                node.store = node.synced
                node.dirty = []
                node.hints = node.syncedHints
                node.dirtyHints = []
                node.syncWaiters = []
                node.syncScheduled = false
                node.checkpoint = node.transfers.checkpoint
                node.log = nil
                node.reports = [:]
                let downtime = UInt64.random(in: 1_000...6_000, using: &random) * Self.ms
                at(now + downtime) { [self] in restart(name) }
            }
            crashLoop()
        }
    }

    /// Now and then the network splits in two (one or two nodes against the rest) for 2-5 s, both ways or one
    /// way (the small side's messages are lost, the others' still reach it).
    func partitionLoop() {
        at(now + UInt64.random(in: 5_000...12_000, using: &random) * Self.ms) { [self] in
            guard faultsEnabled else {
                sides = nil
                return
            }
            let names = nodes.keys.sorted().shuffled(using: &random)
            let cut = Int.random(in: 1...2, using: &random)
            sides = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0 < cut ? 0 : 1) })
            oneWay = Bool.random(using: &random)
            at(now + UInt64.random(in: 2_000...5_000, using: &random) * Self.ms) { [self] in sides = nil }
            partitionLoop()
        }
    }

    func restart(_ name: String) {
        let node = nodes[name]!
        node.alive = true
        node.detector = FailureDetector()
        node.transfers = Self.transfers(name, checkpoint: node.checkpoint)
        reloadHints(node)
        if let disk = node.disk {
            node.log = makeLog(name, state: disk)
            if let base = disk.entries.first { apply(base, at: node) }
        }
        tick(name)
    }

    // MARK: Per-node behaviour

    /// Every 50 ms the metadata log; every 250 ms gossip, the detector, copies and drops, as before the log.
    func tick(_ name: String, count: Int = 0) {
        let node = nodes[name]!
        guard node.alive else { return }
        if node.log != nil {
            carryOut(node.log!.onTick(now: clock(node)), at: node)
            lead(node)
        }
        if count % 5 == 0 { tickMembership(node) }
        at(now + 50 * Self.ms) { [self] in tick(name, count: count + 1) }
    }

    func tickMembership(_ node: SimNode) {
        let name = node.name
        if let ring = node.ring {
            for peer in ring.members where peer.name != name && peer.state != .left {
                let sent = ring
                send(from: name, to: peer.name) { [self] receiver in
                    _ = receiver.detector.onHeartbeat(from: name, now: clock(receiver))
                    merge(sent, into: receiver)
                    let reply = receiver.ring
                    send(from: receiver.name, to: name) { [self] sender in
                        _ = sender.detector.onHeartbeat(from: receiver.name, now: clock(sender))
                        if let reply { merge(reply, into: sender) }
                    }
                }
            }
            let local = clock(node)
            for member in ring.members where member.name != name { node.detector.watch(member.name, now: local) }
            _ = node.detector.onTick(now: local)
            perform(
                node.transfers.onRing(ring, down: down(node), now: local) + node.transfers.onTick(now: local),
                at: node)
            dropLostPartitions(node)
            tickHints(node)
        }
    }

    func down(_ node: SimNode) -> Set<String> {
        Set(node.ring?.members.map(\.name).filter { node.detector.liveness(of: $0) == .down } ?? [])
    }

    /// Gossip: a node takes a newer ring of its cluster, or its first ring if it lists the node. Only rings the
    /// log committed exist to be gossiped; one that does not match the log's breaks the model. It is checked when
    /// adopted: every ring a node gossips was checked so.
    func merge(_ incoming: Ring, into node: SimNode) {
        if let mine = node.ring {
            guard mine.clusterID == incoming.clusterID, incoming.epoch > mine.epoch else { return }
        } else if incoming.member(named: node.name) == nil {
            return
        }
        if committedByEpoch[incoming.epoch] != incoming.encoded() {
            violations.append("\(node.name) was sent a ring the log did not commit (epoch \(incoming.epoch))")
        }
        node.ring = incoming
    }
}
