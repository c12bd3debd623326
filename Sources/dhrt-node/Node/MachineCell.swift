import Coordinator
import NIOCore
import Synchronization

/// A coordinator state machine as the request path drives it: under a lock, with its deadline timer, and
/// registered with `BackgroundTasks` from `start` until it finishes, so that a graceful shutdown waits for it.
final class MachineCell<Machine: CoordinatedMachine>: Sendable {
    private struct State {
        var machine: Machine
        var timeout: Scheduled<Void>?
        var finished = false
    }

    private let state: Mutex<State>
    private let background: BackgroundTasks

    init(_ machine: Machine, background: BackgroundTasks) {
        state = Mutex(State(machine: machine))
        self.background = background
    }

    /// Registers the machine as in flight; false once shutdown began (then it MUST NOT be started).
    func begin() -> Bool { background.begin() }

    /// Runs one event; `perform` receives its actions outside the lock. When the machine has just finished,
    /// its timer is cancelled and its registration ended, after `perform`.
    func apply(_ event: (inout Machine) -> [Machine.Action], perform: ([Machine.Action]) -> Void) {
        let (actions, justFinished, timeout) = state.withLock { state in
            let actions = event(&state.machine)
            guard state.machine.isFinished, !state.finished else { return (actions, false, nil as Scheduled<Void>?) }
            state.finished = true
            return (actions, true, state.timeout)
        }
        perform(actions)
        if justFinished {
            timeout?.cancel()
            background.end()
        }
    }

    /// Arms the deadline timer on `loop`, unless the machine finished already (a read answered at once).
    func armTimeout(on loop: any EventLoop, at deadline: UInt64, _ fire: @escaping @Sendable () -> Void) {
        state.withLock { state in
            guard !state.finished else { return }
            state.timeout = loop.scheduleTask(deadline: .uptimeNanoseconds(deadline), fire)
        }
    }

    /// Reads the machine.
    func peek<T>(_ body: (Machine) -> T) -> T { state.withLock { body($0.machine) } }
}

/// What `MachineCell` needs of a machine.
protocol CoordinatedMachine: Sendable {
    associatedtype Action: Sendable
    /// Nothing more can happen: drop the machine.
    var isFinished: Bool { get }
}

extension QuorumRead: CoordinatedMachine {}
extension QuorumWrite: CoordinatedMachine {}

/// Replica calls of a coordinated request.
enum ReplicaCall {
    /// How much longer than the request a replica call may take. The request's deadline is then the machine's
    /// `onTimeout` (a `timedOut` failure), never a transport timeout racing it on another event loop and
    /// reported as a replica failure.
    static let grace = TimeAmount.milliseconds(250)
}
