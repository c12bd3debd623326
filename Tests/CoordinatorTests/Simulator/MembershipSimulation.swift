import Ring

@testable import Coordinator
import TestSupport

/// A whole cluster's membership over a seeded network: gossip of the ring, the failure detector, the claimant's
/// plans and switches, receivers copying ranges (`IncomingTransfers`), quorum writes to current and incoming
/// replicas, crashes and restarts. Everything but the network and the stores is the product's own state
/// machines; what a node keeps on disk (ring, store, transfer checkpoint) survives its crashes.
final class MembershipSimulation {
    struct Event {
        var time: UInt64
        var sequence: Int
        var action: () -> Void
    }

    final class SimNode {
        let name: String
        var ring: Ring?
        var alive = true
        var detector = FailureDetector()
        var transfers: IncomingTransfers
        var checkpoint: IncomingTransfers.Checkpoint?
        /// key → write ids stored here (a version's causal history, reduced to what the invariants need).
        var store: [Int: Set<Int>] = [:]
        var stableSince: (epoch: UInt64, at: UInt64) = (0, 0)

        init(name: String) {
            self.name = name
            transfers = IncomingTransfers(name: name, concurrency: 2, retryDelay: 500 * ms, startDelay: 2_000 * ms)
        }
    }

    static let ms: UInt64 = 1_000_000
    let partitions = 16
    let keys = 120
    var now: UInt64 = 0
    var random: SeededGenerator
    var nodes: [String: SimNode] = [:]
    var queue: [Event] = []
    var sequence = 0
    var nextWrite = 0
    /// Writes a quorum of the key's current replicas acknowledged: (key, write id).
    var acked: [(key: Int, id: Int)] = []
    var writesEnabled = true
    var crashesEnabled = true
    let dropRate: Double

    init(seed: UInt64, dropRate: Double = 0.02) {
        random = SeededGenerator(seed: seed)
        self.dropRate = dropRate
        for index in 1...5 { nodes["n\(index)"] = SimNode(name: "n\(index)") }
        let founders = ["n1", "n2", "n3"].map { Member(name: $0, clusterAddress: $0) }
        let ring = try! Ring.formed(clusterID: 9, partitionCount: partitions, replicas: 3, members: founders)
        for name in ["n1", "n2", "n3"] { nodes[name]!.ring = ring }
    }

    // MARK: Event loop

    func at(_ time: UInt64, _ action: @escaping () -> Void) {
        sequence += 1
        queue.append(Event(time: time, sequence: sequence, action: action))
    }

    func run(until end: UInt64) {
        while let index = queue.indices.min(by: {
            (queue[$0].time, queue[$0].sequence) < (queue[$1].time, queue[$1].sequence)
        }),
            queue[index].time <= end
        {
            let event = queue.remove(at: index)
            now = event.time
            event.action()
        }
        now = end
    }

    /// Delivers `body` at `to` after a random delay, unless the message is dropped or `to` is down then.
    func send(to name: String, _ body: @escaping (SimNode) -> Void) {
        guard Double.random(in: 0..<1, using: &random) >= dropRate else { return }
        let delay = UInt64.random(in: 1...20, using: &random) * Self.ms
        at(now + delay) { [self] in
            guard let node = nodes[name], node.alive else { return }
            body(node)
        }
    }

    // MARK: Scenario

    func start() {
        for node in nodes.values { tick(node.name) }
        // n4 joins at 3 s; n5 at 20 s; n2 leaves once nothing else is pending.
        at(3_000 * Self.ms) { [self] in commit(.join(Member(name: "n4", clusterAddress: "n4"))) }
        at(20_000 * Self.ms) { [self] in commit(.join(Member(name: "n5", clusterAddress: "n5"))) }
        at(36_000 * Self.ms) { [self] in commit(.leave("n2")) }
        writeLoop()
        crashLoop()
    }

