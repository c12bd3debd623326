import Synchronization

/// A timer a run armed, cancelled when its machine finishes before it fires.
public protocol RunTimer: Sendable {
    func cancel()
}

/// What a run needs of a coordinator machine.
public protocol CoordinatedMachine: Sendable {
    associatedtype Action: Sendable
    /// Nothing more can happen: drop the machine.
    var isFinished: Bool { get }
}

extension QuorumRead: CoordinatedMachine {}
extension QuorumWrite: CoordinatedMachine {}

/// A coordinator machine as a run drives it: events under a lock, actions performed outside it (so that an
/// action may feed the next event at once), and its deadline timer cancelled when it finishes.
public final class CoordinationCell<Machine: CoordinatedMachine>: Sendable {
    private struct State {
        var machine: Machine
        var timeout: (any RunTimer)?
        var finished = false
    }

    private let state: Mutex<State>
    private let onFinish: @Sendable () -> Void

    /// `onFinish` runs once, after the actions of the event that finished the machine.
    public init(_ machine: Machine, onFinish: @escaping @Sendable () -> Void = {}) {
        state = Mutex(State(machine: machine))
        self.onFinish = onFinish
    }

    /// Runs one event; `perform` receives its actions outside the lock.
    public func apply(_ event: (inout Machine) -> [Machine.Action], perform: ([Machine.Action]) -> Void) {
        let (actions, justFinished, timeout) = state.withLock { state in
            let actions = event(&state.machine)
            guard state.machine.isFinished, !state.finished else { return (actions, false, nil as (any RunTimer)?) }
            state.finished = true
            return (actions, true, state.timeout)
        }
        perform(actions)
        if justFinished {
            timeout?.cancel()
            onFinish()
        }
    }

    /// Arms the deadline timer, unless the machine finished already (a read answered at once).
    public func armTimeout(_ arm: () -> any RunTimer) {
        state.withLock { state in
            guard !state.finished else { return }
            state.timeout = arm()
        }
    }

    /// Reads the machine.
    public func peek<T>(_ body: (Machine) -> T) -> T { state.withLock { body($0.machine) } }
}

/// Why a call to another replica failed.
public struct ReplicaCallFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    /// The replica refused because its ring moved the key away (epoch fencing): the coordinator's ring is stale.
    public var ringMoved: Bool

    public init(_ reason: String, ringMoved: Bool = false) {
        self.reason = reason
        self.ringMoved = ringMoved
    }

    public var description: String { reason }
}
