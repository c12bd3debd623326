import ServiceLifecycle

/// Runs work that outlives the request that started it (replica calls past the quorum, read repair)
/// as child tasks of one service, so that a graceful shutdown waits for it instead of dropping it.
final class BackgroundTasks: Service, Sendable {
    typealias Work = @Sendable () async -> Void

    private let stream: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Starts `work` soon; after shutdown began it runs inline in a detached-free way: not at all.
    /// Returns false if the node is shutting down and the work was dropped.
    @discardableResult
    func spawn(_ work: @escaping Work) -> Bool {
        if case .enqueued = continuation.yield(work) { return true }
        return false
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await work in stream {
                    group.addTask { await work() }
                }
            } onGracefulShutdown: {
                // Work already started finishes (each replica call is bounded by its timeout).
                self.continuation.finish()
            }
        }
    }
}
