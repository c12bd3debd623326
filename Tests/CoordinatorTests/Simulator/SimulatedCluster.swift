@testable import Coordinator
import TestSupport

/// A cluster of simulated nodes running the real `QuorumWrite`/`QuorumRead` machines and `ReplicaStore` over a
/// seeded lossy network, with clients doing reads, read-modify-writes, blind writes and deletes. It records
/// what the invariants need: acknowledged writes, completed reads, replies per request.
struct SimulatedCluster {
    enum Intent { case readOnly, thenPut, thenDelete }

    struct Node {
        var store: [String: VersionedObject] = [:]
        var writes: [UInt64: (key: String, client: Int, write: ClientWrite, machine: QuorumWrite)] = [:]
        var reads: [UInt64: (key: String, client: Int?, intent: Intent, startedAt: UInt64, machine: QuorumRead)] = [:]
    }

    struct Client {
        var remainingOperations: Int
        var contexts: [String: VersionVector] = [:]
        var next: (key: String, write: ClientWrite)?
    }

    struct AckedWrite {
        var key: String
        var dot: Dot
        var ackedAt: UInt64
    }
    struct CompletedRead {
        var key: String
        var startedAt: UInt64
        var result: ReadResult
    }

    var random: SeededGenerator
    var network: NetworkConditions
    var agenda = Agenda()
    let names: [String]
    let keys: [String]
    let n: Int
    let r: Int
    let w: Int
    let blindWrites: Bool
    let timeout: UInt64 = 150
    var nodes: [String: Node] = [:]
    var clients: [Client]
    var nextRequestID: UInt64 = 0
    var writeCounter: UInt64 = 0

    var ackedWrites: [AckedWrite] = []
    var completedReads: [CompletedRead] = []
    var repliesPerRequest: [UInt64: Int] = [:]
    var maxLiveSiblings = 0
    /// Client requests (reads and writes) that failed: what the faults injected actually cost.
    var failedRequests = 0
    /// Of those, the ones the machine failed at its deadline (`onTimeout`) and the ones it failed because
    /// replicas answered with errors (`onFailure` / `onReply(.failure)`), as the node drives the same events.
    var failedByDeadline = 0
    var failedByErrors = 0

    init(
        seed: UInt64,
        nodes: Int = 5,
        n: Int = 3,
        r: Int = 2,
        w: Int = 2,
        keys: Int = 3,
        clients: Int = 4,
        operationsPerClient: Int = 30,
        network: NetworkConditions = NetworkConditions(),
        blindWrites: Bool = true
    ) {
        random = SeededGenerator(seed: seed)
        self.network = network
        names = (1...nodes).map { "n\($0)" }
        self.keys = (0..<keys).map { "k\($0)" }
        self.n = n
        self.r = r
        self.w = w
        self.blindWrites = blindWrites
        self.clients = Array(repeating: Client(remainingOperations: operationsPerClient), count: clients)
        for name in names { self.nodes[name] = Node() }
        for client in 0..<clients { agenda.schedule(.clientStep(client: client), at: UInt64(client)) }
        for _ in 0..<network.isolations {
            let node = names.randomElement(using: &random)!
            let start = UInt64.random(in: 0...1500, using: &random)
            agenda.schedule(.isolate(node: node), at: start)
            agenda.schedule(.rejoin(node: node), at: start + UInt64.random(in: 100...400, using: &random))
        }
    }

    func preferenceList(_ key: String) -> [String] {
        let start = keys.firstIndex(of: key)!
        return (0..<n).map { names[(start + $0) % names.count] }
    }

    mutating func run() {
        while let event = agenda.next() { handle(event) }
    }

    /// Heals the network, lets everything in flight land, then reads every key with R = N from its first replica
    /// so that read repair brings every replica to the merged version.
    mutating func healAndRepairEverything() {
        network.dropRate = 0
        network.errorRate = 0
        network.isolations = 0
        run()
        network.isolated = []
        for key in keys {
            startRead(key: key, at: preferenceList(key)[0], r: n, client: nil, intent: .readOnly)
            run()
        }
    }

    // MARK: - Clients

