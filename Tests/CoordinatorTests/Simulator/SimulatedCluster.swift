import TestSupport

@testable import Coordinator

/// A cluster of simulated nodes whose reads and writes run through the node's own `ReadCoordination` and
/// `WriteCoordination` (the real `QuorumRead`/`QuorumWrite` machines and `ReplicaStore`) over a seeded lossy
/// network, with clients doing reads, read-modify-writes, blind writes and deletes. It records what the
/// invariants need: acknowledged writes, completed reads, replies per request.
final class SimulatedCluster: @unchecked Sendable {
    enum Intent { case readOnly, thenPut, thenDelete }

    final class Node: @unchecked Sendable {
        var store: [String: VersionedObject] = [:]
        /// Requests coordinated here whose machine has not finished.
        var inFlight = 0
    }

    struct Client {
        var remainingOperations: Int
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
    /// replicas answered with errors (`onFailure` / `onReply(.failure)`).
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
        for client in 0..<clients { agenda.schedule(at: UInt64(client)) { self.clientStep(client) } }
        for _ in 0..<network.isolations {
            let node = names.randomElement(using: &random)!
            let start = UInt64.random(in: 0...1500, using: &random)
            agenda.schedule(at: start) { self.network.isolated.insert(node) }
            agenda.schedule(at: start + UInt64.random(in: 100...400, using: &random)) {
                self.network.isolated.remove(node)
            }
        }
    }

    func preferenceList(_ key: String) -> [String] {
        let start = keys.firstIndex(of: key)!
        return (0..<n).map { names[(start + $0) % names.count] }
    }

    func run() {
        while let event = agenda.next() { event() }
    }

    /// Heals the network, lets everything in flight land, then reads every key with R = N from its first replica
    /// so that read repair brings every replica to the merged version.
    func healAndRepairEverything() {
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

    func clientStep(_ index: Int) {
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
                key: key, write: .put(value: nextValue(), contentType: "", context: VersionVector()), client: index)
        case 7: startRead(key: key, at: coordinator, r: r, client: index, intent: .thenDelete)
        default: startRead(key: key, at: coordinator, r: r, client: index, intent: .readOnly)
        }
    }

    func nextValue() -> [UInt8] {
        writeCounter += 1
        return withUnsafeBytes(of: writeCounter.littleEndian) { Array($0) }
    }

    func clientDone(_ client: Int) {
        agenda.schedule(at: agenda.now + UInt64.random(in: 0...30, using: &random)) { self.clientStep(client) }
    }

    // MARK: - Requests

    func startWrite(key: String, write: ClientWrite, client: Int) {
        nextRequestID += 1
        let id = nextRequestID
        let replicas = preferenceList(key)
        let coordinator = replicas.randomElement(using: &random)!
        let machine = QuorumWrite(
            requestID: id, coordinator: coordinator, replicas: replicas, w: w, deadline: agenda.now + timeout)
        let node = nodes[coordinator]!
        node.inFlight += 1
        let io = WriteIO(cluster: self, coordinator: coordinator, key: key, write: write)
        WriteCoordination(machine, io: io, onFinish: { node.inFlight -= 1 }).start { answer in
            self.repliesPerRequest[id, default: 0] += 1
            switch answer {
            case .success(.success(_, let object)):
                self.ackedWrites.append(
                    AckedWrite(
                        key: key, dot: Dot(actor: coordinator, counter: object.context[coordinator]),
                        ackedAt: self.agenda.now))
            case .success(.failure(let failure)):
                self.failedRequests += 1
                if case .timedOut = failure { self.failedByDeadline += 1 } else { self.failedByErrors += 1 }
            case .failure:
                self.failedRequests += 1
                self.failedByErrors += 1
            }
            self.clientDone(client)
        }
    }

    func startRead(key: String, at coordinator: String, r: Int, client: Int?, intent: Intent) {
        nextRequestID += 1
        let id = nextRequestID
        let startedAt = agenda.now
        // Client reads ask only R replicas (the node's fast path), speculating on the next after 40 ticks.
        let machine = QuorumRead(
            requestID: id, replicas: preferenceList(key), r: r, deadline: agenda.now + timeout,
            fanout: client == nil ? nil : r, speculationDelay: 40)
        let node = nodes[coordinator]!
        node.inFlight += 1
        let io = ReadIO(cluster: self, coordinator: coordinator, key: key)
        ReadCoordination(machine, io: io, onFinish: { node.inFlight -= 1 }).start { outcome in
            self.repliesPerRequest[id, default: 0] += 1
            if case .failure(let failure) = outcome {
                self.failedRequests += 1
                if case .timedOut = failure { self.failedByDeadline += 1 } else { self.failedByErrors += 1 }
            }
            guard let client else { return }
            if case .success(let result) = outcome {
                self.completedReads.append(CompletedRead(key: key, startedAt: startedAt, result: result))
                let context = result.object.context
                switch intent {
                case .thenPut:
                    self.clients[client].next = (key, .put(value: self.nextValue(), contentType: "", context: context))
                case .thenDelete: self.clients[client].next = (key, .delete(context: context))
                case .readOnly: break
                }
            }
            self.clientDone(client)
        }
    }

    // MARK: - Network and replicas

    /// Runs `body` at `to` after the network's delay, unless the message is lost or either end is cut off.
    func send(from: String, to: String, _ body: @escaping () -> Void) {
        if from != to, network.isolated.contains(from) || network.isolated.contains(to) { return }
        if from != to, Double.random(in: 0..<1, using: &random) < network.dropRate { return }
        let delay = from == to ? 0 : UInt64.random(in: network.delay, using: &random)
        agenda.schedule(at: agenda.now + delay) {
            if from != to, self.network.isolated.contains(from) || self.network.isolated.contains(to) { return }
            body()
        }
    }

    func store(_ object: VersionedObject, key: String, at node: String) {
        nodes[node]!.store[key] = object
        maxLiveSiblings = max(maxLiveSiblings, object.liveSiblings.count)
    }

    func merge(_ object: VersionedObject, key: String, at node: String) {
        if let merged = ReplicaStore.merge(stored: nodes[node]!.store[key] ?? VersionedObject(), incoming: object) {
            store(merged, key: key, at: node)
        }
    }

    /// Whether the replica answers a peer's request with an error reply (never its own coordinator's).
    func refuses(from sender: String, at node: String) -> Bool {
        sender != node && network.errorRate > 0 && Double.random(in: 0..<1, using: &random) < network.errorRate
    }

    func timer(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
        SimTimer.arm({ agenda.schedule(at: instant, $0) }, body)
    }
}

