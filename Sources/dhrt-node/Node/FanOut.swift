import Synchronization

/// Calls a set of replicas concurrently and hands back their results as soon as `need` of them
/// succeeded, or once every call ended (so a failure names how many answered); the calls still running
/// after a success go on in the background and `whenAllDone` receives every result (read repair looks at
/// late replies too).
///
/// Every call MUST be bounded (the wire client's per-request timeout), so every fan-out completes.
enum FanOut {
    typealias Results<T> = [(name: String, result: Result<T, any Error>)]

    static func run<T: Sendable>(
        _ names: [String],
        need: Int,
        background: BackgroundTasks,
        call: @escaping @Sendable (String) async throws -> T,
        whenAllDone: @escaping @Sendable (Results<T>) async -> Void = { _ in }
    ) async -> Results<T> {
        let tally = Tally<T>(total: names.count, need: need)
        return await withCheckedContinuation { continuation in
            tally.setWaiter(continuation)
            for name in names {
                let started = background.spawn {
                    let result: Result<T, any Error>
                    do { result = .success(try await call(name)) } catch { result = .failure(error) }
                    if let all = tally.record(name, result) { await whenAllDone(all) }
                }
                if !started, let all = tally.record(name, .failure(ShuttingDown())) {
                    background.spawn { await whenAllDone(all) }
                }
            }
        }
    }

    /// The node is stopping and starts no new replica calls.
    struct ShuttingDown: Error, CustomStringConvertible {
        var description: String { "node is shutting down" }
    }
}

/// Counts results; resumes the waiter once, at quorum or when quorum is out of reach.
private final class Tally<T: Sendable>: Sendable {
    private struct State {
        var results: FanOut.Results<T> = []
        var successes = 0
        var waiter: CheckedContinuation<FanOut.Results<T>, Never>?
        var resumed = false
    }

    private let total: Int
    private let need: Int
    private let state = Mutex(State())

    init(total: Int, need: Int) {
        self.total = total
        self.need = need
    }

    func setWaiter(_ waiter: CheckedContinuation<FanOut.Results<T>, Never>) {
        let resumeNow = state.withLock { state -> Bool in
            state.waiter = waiter
            return total == 0 || need <= 0
        }
        if resumeNow { resume() }
    }

    /// Records one result; returns every result once the last one is in.
    func record(_ name: String, _ result: Result<T, any Error>) -> FanOut.Results<T>? {
        typealias Waiter = CheckedContinuation<FanOut.Results<T>, Never>
        let (wake, snapshot, all) = state.withLock { state -> (Waiter?, FanOut.Results<T>, FanOut.Results<T>?) in
            state.results.append((name, result))
            if case .success = result { state.successes += 1 }
            let done = state.results.count == total
            var wake: Waiter?
            if !state.resumed, state.successes >= need || done {
                state.resumed = true
                wake = state.waiter
                state.waiter = nil
            }
            return (wake, state.results, done ? state.results : nil)
        }
        wake?.resume(returning: snapshot)
        return all
    }

    private func resume() {
        let wake = state.withLock { state -> CheckedContinuation<FanOut.Results<T>, Never>? in
            guard !state.resumed else { return nil }
            state.resumed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        wake?.resume(returning: [])
    }
}
