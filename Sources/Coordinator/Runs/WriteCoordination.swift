import Synchronization

/// What a coordinated write needs of the node running it. The node's shell speaks to its storage engine and
/// sockets; the simulator to its agenda. Every callback is called exactly once, on any thread.
public protocol WriteIO: Sendable {
    /// Applies the client's write to the local replica and returns the stored object (throws to refuse it).
    func storeLocally() throws -> VersionedObject
    /// Calls `done` once the local append is durable, or with the error that lost it; called only after
    /// `storeLocally` returned.
    func whenDurable(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void)
    /// Sends the stored object to another replica; `done` gets nil once it stored it.
    func replicate(
        _ object: VersionedObject, to replica: String, done: @escaping @Sendable (ReplicaCallFailure?) -> Void)
    /// Sends the stored object to `fallback` as a hint for `owner`; `done` gets nil once it stored the hint.
    func storeHint(
        _ object: VersionedObject, at fallback: String, for owner: String,
        done: @escaping @Sendable (ReplicaCallFailure?) -> Void)
    /// Calls `body` at `instant` on the machine's clock.
    func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer
}

/// Carries out one `QuorumWrite` through a `WriteIO`: the one place that turns the machine's actions into calls,
/// for the node and the simulators alike. The IO is an existential, not a generic parameter: unspecialized
/// across the module boundary, a generic driver looked its types' metadata up at run time on every request.
public final class WriteCoordination: Sendable {
    /// The client's answer: the machine's outcome, or the local store's error (a failed precondition, a disk
    /// error) when it refused the write before anything was sent.
    public typealias Answer = @Sendable (Result<QuorumWrite.Outcome, any Error>) -> Void

    private struct Local {
        var answer: Answer?
        var applied: VersionedObject?
        var movedBy: String?
    }

    private let io: any WriteIO
    private let cell: CoordinationCell<QuorumWrite>
    private let local = Mutex(Local())

    public init(_ machine: QuorumWrite, io: any WriteIO, onFinish: @escaping @Sendable () -> Void = {}) {
        self.io = io
        cell = CoordinationCell(machine, onFinish: onFinish)
    }

    /// Runs the write; `answer` is called once. Replica calls past `w` go on after it.
    public func start(answer: @escaping Answer) {
        local.withLock { $0.answer = answer }
        apply { $0.start() }
    }

    /// A replica that refused the write because its ring moved the key, if one did.
    public var ringMovedBy: String? { local.withLock { $0.movedBy } }

    /// The object stored locally, if the local store took the write.
    public var appliedObject: VersionedObject? { local.withLock { $0.applied } }

    /// Fallbacks that stored the write as a hint, each with the primary it stands in for.
    public var hinted: [(fallback: String, owner: String)] { cell.peek { $0.hinted } }

    private func apply(_ event: (inout QuorumWrite) -> [QuorumWrite.Action]) {
        cell.apply(event, perform: perform)
    }

    private func perform(_ actions: [QuorumWrite.Action]) {
        for action in actions {
            switch action {
            case .storeLocally:
                storeLocally()
            case .scheduleTimeout(let at):
                cell.armTimeout { io.schedule(at: at) { self.apply { $0.onTimeout(now: at) } } }
            case .scheduleHandoff(let at):
                _ = io.schedule(at: at) { self.apply { $0.onHandoff(now: at) } }
            case .send(let names, let object):
                for name in names {
                    io.replicate(object, to: name) { self.answered(by: name, $0) }
                }
            case .sendHint(let fallback, let owner, let object):
                io.storeHint(object, at: fallback, for: owner) { self.answered(by: fallback, $0) }
            case .reply(let outcome):
                takeAnswer()?(.success(outcome))
            }
        }
    }

    private func answered(by name: String, _ failure: ReplicaCallFailure?) {
        guard let failure else { return apply { $0.onAck(from: name) } }
        if failure.ringMoved { local.withLock { $0.movedBy = name } }
        apply { $0.onFailure(from: name, reason: failure.reason) }
    }

    /// The client's answer, once.
    private func takeAnswer() -> Answer? {
        local.withLock { local in
            defer { local.answer = nil }
            return local.answer
        }
    }

    private func storeLocally() {
        let stored: VersionedObject
        do {
            stored = try io.storeLocally()
        } catch {
            // Answered with the error itself, so that the caller maps it (412, 400, 500).
            takeAnswer()?(.failure(error))
            apply { $0.onLocalFailure(reason: "\(error)") }
            return
        }
        local.withLock { $0.applied = stored }
        apply { $0.onLocalApplied(stored) }
        io.whenDurable { durable in
            switch durable {
            case .success: self.apply { $0.onLocalDurable() }
            case .failure(let error): self.apply { $0.onLocalFailure(reason: "\(error)") }
            }
        }
    }
}
