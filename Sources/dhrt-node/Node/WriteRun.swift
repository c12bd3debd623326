import Coordinator
import NIOCore
import Storage
import Synchronization
import Wire

/// Carries out one `QuorumWrite` over real IO without a task per replica: the write is applied to the local
/// replica in place, sent to the other replicas at once, and acknowledged by this node when group commit
/// reports its append durable, so the local fsync and the remote stores overlap. The machine is driven by
/// `WriteCoordination`, as in the simulators; this is its IO.
final class WriteRun: Sendable {
    /// Applies the client write to the stored object (`ReplicaStore.coordinate`); throws to refuse it.
    typealias Change = @Sendable (VersionedObject) throws -> VersionedObject

    private let io: NodeWriteIO
    private let coordination: WriteCoordination
    private let background: BackgroundTasks

    init(
        node: Node, snapshot: RingSnapshot, collection: String, key: [UInt8], replicas: [String], w: Int,
        sloppy: Sloppy = Sloppy(), change: @escaping Change
    ) {
        let loop = node.executors.currentOrAnyLoop
        let deadline = NIODeadline.now() + TimeAmount(node.config.requestTimeout)
        io = NodeWriteIO(
            node: node, snapshot: snapshot, collection: collection, key: key, change: change, loop: loop,
            callDeadline: deadline + ReplicaCall.grace)
        // Silent primaries get a fallback halfway to the deadline, so that the fallback still has time to answer.
        let handoff = sloppy.fallbacks.isEmpty ? nil : (NIODeadline.now() + TimeAmount(node.config.requestTimeout / 2))
        let machine = QuorumWrite(
            requestID: QuorumIDs.next(), coordinator: node.config.name, replicas: replicas, w: w,
            deadline: deadline.uptimeNanoseconds, fallbacks: sloppy.fallbacks, down: sloppy.down, pw: sloppy.pw,
            handoffAt: handoff?.uptimeNanoseconds, incoming: sloppy.incoming, leaving: sloppy.leaving)
        background = node.background
        let background = node.background
        coordination = WriteCoordination(machine, io: io, onFinish: { background.end() })
    }

    /// Runs the write. The future fails with the local store's error (a failed precondition, a disk error)
    /// and otherwise completes with the machine's outcome; replica calls past `w` go on after it.
    func start() -> EventLoopFuture<QuorumWrite.Outcome> {
        let result = io.loop.makePromise(of: QuorumWrite.Outcome.self)
        guard background.begin() else {
            result.fail(FanOut.ShuttingDown())
            return result.futureResult
        }
        coordination.start { result.completeWith($0) }
        return result.futureResult
    }

    /// A replica that refused the write because its ring moved the key (`ring_moved`), if one did.
    var ringMovedBy: String? { coordination.ringMovedBy }

    /// The object stored locally by this run, if the local store took the write.
    var appliedObject: VersionedObject? { coordination.appliedObject }

    /// Fallbacks that stored the write as a hint, each with the primary it stands in for.
    var hinted: [(fallback: String, owner: String)] { coordination.hinted }
}

/// A write's IO on this node: its storage engine, its peers' wire clients, its event loop's timers.
final class NodeWriteIO: WriteIO {
    private let node: Node
    private let snapshot: RingSnapshot
    private let collection: String
    private let key: [UInt8]
    private let change: WriteRun.Change
    let loop: any EventLoop
    /// Replica calls end after the machine's deadline (`ReplicaCall.grace`).
    private let callDeadline: NIODeadline
    private struct Encoded {
        /// The stored record's object bytes, sent to the replicas as they are.
        var object: [UInt8]?
        /// The replica write, made once: every peer's frame shares the buffer.
        var replicaPut: ByteBuffer?
        /// Where the local append stands in group commit's order.
        var durable: DurablePoint?
    }

    private let encoded = Mutex(Encoded())

    init(
        node: Node, snapshot: RingSnapshot, collection: String, key: [UInt8], change: @escaping WriteRun.Change,
        loop: any EventLoop, callDeadline: NIODeadline
    ) {
        self.node = node
        self.snapshot = snapshot
        self.collection = collection
        self.key = key
        self.change = change
        self.loop = loop
        self.callDeadline = callDeadline
    }

    func storeLocally() throws -> VersionedObject {
        let applied = try node.replica.applyTransform(collection: collection, key: key, change)
        encoded.withLock {
            $0.object = applied.encoded
            $0.durable = applied.durable
        }
        return applied.object
    }

    func whenDurable(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        guard let point = encoded.withLock({ $0.durable }) else { return done(.success(())) }
        node.storage.whenDurable(point, on: node.executors.executor(for: loop)) { done($0.mapError { $0 }) }
    }

    func replicate(
        _ object: VersionedObject, to replica: String, done: @escaping @Sendable (ReplicaCallFailure?) -> Void
    ) {
        // The run stores one object, so its frame is made once, from the local record's bytes when it wrote one.
        let payload = encoded.withLock { state in
            if let payload = state.replicaPut { return payload }
            let bytes = state.object ?? object.encoded()
            let payload = ReplicaPut(collection: collection, key: key, object: bytes, epoch: snapshot.ring.epoch)
                .encoded()
            state.replicaPut = payload
            return payload
        }
        call(replica, type: ReplicaPut.type.rawValue, payload: payload, reply: ReplicaPutReply.self, done: done)
    }

    func storeHint(
        _ object: VersionedObject, at fallback: String, for owner: String,
        done: @escaping @Sendable (ReplicaCallFailure?) -> Void
    ) {
        let bytes = encoded.withLock { $0.object } ?? object.encoded()
        let payload = HintPut(owner: owner, collection: collection, key: key, object: bytes).encoded()
        call(fallback, type: HintPut.type.rawValue, payload: payload, reply: HintPutReply.self, done: done)
    }

    private func call<Reply: WireMessage>(
        _ name: String, type: UInt8, payload: ByteBuffer, reply: Reply.Type,
        done: @escaping @Sendable (ReplicaCallFailure?) -> Void
    ) {
        guard let client = snapshot.clients[name] else { return done(ReplicaCallFailure("unknown member \(name)")) }
        let node = self.node
        client.submit(type: type, payload: payload, deadline: callDeadline).whenComplete { result in
            switch Peers.decode(result, as: Reply.self) {
            case .success:
                done(nil)
            case .failure(let error):
                node.metrics.recordReplicaFailure()
                done(ReplicaCallFailure(error.description, ringMoved: error.isRingMoved))
            }
        }
    }

    func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
        LoopTimer(loop.scheduleTask(deadline: .uptimeNanoseconds(instant), body))
    }
}

extension WriteRun {
    /// Sloppy quorum's inputs: fallbacks in ring order, primaries judged down, primaries that must ack.
    struct Sloppy: Sendable {
        var fallbacks: [String] = []
        var down: Set<String> = []
        var pw = 0
        /// Receivers of a pending plan in the replica list: not primaries for `pw`.
        var incoming: Set<String> = []
        /// Replicas the pending plan takes the key from.
        var leaving: Set<String> = []
    }
}
