import Coordinator
import NIOCore
import Storage
import Synchronization
import Wire

/// Carries out one `QuorumWrite` over real IO without a task per replica: the write is applied to the local
/// replica in place, sent to the other replicas at once, and acknowledged by this node when group commit
/// reports its append durable, so the local fsync and the remote stores overlap.
final class WriteRun: Sendable {
    /// Applies the client write to the stored object (`ReplicaStore.coordinate`); throws to refuse it.
    typealias Change = @Sendable (VersionedObject) throws -> VersionedObject

    private let node: Node
    private let snapshot: RingSnapshot
    private let collection: String
    private let key: [UInt8]
    private let change: Change
    private let loop: any EventLoop
    private let deadline: NIODeadline
    /// Replica calls end after the machine's deadline (`ReplicaCall.grace`).
    private let callDeadline: NIODeadline
    private let result: EventLoopPromise<QuorumWrite.Outcome>

    private let cell: MachineCell<QuorumWrite>

    private struct Local {
        var replied = false
        /// The stored record's object bytes, sent to the replicas as they are.
        var encoded: [UInt8]?
        var applied: VersionedObject?
        var movedBy: String?
    }

    private let local = Mutex(Local())

    init(
        node: Node, snapshot: RingSnapshot, collection: String, key: [UInt8], replicas: [String], w: Int,
        sloppy: Sloppy = Sloppy(), change: @escaping Change
    ) {
        self.node = node
        self.snapshot = snapshot
        self.collection = collection
        self.key = key
        self.change = change
        loop = node.executors.currentOrAnyLoop
        deadline = .now() + TimeAmount(node.config.requestTimeout)
        callDeadline = deadline + ReplicaCall.grace
        result = loop.makePromise(of: QuorumWrite.Outcome.self)
        // Silent primaries get a fallback halfway to the deadline, so that the fallback still has time to answer.
        let handoff = sloppy.fallbacks.isEmpty ? nil : (NIODeadline.now() + TimeAmount(node.config.requestTimeout / 2))
        let machine = QuorumWrite(
            requestID: QuorumIDs.next(), coordinator: node.config.name, replicas: replicas, w: w,
            deadline: deadline.uptimeNanoseconds, fallbacks: sloppy.fallbacks, down: sloppy.down, pw: sloppy.pw,
            handoffAt: handoff?.uptimeNanoseconds, incoming: sloppy.incoming, leaving: sloppy.leaving)
        cell = MachineCell(machine, background: node.background)
    }

    /// Runs the write. The future fails with the local store's error (a failed precondition, a disk error)
    /// and otherwise completes with the machine's outcome; replica calls past `w` go on after it.
    func start() -> EventLoopFuture<QuorumWrite.Outcome> {
        guard cell.begin() else {
            result.fail(FanOut.ShuttingDown())
            return result.futureResult
        }
        apply { $0.start() }
        return result.futureResult
    }

    private func apply(_ event: (inout QuorumWrite) -> [QuorumWrite.Action]) {
        cell.apply(event, perform: perform)
    }

    private func perform(_ actions: [QuorumWrite.Action]) {
        for action in actions {
            switch action {
            case .storeLocally:
                storeLocally()
            case .scheduleTimeout(let at):
                cell.armTimeout(on: loop, at: at) { self.apply { $0.onTimeout(now: at) } }
            case .scheduleHandoff(let at):
                loop.scheduleTask(deadline: .uptimeNanoseconds(at)) { self.apply { $0.onHandoff(now: at) } }
            case .send(let names, let object):
                send(object, to: names)
            case .sendHint(let fallback, let owner, let object):
                sendHint(object, to: fallback, for: owner)
            case .reply(let outcome):
                if answer() { result.succeed(outcome) }
            }
        }
    }

    /// Claims the client answer; false if it was given already.
    private func answer() -> Bool {
        local.withLock { local in
            defer { local.replied = true }
            return !local.replied
        }
    }

    private func storeLocally() {
        let applied: (object: VersionedObject, encoded: [UInt8]?, durable: DurablePoint)
        do {
            applied = try node.replica.applyTransform(collection: collection, key: key, change)
        } catch {
            // Answer with the error itself so that the caller maps it (412, 400, 500).
            if answer() { result.fail(error) }
            apply { $0.onLocalFailure(reason: "\(error)") }
            return
        }
        local.withLock {
            $0.encoded = applied.encoded
            $0.applied = applied.object
        }
        apply { $0.onLocalApplied(applied.object) }
        node.storage.whenDurable(applied.durable, on: node.executors.executor(for: loop)) { durable in
            switch durable {
            case .success: self.apply { $0.onLocalDurable() }
            case .failure(let error): self.apply { $0.onLocalFailure(reason: "\(error)") }
            }
        }
    }

    private func send(_ object: VersionedObject, to names: [String]) {
        // Encoded once (the local record's bytes when it wrote one); every peer's frame shares the buffer.
        let bytes = local.withLock { $0.encoded } ?? object.encoded()
        let payload = ReplicaPut(collection: collection, key: key, object: bytes, epoch: snapshot.ring.epoch).encoded()
        for name in names {
            guard let client = snapshot.clients[name] else {
                apply { $0.onFailure(from: name, reason: "unknown member \(name)") }
                continue
            }
            let node = self.node
            client.submit(type: ReplicaPut.type.rawValue, payload: payload, deadline: callDeadline).whenComplete {
                result in
                switch Peers.decode(result, as: ReplicaPutReply.self) {
                case .success:
                    self.apply { $0.onAck(from: name) }
                case .failure(let error):
                    node.metrics.recordReplicaFailure()
                    if error.isRingMoved { self.local.withLock { $0.movedBy = name } }
                    self.apply { $0.onFailure(from: name, reason: error.description) }
                }
            }
        }
    }

    /// A replica that refused the write because its ring moved the key (`ring_moved`), if one did.
    var ringMovedBy: String? { local.withLock { $0.movedBy } }

    /// The object stored locally by this run, if the local store took the write.
    var appliedObject: VersionedObject? { local.withLock { $0.applied } }

    /// Fallbacks that stored the write as a hint, each with the primary it stands in for.
    var hinted: [(fallback: String, owner: String)] { cell.peek { $0.hinted } }

    private func sendHint(_ object: VersionedObject, to fallback: String, for owner: String) {
        let bytes = local.withLock { $0.encoded } ?? object.encoded()
        let payload = HintPut(owner: owner, collection: collection, key: key, object: bytes).encoded()
        guard let client = snapshot.clients[fallback] else {
            apply { $0.onFailure(from: fallback, reason: "unknown member \(fallback)") }
            return
        }
        let node = self.node
        client.submit(type: HintPut.type.rawValue, payload: payload, deadline: callDeadline).whenComplete { result in
            switch Peers.decode(result, as: HintPutReply.self) {
            case .success:
                self.apply { $0.onAck(from: fallback) }
            case .failure(let error):
                node.metrics.recordReplicaFailure()
                self.apply { $0.onFailure(from: fallback, reason: error.description) }
            }
        }
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
