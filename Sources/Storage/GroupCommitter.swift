import Foundation

/// Group commit: writers enqueue a continuation after appending; one flusher thread takes every waiter queued
/// so far, fsyncs each collection they wrote to once, and resumes them all. While it fsyncs, the next batch
/// gathers, so the batch size follows the load without a timer.
///
/// A thread, not a task: fdatasync blocks, and blocking the few cooperative-pool threads would stall every task.
final class GroupCommitter: @unchecked Sendable {
    private struct Waiter {
        let collection: CollectionStore
        let continuation: CheckedContinuation<Void, any Error>
    }

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Waiter] = []
    private var stopping = false
    private var finished = false
    private(set) var syncs = 0

    init() {}

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "dhrt-storage-flusher"
        thread.start()
    }

    /// Returns once a sync that covers everything `collection` appended before this call has completed.
    func waitDurable(_ collection: CollectionStore) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(with: Result { _ = try collection.syncNow() })
                return
            }
            queue.append(Waiter(collection: collection, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Serves the waiters already queued, then stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        var batch: [Waiter] = []
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            swap(&batch, &queue)
            syncs += 1
            condition.unlock()

            var results: [ObjectIdentifier: Result<Void, any Error>] = [:]
            for waiter in batch where results[ObjectIdentifier(waiter.collection)] == nil {
                results[ObjectIdentifier(waiter.collection)] = Result { _ = try waiter.collection.syncNow() }
            }
            for waiter in batch { waiter.continuation.resume(with: results[ObjectIdentifier(waiter.collection)]!) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
