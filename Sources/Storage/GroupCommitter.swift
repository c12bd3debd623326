import Foundation

/// Where a durability callback runs. The node passes its event loops, so that the flusher wakes every waiter of
/// one loop with a single hop per batch; nil runs the callback on the flusher thread.
public protocol CompletionExecutor: AnyObject, Sendable {
    /// Runs `work` soon, on the executor.
    func execute(_ work: @escaping @Sendable () -> Void)
}

/// A durability callback: success once the write it follows is durable, or the sync error.
public typealias DurabilityCallback = @Sendable (Result<Void, StorageError>) -> Void

/// Group commit: writers enqueue a callback after appending; one flusher thread takes every waiter queued so
/// far, fsyncs each collection they wrote to once, and wakes them all, one hop per executor. While it fsyncs,
/// the next batch gathers, so the batch size follows the load without a timer. With `perWrite` (the `always`
/// policy) it fsyncs once per waiter instead.
///
/// A thread, not a task: fdatasync blocks, and blocking an event loop or the cooperative pool stalls everything.
final class GroupCommitter: @unchecked Sendable {
    private struct Waiter {
        let collection: CollectionStore
        let position: UInt64
        let executor: (any CompletionExecutor)?
        let done: DurabilityCallback
    }

    private let perWrite: Bool
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Waiter] = []
    private var stopping = false
    private var finished = false
    private(set) var syncs = 0

    init(perWrite: Bool = false) {
        self.perWrite = perWrite
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "dhrt-storage-flusher"
        thread.start()
    }

    /// Calls `done` once a sync covering `position` of `collection` has completed.
    func whenDurable(
        _ collection: CollectionStore, position: UInt64, on executor: (any CompletionExecutor)?,
        _ done: @escaping DurabilityCallback
    ) {
        condition.lock()
        if stopping {
            condition.unlock()
            done(Result { () throws(StorageError) in _ = try collection.syncNow() })
            return
        }
        queue.append(Waiter(collection: collection, position: position, executor: executor, done: done))
        condition.signal()
        condition.unlock()
    }

    /// Returns once a sync that covers everything `collection` appended before this call has completed.
    func waitDurable(_ collection: CollectionStore) async throws {
        let position = collection.appendPosition
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            whenDurable(collection, position: position, on: nil) { continuation.resume(with: $0) }
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
            serve(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }

    private func serve(_ batch: [Waiter]) {
        var results: [ObjectIdentifier: Result<Void, StorageError>] = [:]
        var wakeUps: [ObjectIdentifier: (executor: any CompletionExecutor, calls: [@Sendable () -> Void])] = [:]
        for waiter in batch {
            let key = ObjectIdentifier(waiter.collection)
            let result: Result<Void, StorageError>
            if !perWrite, let known = results[key] {
                result = known
            } else if !perWrite, waiter.collection.durableBytes.load(ordering: .acquiring) >= waiter.position {
                result = .success(())
            } else {
                result = Result { () throws(StorageError) in _ = try waiter.collection.syncNow() }
                results[key] = result
            }
            guard let executor = waiter.executor else {
                waiter.done(result)
                continue
            }
            let done = waiter.done
            wakeUps[ObjectIdentifier(executor), default: (executor, [])].calls.append { done(result) }
        }
        for (executor, calls) in wakeUps.values {
            executor.execute { for call in calls { call() } }
        }
    }
}
