import Synchronization

/// What a coordinated read needs of the node running it (see `WriteIO`). Every callback is called exactly
/// once, on any thread.
public protocol ReadIO: Sendable {
    /// This node's name: its replica is read in place, after the peers are asked.
    var localName: String { get }
    /// The machine's clock.
    var now: UInt64 { get }
    /// Reads the local replica.
    func readLocally() -> QuorumRead.Reply
    /// Asks another replica for its object.
    func fetch(from replica: String, done: @escaping @Sendable (Result<QuorumRead.Reply, ReplicaCallFailure>) -> Void)
    /// Sends the merged object to replicas that answered with less (no answer awaited).
    func repair(_ object: VersionedObject, to replicas: [String])
    /// Replicas a pending plan adds to the key's list: they may have missed the same write.
    func planReceivers() -> [String]
    /// Calls `body` at `instant` on the machine's clock.
    func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer
}

/// Carries out one `QuorumRead` through a `ReadIO`, for the node and the simulators alike (an existential, as
/// in `WriteCoordination`).
public final class ReadCoordination: Sendable {
    public typealias Answer = @Sendable (QuorumRead.Outcome) -> Void

    private let io: any ReadIO
    private let cell: CoordinationCell<QuorumRead>
    private let answer = Mutex<Answer?>(nil)
    private let moved = Mutex<String?>(nil)

    public init(_ machine: QuorumRead, io: any ReadIO, onFinish: @escaping @Sendable () -> Void = {}) {
        self.io = io
        cell = CoordinationCell(machine, onFinish: onFinish)
    }

    /// Runs the read; `answer` is called once. Late replies and repair go on after it.
    public func start(answer: @escaping Answer) {
        self.answer.withLock { $0 = answer }
        apply { $0.start() }
    }

    /// A replica that refused because its ring moved the key, if one did.
    public var ringMovedBy: String? { moved.withLock { $0 } }

    private func apply(_ event: (inout QuorumRead) -> [QuorumRead.Action]) {
        cell.apply(event, perform: perform)
    }

    private func perform(_ actions: [QuorumRead.Action]) {
        for action in actions {
            switch action {
            case .fetch(let names):
                // Peers first, so that the network works while the local replica is read.
                for name in names where name != io.localName { fetch(name) }
                if names.contains(io.localName) {
                    let reply = io.readLocally()
                    apply { $0.onReply(from: io.localName, reply) }
                }
            case .scheduleTimeout(let at):
                cell.armTimeout { io.schedule(at: at) { self.apply { $0.onTimeout(now: at) } } }
            case .scheduleSpeculation(let after):
                guard !cell.peek({ $0.isFinished || $0.hasReplied }) else { continue }
                _ = io.schedule(at: io.now &+ after) { self.apply { $0.onSpeculation() } }
            case .reply(let outcome):
                let answer = self.answer.withLock { answer in
                    defer { answer = nil }
                    return answer
                }
                answer?(outcome)
            case .repair(let names, let object):
                let receivers = io.planReceivers().filter { !names.contains($0) }
                io.repair(object, to: names + receivers)
            }
        }
    }

    private func fetch(_ name: String) {
        io.fetch(from: name) { result in
            switch result {
            case .success(let reply):
                self.apply { $0.onReply(from: name, reply) }
            case .failure(let failure):
                if failure.ringMoved { self.moved.withLock { $0 = name } }
                self.apply { $0.onReply(from: name, .failure(failure.reason)) }
            }
        }
    }
}
