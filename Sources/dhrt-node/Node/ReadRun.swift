import Coordinator
import Dispatch
import NIOCore
import Synchronization
import Wire

/// Carries out one `QuorumRead` over real IO without a task per replica: the local replica is read in place,
/// peers through `WireClient.submit`, and every answer, timer and repair is a callback into the machine, which
/// `ReadCoordination` drives as in the simulators; this is its IO.
final class ReadRun: Sendable {
    private let io: NodeReadIO
    private let coordination: ReadCoordination
    private let background: BackgroundTasks

    /// Prepares a read of `collection`/`key` needing `r` answers from `replicas` (preference order).
    init(node: Node, snapshot: RingSnapshot, collection: String, key: [UInt8], replicas: [String], r: Int) {
        let loop = node.executors.currentOrAnyLoop
        let deadline = NIODeadline.now() + TimeAmount(node.config.requestTimeout)
        io = NodeReadIO(
            node: node, snapshot: snapshot, collection: collection, key: key, loop: loop,
            callDeadline: deadline + ReplicaCall.grace)
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
        background = node.background
        let background = node.background
        coordination = ReadCoordination(machine, io: io, onFinish: { background.end() })
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
        let result = io.loop.makePromise(of: QuorumRead.Outcome.self)
        guard background.begin() else {
            result.succeed(.failure(.notEnoughReplicas(required: 1, replicas: 0, answered: [], failed: [:])))
            return result.futureResult
        }
        coordination.start { result.succeed($0) }
        return result.futureResult
    }

    /// A replica that refused because its ring moved the key (`ring_moved`), if one did.
    var ringMovedBy: String? { coordination.ringMovedBy }
}

/// A read's IO on this node: its storage engine, its peers' wire clients, its event loop's timers.
final class NodeReadIO: ReadIO {
    private let node: Node
    private let snapshot: RingSnapshot
    private let collection: String
    private let key: [UInt8]
    let loop: any EventLoop
    private let callDeadline: NIODeadline

    init(
        node: Node, snapshot: RingSnapshot, collection: String, key: [UInt8], loop: any EventLoop,
        callDeadline: NIODeadline
    ) {
        self.node = node
        self.snapshot = snapshot
        self.collection = collection
        self.key = key
        self.loop = loop
        self.callDeadline = callDeadline
    }

    var localName: String { node.config.name }

    var now: UInt64 { NIODeadline.now().uptimeNanoseconds }

    func readLocally() -> QuorumRead.Reply {
        do {
            let object = try node.replica.getNow(collection: collection, key: key)
            return object.isEmpty ? .notFound : .object(object)
        } catch {
            return .failure("\(error)")
        }
    }

    func fetch(
        from name: String, done: @escaping @Sendable (Result<QuorumRead.Reply, ReplicaCallFailure>) -> Void
    ) {
        guard let client = snapshot.clients[name] else {
            return done(.failure(ReplicaCallFailure("unknown member \(name)")))
        }
        let sent = DispatchTime.now().uptimeNanoseconds
        let node = self.node
        let request = ReplicaGet(collection: collection, key: key, epoch: snapshot.ring.epoch).encoded()
        client.submit(type: ReplicaGet.type.rawValue, payload: request, deadline: callDeadline).whenComplete {
            result in
            switch Peers.decode(result, as: ReplicaGetReply.self) {
            case .success(let answer):
                node.latency.record(name, nanoseconds: DispatchTime.now().uptimeNanoseconds &- sent)
                do {
                    let object = try answer.object.map { try VersionedObject.decode($0) } ?? VersionedObject()
                    done(.success(object.isEmpty ? .notFound : .object(object)))
                } catch {
                    done(.success(.failure("malformed object: \(error)")))
                }
            case .failure(let error):
                node.metrics.recordReplicaFailure()
                done(.failure(ReplicaCallFailure(error.description, ringMoved: error.isRingMoved)))
            }
        }
    }

    func repair(_ object: VersionedObject, to replicas: [String]) {
        Repair.send(object, to: replicas, collection: collection, key: key, node: node, snapshot: snapshot)
    }

    func planReceivers() -> [String] { snapshot.incoming(collection: collection, key: key) }

    func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
        LoopTimer(loop.scheduleTask(deadline: .uptimeNanoseconds(instant), body))
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
