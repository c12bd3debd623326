/// When an HTTP connection has waited too long for its client: the header, body and idle timeouts as a state
/// machine over the connection's events, with the clock passed in.
///
/// The client is only on the clock while the server waits for it: between requests (idle), from a request's
/// first byte to its head (header timeout), and from its head to its end (body timeout). While an answer is
/// owed, the server is the slow one and no timeout runs.
struct ConnectionTimer: Sendable {
    struct Limits: Sendable {
        var header: Duration
        var body: Duration
        var idle: Duration
    }

    enum Verdict: Equatable, Sendable {
        case wait
        /// The client took too long with a request: answer 408 if nothing else is owed, and close.
        case requestTimeout(String)
        /// A keep-alive connection stayed silent: close without a word.
        case idle
    }

    private enum Reading: Equatable {
        /// Between requests; `bytes` once the next request's first byte came.
        case head(since: ContinuousClock.Instant, bytes: Bool)
        case body(since: ContinuousClock.Instant)
    }

    let limits: Limits
    private var reading: Reading
    /// Requests whose response has not ended.
    private(set) var owed = 0

    init(limits: Limits, now: ContinuousClock.Instant) {
        self.limits = limits
        reading = .head(since: now, bytes: false)
    }

    /// Bytes arrived from the client.
    mutating func bytesReceived(now: ContinuousClock.Instant) {
        if case .head(_, false) = reading { reading = .head(since: now, bytes: true) }
    }

    mutating func headReceived(now: ContinuousClock.Instant) {
        owed += 1
        reading = .body(since: now)
    }

    mutating func requestEnded(now: ContinuousClock.Instant) {
        reading = .head(since: now, bytes: false)
    }

    mutating func responseEnded(now: ContinuousClock.Instant) {
        owed = max(0, owed - 1)
        // The idle clock starts when the server has said its last word, not when the request ended.
        if owed == 0, case .head(_, false) = reading { reading = .head(since: now, bytes: false) }
    }

    /// Whether an answer is owed for an earlier request than the one being read (a 408 would overtake it).
    var mayAnswer: Bool {
        switch reading {
        case .head: owed == 0
        case .body: owed == 1
        }
    }

    func check(now: ContinuousClock.Instant) -> Verdict {
        switch reading {
        case .body(let since):
            return now - since > limits.body
                ? .requestTimeout("the request body did not arrive within \(limits.body)") : .wait
        case .head where owed > 0:
            return .wait
        case .head(let since, true):
            return now - since > limits.header
                ? .requestTimeout("the request head did not arrive within \(limits.header)") : .wait
        case .head(let since, false):
            return now - since > limits.idle ? .idle : .wait
        }
    }

    /// How often to check: often enough to close within a quarter of the shortest timeout past it.
    var tick: Duration {
        let shortest = min(limits.header, limits.body, limits.idle)
        return max(.milliseconds(20), min(.seconds(1), shortest / 4))
    }
}
