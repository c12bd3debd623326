import CoreMetrics
import Synchronization

/// `dhrt_resp_commands_total{command, result}` and `dhrt_resp_command_duration_seconds{command}` at `/metrics`,
/// beside the HTTP requests' `dhrt_requests_total`.
final class RESPMetrics: Sendable {
    private struct Labels: Hashable {
        var command: String
        var ok: Bool
    }

    private static let known = Set(RESPCommands.table.map { $0.name.uppercased() })
    private let made = Mutex<[Labels: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])

    func record(command: String, ok: Bool, duration: Duration) {
        // Unknown names stay one label: a client cannot grow the registry by sending made-up commands.
        let labels = Labels(command: Self.known.contains(command) ? command.lowercased() : "other", ok: ok)
        let (counter, timer) = made.withLock { made in
            if let known = made[labels] { return known }
            let counter = CoreMetrics.Counter(
                label: "dhrt_resp_commands_total",
                dimensions: [("command", labels.command), ("result", ok ? "ok" : "error")])
            let timer = CoreMetrics.Timer(
                label: "dhrt_resp_command_duration_seconds", dimensions: [("command", labels.command)])
            made[labels] = (counter, timer)
            return (counter, timer)
        }
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }
}