extension SimulatedCluster {
    /// A coordinated write's IO: the coordinator's store (durable at once), replicas over the network.
    struct WriteIO: Coordinator.WriteIO, @unchecked Sendable {
        let cluster: SimulatedCluster
        let coordinator: String
        let key: String
        let write: ClientWrite

        func storeLocally() throws -> VersionedObject {
            let stored = cluster.nodes[coordinator]!.store[key] ?? VersionedObject()
            let object = try ReplicaStore.coordinate(
                stored: stored, write: write, actor: coordinator, timestamp: cluster.agenda.now)
            cluster.store(object, key: key, at: coordinator)
            return object
        }

        func whenDurable(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
            done(.success(()))
        }

        func replicate(
            _ object: VersionedObject, to replica: String, done: @escaping @Sendable (ReplicaCallFailure?) -> Void
        ) {
            let (cluster, key, from) = (cluster, key, coordinator)
            cluster.send(from: from, to: replica) {
                let refused = cluster.refuses(from: from, at: replica)
                if !refused { cluster.merge(object, key: key, at: replica) }
                cluster.send(from: replica, to: from) { done(refused ? ReplicaCallFailure("overloaded") : nil) }
            }
        }

        func storeHint(
            _ object: VersionedObject, at fallback: String, for owner: String,
            done: @escaping @Sendable (ReplicaCallFailure?) -> Void
        ) {
            // The simulated writes run without fallbacks.
            done(ReplicaCallFailure("no fallbacks"))
        }

        func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
            cluster.timer(at: instant, body)
        }
    }

    /// A coordinated read's IO: the coordinator's store read in place, replicas over the network.
    struct ReadIO: Coordinator.ReadIO, @unchecked Sendable {
        let cluster: SimulatedCluster
        let coordinator: String
        let key: String

        var localName: String { coordinator }

        var now: UInt64 { cluster.agenda.now }

        func readLocally() -> QuorumRead.Reply {
            cluster.nodes[coordinator]!.store[key].map { .object($0) } ?? .notFound
        }

        func fetch(
            from replica: String, done: @escaping @Sendable (Result<QuorumRead.Reply, ReplicaCallFailure>) -> Void
        ) {
            let (cluster, key, from) = (cluster, key, coordinator)
            cluster.send(from: from, to: replica) {
                let answer: Result<QuorumRead.Reply, ReplicaCallFailure> =
                    cluster.refuses(from: from, at: replica)
                    ? .failure(ReplicaCallFailure("overloaded"))
                    : .success(cluster.nodes[replica]!.store[key].map { .object($0) } ?? .notFound)
                cluster.send(from: replica, to: from) { done(answer) }
            }
        }

        func repair(_ object: VersionedObject, to replicas: [String]) {
            let (cluster, key, from) = (cluster, key, coordinator)
            for replica in replicas {
                cluster.send(from: from, to: replica) { cluster.merge(object, key: key, at: replica) }
            }
        }

        func planReceivers() -> [String] { [] }

        func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
            cluster.timer(at: instant, body)
        }
    }
}
