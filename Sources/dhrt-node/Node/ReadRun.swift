import Coordinator
import Dispatch
import NIOCore
import Synchronization
import Wire

/// Carries out one `QuorumRead` over real IO without a task per replica: the local replica is read in place,
/// peers through `WireClient.submit`, and every answer, timer and repair is a callback into the machine.
final class ReadRun: Sendable {
    private let node: Node
    private let snapshot: RingSnapshot
    private let collection: String
    private let key: [UInt8]
    private let loop: any EventLoop
    private let deadline: NIODeadline
    private let result: EventLoopPromise<QuorumRead.Outcome>
    private let cell: MachineCell<QuorumRead>
    /// A replica that refused because its ring moved the key (`ring_moved`), if one did.
    let moved = Mutex<String?>(nil)

    /// Prepares a read of `collection`/`key` needing `r` answers from `replicas` (preference order).
    init(node: Node, snapshot: RingSnapshot, collection: String, key: [UInt8], replicas: [String], r: Int) {
        self.node = node
        self.snapshot = snapshot
        self.collection = collection
        self.key = key
        loop = node.executors.currentOrAnyLoop
        deadline = .now() + TimeAmount(node.config.requestTimeout)
        result = loop.makePromise(of: QuorumRead.Outcome.self)
        let ordered = node.latency.order(replicas, local: node.config.name)
        // A sampled share of reads asks every replica, so that keys read often are repaired everywhere. The
        // sample hashes the request id: the system generator costs a getrandom syscall per call.
        let id = QuorumIDs.next()
        let askAll = Self.unitInterval(id) < node.config.readRepairChance
        let peers = ordered.prefix(r).filter { $0 != node.config.name }
        let machine = QuorumRead(
            requestID: id, replicas: ordered, r: r, deadline: deadline.uptimeNanoseconds,
            fanout: askAll ? ordered.count : r,
            speculationDelay: node.latency.speculationDelay(for: peers))
        cell = MachineCell(machine, background: node.background)
    }

    /// A uniform value in [0, 1) from a request id (SplitMix64's finaliser).
    static func unitInterval(_ id: UInt64) -> Double {
        var z = id &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }

    /// Runs the read; the future completes with the client's answer (late replies and repair go on after).
    func start() -> EventLoopFuture<QuorumRead.Outcome> {
        guard cell.begin() else {
            result.succeed(.failure(.notEnoughReplicas(required: 1, replicas: 0, answered: [], failed: [:])))
            return result.futureResult
        }
        apply { $0.start() }
        return result.futureResult
    }

    private func apply(_ event: (inout QuorumRead) -> [QuorumRead.Action]) {
        cell.apply(event, perform: perform)
    }

    private func perform(_ actions: [QuorumRead.Action]) {
        for action in actions {
            switch action {
            case .fetch(let names):
                // Peers first, so that the network works while the local replica is read.
                for name in names where name != node.config.name { fetchRemote(name) }
                if names.contains(node.config.name) {
                    let reply = fetchLocal()
                    apply { $0.onReply(from: node.config.name, reply) }
                }
            case .scheduleTimeout(let at):
                cell.armTimeout(on: loop, at: at) { self.apply { $0.onTimeout(now: at) } }
            case .scheduleSpeculation(let after):
                guard !cell.peek({ $0.isFinished || $0.hasReplied }) else { continue }
                loop.scheduleTask(in: .nanoseconds(Int64(clamping: after))) { self.apply { $0.onSpeculation() } }
            case .reply(let outcome):
                result.succeed(outcome)
            case .repair(let names, let object):
                // A pending plan's receivers may have missed the same write: they get the merged object too.
                let incoming = snapshot.incoming(collection: collection, key: key).filter { !names.contains($0) }
                Repair.send(
                    object, to: names + incoming, collection: collection, key: key, node: node, snapshot: snapshot)
            }
        }
    }

    private func fetchLocal() -> QuorumRead.Reply {
        do {
            let object = try node.replica.getNow(collection: collection, key: key)
            return object.isEmpty ? .notFound : .object(object)
        } catch {
            return .failure("\(error)")
        }
    }

    private func fetchRemote(_ name: String) {
        guard let client = snapshot.clients[name] else {
            apply { $0.onReply(from: name, .failure("unknown member \(name)")) }
            return
        }
        let sent = DispatchTime.now().uptimeNanoseconds
        let node = self.node
        let request = ReplicaGet(collection: collection, key: key, epoch: snapshot.ring.epoch).encoded()
        let callDeadline = deadline + ReplicaCall.grace
        client.submit(type: ReplicaGet.type.rawValue, payload: request, deadline: callDeadline).whenComplete {
            result in
            let reply: QuorumRead.Reply
            switch Peers.decode(result, as: ReplicaGetReply.self) {
            case .success(let answer):
                node.latency.record(name, nanoseconds: DispatchTime.now().uptimeNanoseconds &- sent)
                do {
                    let object = try answer.object.map { try VersionedObject.decode($0) } ?? VersionedObject()
                    reply = object.isEmpty ? .notFound : .object(object)
                } catch {
                    reply = .failure("malformed object: \(error)")
                }
            case .failure(let error):
                node.metrics.recordReplicaFailure()
                if error.isRingMoved { self.moved.withLock { $0 = name } }
                reply = .failure(error.description)
            }
            self.apply { $0.onReply(from: name, reply) }
        }
    }
}

/// Request ids for the coordinator's machines, unique per process.
enum QuorumIDs {
    private static let counter = Atomic<UInt64>(1)

    static func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }
}

/// Read repair: sends the merged object to replicas that answered with less, in the background.
enum Repair {
    static func send(
        _ object: VersionedObject, to names: [String], collection: String, key: [UInt8], node: Node,
        snapshot: RingSnapshot
    ) {
        node.metrics.recordReadRepairs(names.count)
        let payload = ReplicaPut(
            collection: collection, key: key, object: object.encoded(), epoch: snapshot.ring.epoch
        ).encoded()
        let deadline = NIODeadline.now() + TimeAmount(node.config.requestTimeout)
        for name in names {
            if name == node.config.name {
                do {
                    // Repair needs no acknowledgement: the bytes become durable with the next sync.
                    _ = try node.replica.applyMerge(collection: collection, key: key, object)
                } catch {
                    node.logger.debug("local read repair failed", metadata: ["error": "\(error)"])
                }
                continue
            }
            guard let client = snapshot.clients[name], node.background.begin() else { continue }
            client.submit(type: ReplicaPut.type.rawValue, payload: payload, deadline: deadline).whenComplete {
                result in
                if case .failure(let error) = Peers.decode(result, as: ReplicaPutReply.self) {
                    node.logger.debug("read repair failed", metadata: ["replica": "\(name)", "error": "\(error)"])
                }
                node.background.end()
            }
        }
    }
}
