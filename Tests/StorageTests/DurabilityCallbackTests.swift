import Storage
import Synchronization
import Testing

/// `apply` + `whenDurable`: the request path's write without a suspension, woken by group commit.
@Suite struct DurabilityCallbackTests {
    /// Counts hops; runs work inline, flagged so a callback can tell it ran on the executor.
    final class CountingExecutor: CompletionExecutor {
        let hops = Atomic<Int>(0)
        let inside = Mutex(false)

        func execute(_ work: @escaping @Sendable () -> Void) {
            hops.add(1, ordering: .relaxed)
            inside.withLock { $0 = true }
            work()
            inside.withLock { $0 = false }
        }
    }

    static func put(_ value: UInt8) -> (StoredRecord?) throws -> Mutation? {
        { _ in .put(meta: [1], value: [value]) }
    }

    @Test(arguments: [SyncPolicy.group, .always])
    func whenDurable_callsBackOnTheExecutor_thenAtOnceForAPointAlreadyDurable(sync: SyncPolicy) async throws {
        try await withEngine(.disk, sync: sync) { engine, _ in
            let executor = CountingExecutor()
            var points: [DurablePoint] = []
            for index in 0..<8 {
                let (mutation, point) = try engine.apply(collection: "c", key: [UInt8(index)], Self.put(7))
                #expect(mutation != nil)
                points.append(point)
            }
            let onExecutor = Mutex<[Bool]>([])
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let remaining = Atomic<Int>(points.count)
                for point in points {
                    engine.whenDurable(point, on: executor) { result in
                        #expect((try? result.get()) != nil)
                        onExecutor.withLock { $0.append(executor.inside.withLock { $0 }) }
                        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
                    }
                }
            }
            #expect(onExecutor.withLock { $0 } == Array(repeating: true, count: points.count))
            let hops = executor.hops.load(ordering: .relaxed)
            #expect(hops >= 1 && hops <= points.count)

            // Durable already: answered on the calling thread, no hop.
            let immediate = Mutex(false)
            engine.whenDurable(points[0], on: executor) { _ in immediate.withLock { $0 = true } }
            #expect(immediate.withLock { $0 })
            #expect(executor.hops.load(ordering: .relaxed) == hops)
        }
    }

    @Test(arguments: [SyncPolicy.group, .always])
    func applyThatWritesNothing_stillWaitsForWhatItSaw(sync: SyncPolicy) async throws {
        try await withEngine(.disk, sync: sync) { engine, directory in
            _ = try engine.apply(collection: "c", key: [1], Self.put(1))
            // A merge that changes nothing rests on the unsynced append before it: acknowledging it is
            // acknowledging that record, so the point it waits for must cover it.
            let (mutation, point) = try engine.apply(collection: "c", key: [1]) { _ in nil }
            #expect(mutation == nil)
            let result = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
                engine.whenDurable(point, on: nil) { done.resume(returning: (try? $0.get()) != nil) }
            }
            #expect(result)
            // Crash now: the record the merge relied on must be in the files.
            let image = try crashImage(of: directory)
            defer { image.remove() }
            let recovered = try await StorageEngine.open(options(image))
            #expect(try recovered.getNow(collection: "c", key: [1])?.value == [1])
            try await recovered.close()
        }
    }

    @Test(arguments: Mode.allCases)
    func withoutFilesOrFsync_whenDurableAnswersAtOnce(mode: Mode) async throws {
        try await withEngine(mode, sync: mode == .disk ? .none : .group) { engine, _ in
            let (_, point) = try engine.apply(collection: "c", key: [1], Self.put(1))
            let called = Mutex(false)
            engine.whenDurable(point, on: nil) { _ in called.withLock { $0 = true } }
            #expect(called.withLock { $0 })
        }
    }
}
