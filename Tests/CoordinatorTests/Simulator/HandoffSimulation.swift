@testable import Coordinator
import TestSupport

/// Five simulated nodes (N=3, W=2) running the real `QuorumWrite` with fallbacks and a `HintQueue` each, over a
/// network with seeded delays. One node is down for a seeded stretch: messages to it are refused while the
/// senders know, lost while in flight; the others' detectors notice after a delay. Clients write blindly.
/// Nothing ever reads, so only hinted handoff can bring the node the writes it missed.
struct HandoffSimulation {
    enum Message {
        case replicate(id: UInt64, key: String, object: VersionedObject)
        case hint(id: UInt64, owner: String, key: String, object: VersionedObject)
        case ack(id: UInt64)
        case refused(id: UInt64)
        case replay(hint: HintKey, generation: UInt64, object: VersionedObject)
        case replayAck(hint: HintKey, generation: UInt64, object: VersionedObject)
    }

    enum Event {
        case deliver(from: String, to: String, Message)
        case timeout(node: String, id: UInt64, handoff: Bool)
        case replayTimeout(node: String, hint: HintKey, generation: UInt64)
        case write(Int)
        case tick
    }

    struct Node {
        var store: [String: VersionedObject] = [:]
        var hints: [HintKey: VersionedObject] = [:]
        var queue = HintQueue(limits: .init(maxInFlight: 4, rate: 1_000_000_000, retryDelay: 50))
        var writes: [UInt64: (key: String, machine: QuorumWrite)] = [:]
    }

