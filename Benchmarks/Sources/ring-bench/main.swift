import Ring

// Preference-list lookups per second: hash (collection, key) with XXH3, find the partition, read its
// precomputed preference list. Q=256, N=3, S=16, 16-byte keys.
let members = (1...16).map { Member(name: "n\($0)", clusterAddress: "127.0.0.1:\(9700 + $0)") }
let ring = try Ring.create(partitionCount: 256, replicas: 3, members: members)
var generator = SystemRandomNumberGenerator()
let keys: [[UInt8]] = (0..<1_000_000).map { _ in (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) } }
let clock = ContinuousClock()

func measure(_ label: String, rounds: Int, _ body: ([UInt8]) -> Int) {
    var best = Double.infinity
    var sink = 0
    for _ in 0..<rounds {
        let elapsed = clock.measure {
            for key in keys { sink &+= body(key) }
        }
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    let perSecond = Double(keys.count) / best
    print("\(label): \(Int(perSecond / 1000)) k lookups/s (\(String(Int(1e9 / perSecond))) ns each, best of \(rounds); sink \(sink & 1))")
}

measure("hash + partition", rounds: 5) { key in ring.partition(collection: "bench", key: key) }
measure("preference list (member indices)", rounds: 5) { key in
    Int(ring.preferenceIndices(partition: ring.partition(collection: "bench", key: key)).first!)
}
measure("preference list ([Member])", rounds: 5) { key in
    ring.preferenceList(partition: ring.partition(collection: "bench", key: key)).count
}
