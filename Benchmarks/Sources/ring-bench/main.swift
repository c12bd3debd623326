#if canImport(Glibc)
import Glibc
#endif
import Ring

// Preference-list lookups per second: hash (collection, key) with XXH3, find the partition, read its
// precomputed preference list. Q=256, N=3, S=16, 16-byte keys.
let members = (1...16).map { Member(name: "n\($0)", clusterAddress: "127.0.0.1:\(9700 + $0)") }
let ring = try Ring.create(partitionCount: 256, replicas: 3, members: members)
var generator = SystemRandomNumberGenerator()
let keys: [[UInt8]] = (0..<1_000_000).map { _ in (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) } }

/// CPU time of this thread: unlike wall time, it does not count time the thread spent waiting for a core.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func measure(_ label: String, rounds: Int, _ body: ([UInt8]) -> Int) {
    var best = Double.infinity
    var sink = 0
    for _ in 0..<rounds {
        let start = threadCPUSeconds()
        for key in keys { sink &+= body(key) }
        best = min(best, threadCPUSeconds() - start)
    }
    let perSecond = Double(keys.count) / best
    print("\(label): \(Int(perSecond / 1000)) k lookups/s (\(String(Int(1e9 / perSecond))) ns each, best of \(rounds) by thread CPU time; sink \(sink & 1))")
}

measure("hash + partition", rounds: 5) { key in ring.partition(collection: "bench", key: key) }
measure("preference list (member indices)", rounds: 5) { key in
    Int(ring.preferenceIndices(partition: ring.partition(collection: "bench", key: key)).first!)
}
measure("preference list ([Member])", rounds: 5) { key in
    ring.preferenceList(partition: ring.partition(collection: "bench", key: key)).count
}
