@testable import Coordinator

/// A simulator's timer: the agenda has no removal, so a cancelled timer fires and does nothing.
final class SimTimer: RunTimer, @unchecked Sendable {
    private(set) var cancelled = false

    func cancel() { cancelled = true }

    /// Hands `schedule` an event that runs `body` unless the timer was cancelled or `live` turned false (the
    /// node that armed it crashed since).
    static func arm(
        _ schedule: (@escaping () -> Void) -> Void, while live: @escaping () -> Bool = { true },
        _ body: @escaping @Sendable () -> Void
    ) -> SimTimer {
        let timer = SimTimer()
        schedule { if !timer.cancelled, live() { body() } }
        return timer
    }
}
