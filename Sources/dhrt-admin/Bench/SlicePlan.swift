import Foundation
import Synchronization

/// What every connection does during one slice of the benchmark (a warmup plus a measured window).
struct SlicePlan: Sendable {
    enum Mode: Sendable {
        /// Write keys `first, first + stride, …` below `end`, once each (the load phase).
        case load(first: Int, stride: Int, end: Int)
        /// Run the workload's mix of reads and updates.
        case run(Workload)
    }

    var mode: Mode
    /// Extra header lines (each ending in CRLF) sent with reads and with writes.
    var readHeaders: String
    var writeHeaders: String
    /// Monotonic nanoseconds: operations intended before this are warmup and not recorded.
    var measureFrom: UInt64
    /// Monotonic nanoseconds after which no operation starts (time-bounded slices).
    var stopAt: UInt64?
    /// Measured operations this connection performs (count-bounded slices).
    var opsLimit: Int?
    /// Open loop: nanoseconds between this connection's intended send times; nil for closed loop.
    var intervalNanos: UInt64?

    static func headers(for setting: QuorumSetting) -> (read: String, write: String) {
        ("X-Dhrt-R: \(setting.r)\r\n", "X-Dhrt-W: \(setting.w)\r\n")
    }
}

/// Monotonic clock in nanoseconds.
@inline(__always)
func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Completed and failed operations across all connections, for the progress line and the stall watchdog.
final class ProgressCounter: Sendable {
    private let completed = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)

    @inline(__always)
    func add(failed isFailure: Bool) {
        if isFailure {
            failed.wrappingAdd(1, ordering: .relaxed)
        } else {
            completed.wrappingAdd(1, ordering: .relaxed)
        }
    }

    var snapshot: (completed: Int, failed: Int) {
        (completed.load(ordering: .relaxed), failed.load(ordering: .relaxed))
    }
}
