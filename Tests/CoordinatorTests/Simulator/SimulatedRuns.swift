@testable import Coordinator

/// A simulator's timer: the agenda has no removal, so a cancelled timer fires and does nothing.
final class SimTimer: RunTimer, @unchecked Sendable {
    private(set) var cancelled = false

    func cancel() { cancelled = true }
}
