import ServiceLifecycle
import Synchronization

/// Keeps graceful shutdown waiting for work that outlives the request that started it: replica calls past the
/// quorum, read repair, and the rare operations that run as child tasks (listing, drops).
///
/// The request path registers its work with `begin()`/`end()` (no task, no queue); `spawn` runs a closure as a
/// child task of this service. After shutdown began, `begin` and `spawn` refuse new work.
final class BackgroundTasks: Service, Sendable {
    typealias Work = @Sendable () async -> Void

    private let stream: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation

    private struct Tally {
        var running = 0
        var stopping = false
        var idle: CheckedContinuation<Void, Never>?
    }

    private let tally = Mutex(Tally())

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Registers one piece of in-flight work; false once shutdown began (the caller MUST NOT start it then).
    func begin() -> Bool {
        tally.withLock { tally in
            guard !tally.stopping else { return false }
            tally.running += 1
            return true
        }
    }

    /// Ends what `begin` registered.
    func end() {
        let wake = tally.withLock { tally -> CheckedContinuation<Void, Never>? in
            tally.running -= 1
            guard tally.running == 0, let idle = tally.idle else { return nil }
            tally.idle = nil
            return idle
        }
        wake?.resume()
    }

    /// Starts `work` soon as a child task. Returns false if the node is shutting down and the work was dropped.
    @discardableResult
    func spawn(_ work: @escaping Work) -> Bool {
        guard begin() else { return false }
        if case .enqueued = continuation.yield({
            await work()
            self.end()
        }) {
            return true
        }
        end()
        return false
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await work in stream {
                    group.addTask { await work() }
                }
            } onGracefulShutdown: {
                self.tally.withLock { $0.stopping = true }
                self.continuation.finish()
            }
        }
        // Work already started finishes: every replica call is bounded by the request deadline.
        await withCheckedContinuation { (idle: CheckedContinuation<Void, Never>) in
            let now = tally.withLock { tally -> Bool in
                tally.stopping = true
                if tally.running == 0 { return true }
                tally.idle = idle
                return false
            }
            if now { idle.resume() }
        }
    }
}
