import Synchronization

/// Shared by the writers and readers of a concurrency test: the newest acknowledged version per key.
final class VersionLedger: Sendable {
    private let acknowledged: Mutex<[Int]>
    private let writersLeft: Atomic<Int>
    private let staleReads = Atomic<Int>(0)
    private let merges = Atomic<Int>(0)

    init(keys: Int, writers: Int) {
        acknowledged = Mutex([Int](repeating: -1, count: keys))
        writersLeft = Atomic(writers)
    }

    func acknowledge(key: Int, version: Int) { acknowledged.withLock { $0[key] = version } }
    func floor(of key: Int) -> Int { acknowledged.withLock { $0[key] } }
    func writerFinished() { writersLeft.subtract(1, ordering: .sequentiallyConsistent) }
    var writing: Bool { writersLeft.load(ordering: .sequentiallyConsistent) > 0 }
    func recordStaleRead() { staleReads.add(1, ordering: .relaxed) }
    var staleReadCount: Int { staleReads.load(ordering: .relaxed) }
    func mergeFinished() { merges.add(1, ordering: .sequentiallyConsistent) }
    var mergeCount: Int { merges.load(ordering: .sequentiallyConsistent) }

    /// Waits (bounded) until `count` merges have finished, so that merges interleave with writes even when the
    /// scheduler would otherwise run the writers to completion first.
    func awaitMerges(_ count: Int) async {
        let deadline = ContinuousClock.now + .seconds(10)
        while mergeCount < count, ContinuousClock.now < deadline { await Task.yield() }
    }
}