    /// Commits `change` on the claimant, retrying every second until a plan can be committed.
    func commit(_ change: RingChange) {
        guard let claimant = claimantNode(), let ring = claimant.ring, ring.pending.isEmpty,
            let next = try? ring.planning([change])
        else {
            at(now + 1_000 * Self.ms) { [self] in commit(change) }
            return
        }
        adopt(next, at: claimant)
        if case .join(let member) = change { nodes[member.name]!.ring = next }
    }

    func claimantNode() -> SimNode? {
        let candidates = nodes.values.filter { $0.alive && $0.ring != nil }.sorted { $0.name < $1.name }
        for node in candidates {
            let ring = node.ring!
            if Claimant.of(ring, liveness: { node.detector.liveness(of: $0) }) == node.name { return node }
        }
        return nil
    }

    func crashLoop() {
        at(now + UInt64.random(in: 1_500...4_000, using: &random) * Self.ms) { [self] in
            guard crashesEnabled else { return }
            let victims = nodes.values.filter { $0.alive && $0.ring != nil }.map(\.name).sorted()
            if let name = victims.randomElement(using: &random), nodes.values.filter({ !$0.alive }).isEmpty {
                let node = nodes[name]!
                node.alive = false
                node.checkpoint = node.transfers.checkpoint
                let downtime = UInt64.random(in: 1_000...6_000, using: &random) * Self.ms
                at(now + downtime) { [self] in restart(name) }
            }
            crashLoop()
        }
    }

    func restart(_ name: String) {
        let node = nodes[name]!
        node.alive = true
        node.detector = FailureDetector()
        node.transfers = IncomingTransfers(
            name: name, concurrency: 2, retryDelay: 500 * Self.ms, startDelay: 2_000 * Self.ms,
            checkpoint: node.checkpoint)
        tick(name)
    }

    // MARK: Per-node behaviour

    func tick(_ name: String) {
        let node = nodes[name]!
        guard node.alive else { return }
        if let ring = node.ring {
            for peer in ring.members where peer.name != name && peer.state != .left {
                let sent = ring
                send(to: peer.name) { [self] receiver in
                    receiver.detector.onHeartbeat(from: name, now: now).forEach { _ in }
                    merge(sent, into: receiver)
                    let reply = receiver.ring
                    send(to: name) { [self] sender in
                        sender.detector.onHeartbeat(from: receiver.name, now: now).forEach { _ in }
                        if let reply { merge(reply, into: sender) }
                    }
                }
            }
            for member in ring.members where member.name != name { node.detector.watch(member.name, now: now) }
            _ = node.detector.onTick(now: now)
            if claimantNode() === node, let switched = ring.switchingOwners() { adopt(switched, at: node) }
            perform(
                node.transfers.onRing(node.ring!, down: down(node), now: now) + node.transfers.onTick(now: now),
                at: node)
            dropLostPartitions(node)
        }
        at(now + 250 * Self.ms) { [self] in tick(name) }
    }

    func down(_ node: SimNode) -> Set<String> {
        Set(node.ring?.members.map(\.name).filter { node.detector.liveness(of: $0) == .down } ?? [])
    }

    func merge(_ incoming: Ring, into node: SimNode) {
        guard let mine = node.ring else {
            if incoming.member(named: node.name) != nil { node.ring = incoming }
            return
        }
        guard mine.clusterID == incoming.clusterID else { return }
        node.ring = Ring.merge(mine, incoming)
    }

    func adopt(_ ring: Ring, at node: SimNode) {
        merge(ring, into: node)
    }

    func perform(_ actions: [IncomingTransfers.Action], at node: SimNode) {
        for action in actions {
            switch action {
            case .pull(let partition, let source, let after):
                pull(partition, from: source, after: after, by: node)
            case .reportDone(let planID):
                guard let claimant = claimantNode() else { continue }
                send(to: claimant.name) { [self] claimant in
                    guard let ring = claimant.ring, ring.planID == planID,
                        let marked = ring.markingTransferred(node.name)
                    else { return }
                    adopt(marked, at: claimant)
                }
            }
        }
    }