    var random: SeededGenerator
    var events: [(time: UInt64, seq: UInt64, event: Event)] = []
    var seq: UInt64 = 0
    var now: UInt64 = 0
    let names = ["n1", "n2", "n3", "n4", "n5"]
    let keys = (0..<10).map { "k\($0)" }
    let victim: String
    let downFrom: UInt64
    let downUntil: UInt64
    let detectDelay: UInt64
    let end: UInt64
    var nodes: [String: Node] = [:]
    var nextID: UInt64 = 0
    var counter: UInt64 = 0
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
            schedule(.write(index), at: UInt64.random(in: 0...(downUntil + 200), using: &random))
        }
        schedule(.tick, at: 10)
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

    mutating func schedule(_ event: Event, at time: UInt64) {
        seq += 1
        events.append((max(time, now), seq, event))
    }

    mutating func run() {
        while !events.isEmpty {
            let index = events.indices.min { (events[$0].time, events[$0].seq) < (events[$1].time, events[$1].seq) }!
            let next = events.remove(at: index)
            now = next.time
            handle(next.event)
        }
    }

    mutating func send(_ message: Message, from: String, to: String) {
        if isDown(to, at: now) || isDown(from, at: now) {
            // A node that is down refuses connections; the sender learns it at once.
            if case .replicate(let id, _, _) = message {
                schedule(.deliver(from: to, to: from, .refused(id: id)), at: now + 1)
            }
            if case .hint(let id, _, _, _) = message {
                schedule(.deliver(from: to, to: from, .refused(id: id)), at: now + 1)
            }
            return
        }
        schedule(.deliver(from: from, to: to, message), at: now + UInt64.random(in: 1...20, using: &random))
    }

    mutating func handle(_ event: Event) {
        switch event {
        case .write(let index):
            let key = keys.randomElement(using: &random)!
            let coordinators = replicas(key).filter { !isDown($0, at: now) }
            let coordinator = coordinators.randomElement(using: &random)!
            nextID += 1
            counter += 1
            started += 1
            var machine = QuorumWrite(
                requestID: nextID, coordinator: coordinator, replicas: replicas(key), w: 2, deadline: now + 200,
                fallbacks: fallbacks(key), down: judgedDown(at: now), handoffAt: now + 100)
            let actions = machine.start()
            nodes[coordinator]!.writes[nextID] = (key, machine)
            perform(actions, id: nextID, at: coordinator, value: index)
        case .timeout(let node, let id, let handoff):
            guard var entry = nodes[node]!.writes[id] else { return }
            let actions = handoff ? entry.machine.onHandoff(now: now) : entry.machine.onTimeout(now: now)
            nodes[node]!.writes[id] = entry
            perform(actions, id: id, at: node, value: 0)
        case .replayTimeout(let node, let hint, let generation):
            nodes[node]!.queue.onReplayFailed(hint, generation: generation, now: now)
        case .tick:
            for name in names where !isDown(name, at: now) {
                let up = Set(names).subtracting(judgedDown(at: now))
                let actions = nodes[name]!.queue.onTick(now: now, up: up)
                performQueue(actions, at: name)
            }
            if now < end { schedule(.tick, at: now + 10) }
        case .deliver(let from, let to, let message):
            guard !isDown(to, at: now) else { return }
            deliver(message, from: from, to: to)
        }
    }

    mutating func deliver(_ message: Message, from: String, to node: String) {
        switch message {
        case .replicate(let id, let key, let object):
            merge(object, key: key, at: node)
            send(.ack(id: id), from: node, to: from)
        case .hint(let id, let owner, let key, let object):
            let hint = HintKey(owner: owner, collection: "c", key: Array(key.utf8))
            let held = nodes[node]!.hints[hint] ?? VersionedObject()
            let merged = ReplicaStore.merge(stored: held, incoming: object) ?? held
            nodes[node]!.hints[hint] = merged
            nodes[node]!.queue.onStored(hint, bytes: 1, createdAt: now)
            send(.ack(id: id), from: node, to: from)
        case .ack(let id):
            answer(id, at: node) { $0.onAck(from: from) }
        case .refused(let id):
            answer(id, at: node) { $0.onFailure(from: from, reason: "refused") }
        case .replay(let hint, let generation, let object):
            merge(object, key: String(decoding: hint.key, as: UTF8.self), at: node)
            send(.replayAck(hint: hint, generation: generation, object: object), from: node, to: from)
        case .replayAck(let hint, let generation, let object):
            let actions = nodes[node]!.queue.onReplayAcked(hint, generation: generation, now: now)
            for case .delete(let gone) in actions where nodes[node]!.hints[gone] == object {
                nodes[node]!.hints[gone] = nil
            }
            performQueue(actions.filter { if case .delete = $0 { false } else { true } }, at: node)
        }
    }

    mutating func answer(_ id: UInt64, at node: String, _ event: (inout QuorumWrite) -> [QuorumWrite.Action]) {
        guard var entry = nodes[node]!.writes[id] else { return }
        let actions = event(&entry.machine)
        nodes[node]!.writes[id] = entry
        perform(actions, id: id, at: node, value: 0)
    }

    mutating func merge(_ object: VersionedObject, key: String, at node: String) {
        let stored = nodes[node]!.store[key] ?? VersionedObject()
        if let merged = ReplicaStore.merge(stored: stored, incoming: object) { nodes[node]!.store[key] = merged }
    }

    mutating func perform(_ actions: [QuorumWrite.Action], id: UInt64, at node: String, value: Int) {
        guard let key = nodes[node]!.writes[id]?.key else { return }
        for action in actions {
            switch action {
            case .storeLocally:
                let stored = nodes[node]!.store[key] ?? VersionedObject()
                let object = try! ReplicaStore.coordinate(
                    stored: stored,
                    write: .put(value: [UInt8(value & 0xff)], contentType: "", context: VersionVector()),
                    actor: node, timestamp: now)
                nodes[node]!.store[key] = object
                var entry = nodes[node]!.writes[id]!
                let next = entry.machine.onLocalStored(object)
                nodes[node]!.writes[id] = entry
                perform(next, id: id, at: node, value: value)
            case .scheduleTimeout(let at):
                schedule(.timeout(node: node, id: id, handoff: false), at: at)
            case .scheduleHandoff(let at):
                schedule(.timeout(node: node, id: id, handoff: true), at: at)
            case .send(let targets, let object):
                for target in targets { send(.replicate(id: id, key: key, object: object), from: node, to: target) }
            case .sendHint(let fallback, let owner, let object):
                send(.hint(id: id, owner: owner, key: key, object: object), from: node, to: fallback)
            case .reply(let outcome):
                replies += 1
                if case .success(_, let object) = outcome {
                    acked.append((key, Dot(actor: node, counter: object.context[node])))
                }
            }
        }
    }

    mutating func performQueue(_ actions: [HintQueue.Action], at node: String) {
        for action in actions {
            switch action {
            case .replay(let hint, let generation):
                guard let object = nodes[node]!.hints[hint] else { continue }
                // Sent to the owner; a replay lost to the outage times out and is retried.
                send(.replay(hint: hint, generation: generation, object: object), from: node, to: hint.owner)
                schedule(.replayTimeout(node: node, hint: hint, generation: generation), at: now + 100)
            case .delete(let hint), .drop(let hint, _):
                nodes[node]!.hints[hint] = nil
            }
        }
    }
}
