import Dispatch
import Logging

extension StorageEngine {
    /// Merges every collection: rewrites sealed files whose dead-byte ratio reached `mergeDeadRatio` (all sealed
    /// files with dead bytes when `force`), and writes hints still missing. With `retaining`, partitions it
    /// says are not owned are dropped first, so their records go too.
    public func merge(
        force: Bool = false, retaining isOwned: (@Sendable (_ collection: String, _ partition: Int) -> Bool)? = nil
    ) async throws -> MergeSummary {
        try mergeNow(force: force, retaining: isOwned)
    }

    /// `merge` on the calling thread: it reads and writes whole files, so callers on an event loop MUST NOT use
    /// it there (`runMergeLoop` runs it on a Dispatch worker).
    public func mergeNow(
        force: Bool = false, retaining isOwned: (@Sendable (_ collection: String, _ partition: Int) -> Bool)? = nil
    ) throws -> MergeSummary {
        var summary = MergeSummary()
        for store in try allStores() {
            if let isOwned {
                for partition in 0..<partitioner.count where !isOwned(store.name, partition) {
                    let hasKeys = store.state.withLock { !$0.keydir.partitions[partition].entries.isEmpty }
                    if hasKeys { try store.dropPartition(partition) }
                }
            }
            summary.add(try store.merge(force: force))
        }
        return summary
    }

    /// Calls `merge()` every `interval` until the task is cancelled or the engine closes. Errors are logged and
    /// the loop goes on. Meant to run as the node's merge service.
    public func runMergeLoop(
        interval: Duration, retaining isOwned: (@Sendable (_ collection: String, _ partition: Int) -> Bool)? = nil
    ) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            do {
                // Off the caller's executor: with NIO as the global executor, that is an event loop.
                _ = try await withCheckedThrowingContinuation { (done: CheckedContinuation<MergeSummary, any Error>) in
                    DispatchQueue.global(qos: .utility).async {
                        done.resume(with: Result { try self.mergeNow(retaining: isOwned) })
                    }
                }
            } catch StorageError.closed {
                return
            } catch {
                logger.error("merge failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
