import TestSupport

@testable import Coordinator

/// Five simulated nodes (N=3, W=2) whose writes run through the node's own `WriteCoordination` with fallbacks,
/// and a `HintQueue` each, over a network with seeded delays. One node is down for a seeded stretch: messages
/// to it are refused while the senders know, lost while in flight; the others' detectors notice after a delay.
/// Clients write blindly. Nothing ever reads, so only hinted handoff can bring the node the writes it missed.
final class HandoffSimulation: @unchecked Sendable {
    final class Node: @unchecked Sendable {
        var store: [String: VersionedObject] = [:]
        var hints: [HintKey: VersionedObject] = [:]
        var queue = HintQueue(limits: .init(maxInFlight: 4, rate: 1_000_000_000, retryDelay: 50))
    }

    var random: SeededGenerator
    var agenda = Agenda()
    let names = ["n1", "n2", "n3", "n4", "n5"]
    let keys = (0..<10).map { "k\($0)" }
    let victim: String
    let downFrom: UInt64
    let downUntil: UInt64
    let detectDelay: UInt64
    let end: UInt64
    var nodes: [String: Node] = [:]
    var nextID: UInt64 = 0
    /// Acknowledged writes: key and the dot the write created.
    var acked: [(key: String, dot: Dot)] = []
    var replies = 0
    var started = 0

    init(seed: UInt64, writes: Int = 300) {
        random = SeededGenerator(seed: seed)
        victim = names.randomElement(using: &random)!
        downFrom = UInt64.random(in: 100...500, using: &random)
        downUntil = downFrom + UInt64.random(in: 500...2_000, using: &random)
        detectDelay = UInt64.random(in: 0...200, using: &random)
        end = downUntil + 3_000
        for name in names { nodes[name] = Node() }
        for index in 0..<writes {
            agenda.schedule(at: UInt64.random(in: 0...(downUntil + 200), using: &random)) { self.write(index) }
        }
        agenda.schedule(at: 10) { self.tick() }
    }

    func replicas(_ key: String) -> [String] {
        let start = keys.firstIndex(of: key)! % names.count
        return (0..<3).map { names[(start + $0) % names.count] }
    }

    func fallbacks(_ key: String) -> [String] {
        let start = keys.firstIndex(of: key)! % names.count
        return (3..<names.count).map { names[(start + $0) % names.count] }
    }

    func isDown(_ name: String, at time: UInt64) -> Bool { name == victim && time >= downFrom && time < downUntil }

    /// What the other nodes' detectors say: down from a while after the crash until a while after the return.
    func judgedDown(at time: UInt64) -> Set<String> {
        time >= downFrom + detectDelay && time < downUntil + detectDelay ? [victim] : []
    }

    var now: UInt64 { agenda.now }

    func run() {
        while let event = agenda.next() { event() }
    }

    /// Runs `body` at `to` after 1-20 ticks; a node that is down refuses the connection and the sender learns
    /// it at once (`refused`), or the message is lost if it goes down meanwhile.
    func send(from: String, to: String, refused: @escaping () -> Void = {}, _ body: @escaping () -> Void) {
        if isDown(to, at: now) || isDown(from, at: now) {
            agenda.schedule(at: now + 1, refused)
            return
        }
        agenda.schedule(at: now + UInt64.random(in: 1...20, using: &random)) {
            guard !self.isDown(to, at: self.now) else { return }
            body()
        }
    }

    func write(_ index: Int) {
        let key = keys.randomElement(using: &random)!
        let coordinator = replicas(key).filter { !isDown($0, at: now) }.randomElement(using: &random)!
        nextID += 1
        started += 1
        let machine = QuorumWrite(
            requestID: nextID, coordinator: coordinator, replicas: replicas(key), w: 2, deadline: now + 200,
            fallbacks: fallbacks(key), down: judgedDown(at: now), handoffAt: now + 100)
        let io = WriteIO(simulation: self, coordinator: coordinator, key: key, value: index)
        WriteCoordination(machine, io: io).start { answer in
            self.replies += 1
            if case .success(.success(_, let object)) = answer {
                self.acked.append((key, Dot(actor: coordinator, counter: object.context[coordinator])))
            }
        }
    }