    mutating func clientStep(_ index: Int) {
        if let next = clients[index].next {
            clients[index].next = nil
            startWrite(key: next.key, write: next.write, client: index)
            return
        }
        guard clients[index].remainingOperations > 0 else { return }
        clients[index].remainingOperations -= 1
        let key = keys.randomElement(using: &random)!
        let coordinator = names.randomElement(using: &random)!
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5: startRead(key: key, at: coordinator, r: r, client: index, intent: .thenPut)
        case 5..<7 where blindWrites:
            startWrite(
                key: key,
                write: .put(value: nextValue(), contentType: "", context: VersionVector()),
                client: index
            )
        case 7: startRead(key: key, at: coordinator, r: r, client: index, intent: .thenDelete)
        default: startRead(key: key, at: coordinator, r: r, client: index, intent: .readOnly)
        }
    }

    mutating func nextValue() -> [UInt8] {
        writeCounter += 1
        return withUnsafeBytes(of: writeCounter.littleEndian) { Array($0) }
    }

    mutating func clientDone(_ client: Int) {
        agenda.schedule(.clientStep(client: client), at: agenda.now + UInt64.random(in: 0...30, using: &random))
    }

    // MARK: - Requests

    mutating func startWrite(key: String, write: ClientWrite, client: Int) {
        nextRequestID += 1
        let id = nextRequestID
        let replicas = preferenceList(key)
        let coordinator = replicas.randomElement(using: &random)!
        var machine = QuorumWrite(
            requestID: id,
            coordinator: coordinator,
            replicas: replicas,
            w: w,
            deadline: agenda.now + timeout
        )
        let actions = machine.start()
        nodes[coordinator]!.writes[id] = (key, client, write, machine)
        perform(actions, write: id, at: coordinator)
    }

    mutating func startRead(key: String, at coordinator: String, r: Int, client: Int?, intent: Intent) {
        nextRequestID += 1
        let id = nextRequestID
        // Client reads ask only R replicas (the node's fast path), speculating on the next after 40 ticks.
        var machine = QuorumRead(
            requestID: id, replicas: preferenceList(key), r: r, deadline: agenda.now + timeout,
            fanout: client == nil ? nil : r, speculationDelay: 40)
        let actions = machine.start()
        nodes[coordinator]!.reads[id] = (key, client, intent, agenda.now, machine)
        perform(actions, read: id, at: coordinator)
    }

    mutating func perform(_ actions: [QuorumWrite.Action], write id: UInt64, at node: String) {
        guard let entry = nodes[node]!.writes[id] else { return }
        for action in actions {
            switch action {
            case .storeLocally:
                let stored = nodes[node]!.store[entry.key] ?? VersionedObject()
                let object = try! ReplicaStore.coordinate(
                    stored: stored,
                    write: entry.write,
                    actor: node,
                    timestamp: agenda.now
                )
                store(object, key: entry.key, at: node)
                let next = nodes[node]!.writes[id]!.machine.onLocalStored(object)
                perform(next, write: id, at: node)
            case .scheduleTimeout(let at):
                agenda.schedule(.timeout(node: node, requestID: id), at: at)
            case .scheduleHandoff, .sendHint:
                // The simulated writes run without fallbacks or a hand-off instant.
                break
            case .send(let targets, let object):
                for target in targets {
                    send(.replicate(requestID: id, key: entry.key, object: object), from: node, to: target)
                }
            case .reply(let outcome):
                repliesPerRequest[id, default: 0] += 1
                if case .success(_, let object) = outcome {
                    ackedWrites.append(
                        AckedWrite(key: entry.key, dot: newDot(of: object, by: node), ackedAt: agenda.now)
                    )
                } else if case .failure(let failure) = outcome {
                    failedRequests += 1
                    if case .timedOut = failure { failedByDeadline += 1 } else { failedByErrors += 1 }
                }
                clientDone(entry.client)
            }
        }
        if nodes[node]!.writes[id]?.machine.isFinished == true { nodes[node]!.writes[id] = nil }
    }

    /// The dot a coordinated write just created: the coordinator's highest counter in the result.
    func newDot(of object: VersionedObject, by actor: String) -> Dot {
        Dot(actor: actor, counter: object.context[actor])
    }

    mutating func perform(_ actions: [QuorumRead.Action], read id: UInt64, at node: String) {
        guard let entry = nodes[node]!.reads[id] else { return }
        for action in actions {
            switch action {
            case .fetch(let targets):
                for target in targets { send(.fetch(requestID: id, key: entry.key), from: node, to: target) }
            case .scheduleTimeout(let at):
                agenda.schedule(.timeout(node: node, requestID: id), at: at)
            case .scheduleSpeculation(let after):
                agenda.schedule(.speculate(node: node, requestID: id), at: agenda.now + after)
            case .repair(let targets, let object):
                for target in targets { send(.repair(key: entry.key, object: object), from: node, to: target) }
            case .reply(let outcome):
                repliesPerRequest[id, default: 0] += 1
                if case .failure(let failure) = outcome {
                    failedRequests += 1
                    if case .timedOut = failure { failedByDeadline += 1 } else { failedByErrors += 1 }
                }
                guard let client = entry.client else { continue }
                if case .success(let result) = outcome {
                    completedReads.append(CompletedRead(key: entry.key, startedAt: entry.startedAt, result: result))
                    let context = result.object.context
                    switch entry.intent {
                    case .thenPut:
                        clients[client].next = (entry.key, .put(value: nextValue(), contentType: "", context: context))
                    case .thenDelete: clients[client].next = (entry.key, .delete(context: context))
                    case .readOnly: break
                    }
                }
                clientDone(client)
            }
        }
        if nodes[node]!.reads[id]?.machine.isFinished == true { nodes[node]!.reads[id] = nil }
    }

    // MARK: - Network and replicas

    mutating func send(_ message: SimMessage, from: String, to: String) {
        if from != to, network.isolated.contains(from) || network.isolated.contains(to) { return }
        if from != to, Double.random(in: 0..<1, using: &random) < network.dropRate { return }
        let delay = from == to ? 0 : UInt64.random(in: network.delay, using: &random)
        agenda.schedule(.deliver(from: from, to: to, message), at: agenda.now + delay)
    }

    mutating func store(_ object: VersionedObject, key: String, at node: String) {
        nodes[node]!.store[key] = object
        maxLiveSiblings = max(maxLiveSiblings, object.liveSiblings.count)
    }

    mutating func handle(_ event: SimEvent) {
        switch event {
        case .clientStep(let client):
            clientStep(client)
        case .timeout(let node, let id):
            if nodes[node]!.writes[id] != nil {
                let actions = nodes[node]!.writes[id]!.machine.onTimeout(now: agenda.now)
                perform(actions, write: id, at: node)
            } else if nodes[node]!.reads[id] != nil {
                let actions = nodes[node]!.reads[id]!.machine.onTimeout(now: agenda.now)
                perform(actions, read: id, at: node)
            }
        case .speculate(let node, let id):
            if nodes[node]!.reads[id] != nil {
                let actions = nodes[node]!.reads[id]!.machine.onSpeculation()
                perform(actions, read: id, at: node)
            }
        case .deliver(let from, let to, let message):
            if from != to, network.isolated.contains(from) || network.isolated.contains(to) { return }
            deliver(message, from: from, to: to)
        case .isolate(let node):
            network.isolated.insert(node)
        case .rejoin(let node):
            network.isolated.remove(node)
        }
    }

    mutating func deliver(_ message: SimMessage, from: String, to node: String) {
        switch message {
        case .replicate(let id, let key, let object):
            if refuses(from: from, at: node) {
                send(.replicateFailed(requestID: id, reason: "overloaded"), from: node, to: from)
                return
            }
            if let merged = ReplicaStore.merge(stored: nodes[node]!.store[key] ?? VersionedObject(), incoming: object) {
                store(merged, key: key, at: node)
            }
            send(.replicateAck(requestID: id), from: node, to: from)
        case .replicateAck(let id):
            guard let actions = nodes[node]!.writes[id]?.machine.onAck(from: from) else { return }
            perform(actions, write: id, at: node)
        case .replicateFailed(let id, let reason):
            guard let actions = nodes[node]!.writes[id]?.machine.onFailure(from: from, reason: reason) else { return }
            perform(actions, write: id, at: node)
        case .fetch(let id, let key):
            if refuses(from: from, at: node) {
                send(.fetchReply(requestID: id, reply: .failure("overloaded")), from: node, to: from)
                return
            }
            let reply: QuorumRead.Reply = nodes[node]!.store[key].map { .object($0) } ?? .notFound
            send(.fetchReply(requestID: id, reply: reply), from: node, to: from)
        case .fetchReply(let id, let reply):
            guard let actions = nodes[node]!.reads[id]?.machine.onReply(from: from, reply) else { return }
            perform(actions, read: id, at: node)
        case .repair(let key, let object):
            if let merged = ReplicaStore.merge(stored: nodes[node]!.store[key] ?? VersionedObject(), incoming: object) {
                store(merged, key: key, at: node)
            }
        }
    }

    /// Whether the replica answers a peer's request with an error reply (never its own coordinator's).
    mutating func refuses(from sender: String, at node: String) -> Bool {
        sender != node && network.errorRate > 0 && Double.random(in: 0..<1, using: &random) < network.errorRate
    }
}