    /// A batch of up to 8 keys after the cursor; a reply lost or a source down counts as a failure at 300 ms.
    func pull(_ partition: Int, from source: String, after: TransferCursor?, by receiver: SimNode) {
        let name = receiver.name
        var answered = false
        send(to: source) { [self] source in
            let all = source.store.keys.filter { partitionOf($0) == partition }.sorted()
            let start = after.map { cursor in all.firstIndex { $0 > Int(cursor.key[0]) } ?? all.count } ?? 0
            let batch = Array(all[start..<min(all.count, start + 8)])
            let records = batch.map { ($0, source.store[$0]!) }
            let finished = start + batch.count >= all.count
            send(to: name) { [self] receiver in
                guard !answered else { return }
                answered = true
                for (key, ids) in records { receiver.store[key, default: []].formUnion(ids) }
                let last = batch.last.map { TransferCursor(collection: "c", key: [UInt8($0)]) }
                perform(
                    receiver.transfers.onBatch(
                        partition: partition, last: last, finished: finished, keys: records.count, bytes: 0,
                        remaining: all.count - start - batch.count, now: now), at: receiver)
            }
        }
        at(now + 300 * Self.ms) { [self] in
            guard !answered, let receiver = nodes[name], receiver.alive else { return }
            answered = true
            perform(receiver.transfers.onFailure(partition: partition, now: now), at: receiver)
        }
    }

    /// Drops the keys of partitions the node no longer replicates once its ring stood 3 s without pending.
    func dropLostPartitions(_ node: SimNode) {
        guard let ring = node.ring else { return }
        if node.stableSince.epoch != ring.epoch { node.stableSince = (ring.epoch, now) }
        guard ring.pending.isEmpty, now >= node.stableSince.at + 3_000 * Self.ms else { return }
        for key in node.store.keys
        where !ring.preferenceList(partition: partitionOf(key)).contains(where: { $0.name == node.name }) {
            node.store[key] = nil
        }
    }

    func partitionOf(_ key: Int) -> Int { ring(of: key) }

    private func ring(of key: Int) -> Int { Int((UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 60) % partitions }

    // MARK: Clients

    func writeLoop() {
        at(now + 15 * Self.ms) { [self] in
            guard writesEnabled else { return }
            let coordinators = nodes.values.filter { $0.alive && $0.ring != nil }.map(\.name).sorted()
            if let name = coordinators.randomElement(using: &random) {
                write(key: Int.random(in: 0..<keys, using: &random), via: nodes[name]!)
            }
            writeLoop()
        }
    }

    /// W=2 of the key's current replicas, plus one more for each incoming replica of a pending plan (as
    /// Cassandra counts pending endpoints), so that W copies remain whichever replicas the plan drops.
    func write(key: Int, via coordinator: SimNode) {
        guard let ring = coordinator.ring else { return }
        nextWrite += 1
        let id = nextWrite
        let partition = partitionOf(key)
        let replicas = ring.preferenceList(partition: partition).map(\.name)
        let incoming = ring.future.preferenceList(partition: partition).map(\.name).filter { !replicas.contains($0) }
        var acks = 0
        var done = false
        for name in replicas + incoming {
            send(to: name) { [self] replica in
                replica.store[key, default: []].insert(id)
                send(to: coordinator.name) { [self] _ in
                    guard !done else { return }
                    acks += 1
                    if acks >= 2 + incoming.count {
                        done = true
                        acked.append((key, id))
                    }
                }
            }
        }
    }

    // MARK: Invariants

    /// Rings of every node, as encodings (equal when converged).
    var rings: [[UInt8]] { nodes.values.compactMap { $0.ring?.encoded() } }

    /// Acknowledged writes held by fewer than a quorum (2) of the final preference list.
    func underReplicated() -> [(key: Int, id: Int)] {
        guard let ring = nodes["n1"]?.ring else { return acked }
        return acked.filter { write in
            let replicas = ring.preferenceList(partition: partitionOf(write.key)).map(\.name)
            return replicas.filter { nodes[$0]!.store[write.key]?.contains(write.id) == true }.count < 2
        }
    }
}