    func tick() {
        for name in names where !isDown(name, at: now) {
            let up = Set(names).subtracting(judgedDown(at: now))
            performQueue(nodes[name]!.queue.onTick(now: now, up: up), at: name)
        }
        if now < end { agenda.schedule(at: now + 10) { self.tick() } }
    }

    func merge(_ object: VersionedObject, key: String, at node: String) {
        let stored = nodes[node]!.store[key] ?? VersionedObject()
        if let merged = ReplicaStore.merge(stored: stored, incoming: object) { nodes[node]!.store[key] = merged }
    }

    func storeHint(_ object: VersionedObject, owner: String, key: String, at node: String) {
        let hint = HintKey(owner: owner, collection: "c", key: Array(key.utf8))
        let held = nodes[node]!.hints[hint] ?? VersionedObject()
        nodes[node]!.hints[hint] = ReplicaStore.merge(stored: held, incoming: object) ?? held
        nodes[node]!.queue.onStored(hint, bytes: 1, createdAt: now)
    }

    func performQueue(_ actions: [HintQueue.Action], at node: String) {
        for action in actions {
            switch action {
            case .replay(let hint, let generation):
                guard let object = nodes[node]!.hints[hint] else { continue }
                // Sent to the owner; a replay lost to the outage times out and is retried.
                send(from: node, to: hint.owner) {
                    self.merge(object, key: String(decoding: hint.key, as: UTF8.self), at: hint.owner)
                    self.send(from: hint.owner, to: node) { self.replayAcked(hint, generation, object, at: node) }
                }
                agenda.schedule(at: now + 100) {
                    self.nodes[node]!.queue.onReplayFailed(hint, generation: generation, now: self.now)
                }
            case .delete(let hint), .drop(let hint, _):
                nodes[node]!.hints[hint] = nil
            }
        }
    }

    func replayAcked(_ hint: HintKey, _ generation: UInt64, _ object: VersionedObject, at node: String) {
        let actions = nodes[node]!.queue.onReplayAcked(hint, generation: generation, now: now)
        for case .delete(let gone) in actions where nodes[node]!.hints[gone] == object {
            nodes[node]!.hints[gone] = nil
        }
        performQueue(actions.filter { if case .delete = $0 { false } else { true } }, at: node)
    }
}

extension HandoffSimulation {
    /// A coordinated write's IO: the coordinator's store (durable at once), replicas and fallbacks over the
    /// network, hints into the fallback's `HintQueue`.
    struct WriteIO: Coordinator.WriteIO, @unchecked Sendable {
        let simulation: HandoffSimulation
        let coordinator: String
        let key: String
        let value: Int

        func storeLocally() throws -> VersionedObject {
            let node = simulation.nodes[coordinator]!
            let object = try ReplicaStore.coordinate(
                stored: node.store[key] ?? VersionedObject(),
                write: .put(value: [UInt8(value & 0xff)], contentType: "", context: VersionVector()),
                actor: coordinator, timestamp: simulation.now)
            node.store[key] = object
            return object
        }

        func whenDurable(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
            done(.success(()))
        }

        func replicate(
            _ object: VersionedObject, to replica: String, done: @escaping @Sendable (ReplicaCallFailure?) -> Void
        ) {
            let (simulation, key, from) = (simulation, key, coordinator)
            simulation.send(from: from, to: replica, refused: { done(ReplicaCallFailure("refused")) }) {
                simulation.merge(object, key: key, at: replica)
                simulation.send(from: replica, to: from) { done(nil) }
            }
        }

        func storeHint(
            _ object: VersionedObject, at fallback: String, for owner: String,
            done: @escaping @Sendable (ReplicaCallFailure?) -> Void
        ) {
            let (simulation, key, from) = (simulation, key, coordinator)
            simulation.send(from: from, to: fallback, refused: { done(ReplicaCallFailure("refused")) }) {
                simulation.storeHint(object, owner: owner, key: key, at: fallback)
                simulation.send(from: fallback, to: from) { done(nil) }
            }
        }

        func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
            SimTimer.arm({ simulation.agenda.schedule(at: instant, $0) }, body)
        }
    }
}
