@testable import Coordinator

/// Network behaviour; all randomness comes from the cluster's seeded generator.
struct NetworkConditions {
    /// Probability that a message between two different nodes is lost.
    var dropRate: Double = 0
    /// Delivery delay, in ticks, drawn uniformly.
    var delay: ClosedRange<UInt64> = 1...20
    /// Nodes currently cut off: messages to or from them are lost.
    var isolated: Set<String> = []
    /// How many isolation windows (100-400 ticks each) to scatter over the first 1500 ticks.
    var isolations = 0
    /// Probability that a replica answers a peer's replicate or fetch with an error reply instead of serving it
    /// (the node's `overloaded` or storage error frames): requests then fail by replies, not by their deadline.
    var errorRate: Double = 0
}

/// Something due at a virtual instant.
typealias SimEvent = () -> Void

/// A virtual clock and an agenda of events ordered by (time, insertion order), so runs replay exactly.
struct Agenda {
    private var heap: [(time: UInt64, seq: UInt64, event: SimEvent)] = []
    private var seq: UInt64 = 0
    private(set) var now: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }

    mutating func schedule(at time: UInt64, _ event: @escaping SimEvent) {
        seq += 1
        heap.append((max(time, now), seq, event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard earlier(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func next() -> SimEvent? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, earlier(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, earlier(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        now = first.time
        return first.event
    }

    private func earlier(
        _ a: (time: UInt64, seq: UInt64, event: SimEvent),
        _ b: (time: UInt64, seq: UInt64, event: SimEvent)
    ) -> Bool {
        (a.time, a.seq) < (b.time, b.seq)
    }
}
