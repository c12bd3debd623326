import Coordinator
import NIOCore

/// An event loop's scheduled task as a run's timer.
struct LoopTimer: RunTimer {
    let scheduled: Scheduled<Void>

    init(_ scheduled: Scheduled<Void>) { self.scheduled = scheduled }

    func cancel() { scheduled.cancel() }
}

/// Replica calls of a coordinated request.
enum ReplicaCall {
    /// How much longer than the request a replica call may take. The request's deadline is then the machine's
    /// `onTimeout` (a `timedOut` failure), never a transport timeout racing it on another event loop and
    /// reported as a replica failure.
    static let grace = TimeAmount.milliseconds(250)
}
