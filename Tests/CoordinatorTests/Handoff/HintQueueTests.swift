import Testing

@testable import Coordinator

@Suite struct HintQueueTests {
    static let second: UInt64 = 1_000_000_000

    func hint(_ key: String, owner: String = "n2") -> HintKey {
        HintKey(owner: owner, collection: "c", key: Array(key.utf8))
    }

    func replays(_ actions: [HintQueue.Action]) -> [(HintKey, UInt64)] {
        actions.compactMap { if case .replay(let hint, let generation) = $0 { (hint, generation) } else { nil } }
    }

    @Test func hintsReplayOnlyWhileTheirOwnerIsUp() {
        var queue = HintQueue()
        queue.onStored(hint("k1"), bytes: 10, createdAt: 0)
        #expect(queue.onTick(now: Self.second, up: ["n3"]).isEmpty)
        let actions = queue.onTick(now: 2 * Self.second, up: ["n2"])
        #expect(replays(actions).map(\.0) == [hint("k1")])
    }

    @Test func aHintIsDeletedOnlyAfterItsOwnerAcknowledgedIt() {
        var queue = HintQueue()
        queue.onStored(hint("k1"), bytes: 10, createdAt: 0)
        let (replayed, generation) = replays(queue.onTick(now: 1, up: ["n2"]))[0]
        #expect(queue.count == 1)
        #expect(queue.onReplayAcked(replayed, generation: generation, now: 2) == [.delete(hint("k1"))])
        #expect(queue.count == 0)
        #expect(queue.totalBytes == 0)
        #expect(queue.replayed == 1)
        // A duplicate acknowledgement changes nothing.
        #expect(queue.onReplayAcked(replayed, generation: generation, now: 3).isEmpty)
    }

    @Test func aFailedReplayIsRetriedAfterTheRetryDelay() {
        var queue = HintQueue(limits: .init(retryDelay: Self.second))
        queue.onStored(hint("k1"), bytes: 10, createdAt: 0)
        let (replayed, generation) = replays(queue.onTick(now: 1, up: ["n2"]))[0]
        queue.onReplayFailed(replayed, generation: generation, now: 10)
        #expect(queue.onTick(now: 10 + Self.second / 2, up: ["n2"]).isEmpty)
        let again = replays(queue.onTick(now: 10 + Self.second, up: ["n2"]))
        #expect(again.map(\.0) == [hint("k1")])
        #expect(queue.count == 1)
    }

    @Test func aHintStoredAgainDuringItsReplayIsReplayedAgainNotDeleted() {
        var queue = HintQueue()
        queue.onStored(hint("k1"), bytes: 10, createdAt: 0)
        let (replayed, first) = replays(queue.onTick(now: 1, up: ["n2"]))[0]
        queue.onStored(hint("k1"), bytes: 12, createdAt: 5)
        // The newer bytes are not sent while the older replay is in flight.
        #expect(replays(queue.onTick(now: 2, up: ["n2"])).isEmpty)
        let actions = queue.onReplayAcked(replayed, generation: first, now: 3)
        #expect(!actions.contains(.delete(hint("k1"))))
        let second = replays(actions)
        #expect(second.count == 1 && second[0].1 > first)
        #expect(queue.onReplayAcked(hint("k1"), generation: second[0].1, now: 4) == [.delete(hint("k1"))])
        #expect(queue.count == 0 && queue.totalBytes == 0)
    }

    @Test func replaysAreThrottledByInFlightWindowAndRate() {
        var queue = HintQueue(limits: .init(maxInFlight: 4, rate: 10))
        for index in 0..<100 { queue.onStored(hint("k\(index)"), bytes: 1, createdAt: 0) }
        let first = replays(queue.onTick(now: 1, up: ["n2"]))
        #expect(first.count == 4)
        // Acknowledged at once, the window frees but the bucket (10/s) is empty until time passes.
        var started = first.count
        for (hint, generation) in first {
            started += replays(queue.onReplayAcked(hint, generation: generation, now: 2)).count
        }
        #expect(started == 4)
        // One second later at most ten more (and never more than four at once).
        let later = replays(queue.onTick(now: 1 + Self.second, up: ["n2"]))
        #expect(later.count == 4)
    }

    @Test func everyHintIsReplayedExactlyOnceWhenAllAcknowledge() {
        var queue = HintQueue(limits: .init(maxInFlight: 8, rate: 1_000))
        let owners = ["n2", "n3"]
        for index in 0..<300 { queue.onStored(hint("k\(index)", owner: owners[index % 2]), bytes: 3, createdAt: 0) }
        var deleted: Set<HintKey> = []
        var now: UInt64 = 1
        var inFlight = replays(queue.onTick(now: now, up: Set(owners)))
        while !inFlight.isEmpty || queue.count > 0 {
            now += Self.second / 100
            var next: [(HintKey, UInt64)] = []
            for (hint, generation) in inFlight {
                let actions = queue.onReplayAcked(hint, generation: generation, now: now)
                for action in actions {
                    if case .delete(let gone) = action { #expect(deleted.insert(gone).inserted) }
                }
                next += replays(actions)
            }
            next += replays(queue.onTick(now: now, up: Set(owners)))
            inFlight = next
            #expect(now < 100 * Self.second)
            if now > 100 * Self.second { break }
        }
        #expect(deleted.count == 300)
        #expect(queue.replayed == 300)
    }

    @Test func theQueueRefusesHintsBeyondItsByteBound() {
        var queue = HintQueue(limits: .init(maxBytes: 25))
        let first = queue.admits(bytes: 10)
        queue.onStored(hint("k1"), bytes: 10, createdAt: 0)
        let second = queue.admits(bytes: 15)
        queue.onStored(hint("k2"), bytes: 15, createdAt: 0)
        let third = queue.admits(bytes: 1)
        #expect(first && second && !third)
        #expect(queue.dropped == 1)
    }

    @Test func hintsOlderThanTheMaximumAgeAreDropped() {
        var queue = HintQueue(limits: .init(maxAge: 10 * Self.second))
        queue.onStored(hint("k1"), bytes: 10, createdAt: 1 * Self.second)
        queue.onStored(hint("k2"), bytes: 10, createdAt: 8 * Self.second)
        let actions = queue.onTick(now: 12 * Self.second, up: [])
        #expect(actions == [.drop(hint("k1"), reason: .expired)])
        #expect(queue.dropped == 1)
        #expect(queue.count == 1)
        #expect(queue.totalBytes == 10)
    }

    @Test func aHintsAgeCountsFromItsNewestMergedWrite() {
        var queue = HintQueue(limits: .init(maxAge: 10 * Self.second))
        queue.onStored(hint("k1"), bytes: 10, createdAt: 1 * Self.second)
        queue.onStored(hint("k1"), bytes: 12, createdAt: 9 * Self.second)
        #expect(queue.onTick(now: 12 * Self.second, up: []).isEmpty, "the write merged at 9 s is 3 s old")
        #expect(queue.onTick(now: 20 * Self.second, up: []) == [.drop(hint("k1"), reason: .expired)])
    }

    /// A hint for a plan's receiver that was down goes to it; one for a current replica during a plan goes to it
    /// and the receivers; one whose owner lost the key goes to every current replica and receiver.
    @Test func replayTargets_includeThePlansReceivers() {
        #expect(HintQueue.replayTargets(owner: "n2", replicas: ["n1", "n2", "n3"], incoming: []) == ["n2"])
        #expect(HintQueue.replayTargets(owner: "n5", replicas: ["n1", "n2", "n3"], incoming: ["n5"]) == ["n5"])
        // An owner that keeps or leaves the key during a plan: the receivers get it too, as they get writes.
        #expect(
            HintQueue.replayTargets(owner: "n3", replicas: ["n1", "n2", "n3"], incoming: ["n5"]) == ["n3", "n5"])
        #expect(
            HintQueue.replayTargets(owner: "n4", replicas: ["n1", "n2", "n3"], incoming: ["n5"])
                == ["n1", "n2", "n3", "n5"])
    }

    @Test func statsReportCountBytesAndOldestAgePerOwner() {
        var queue = HintQueue()
        queue.onStored(hint("a", owner: "n2"), bytes: 10, createdAt: 5)
        queue.onStored(hint("b", owner: "n2"), bytes: 20, createdAt: 7)
        queue.onStored(hint("a", owner: "n3"), bytes: 1, createdAt: 9)
        let stats = queue.stats(now: 10)
        #expect(stats.map(\.owner) == ["n2", "n3"])
        #expect(stats[0].count == 2 && stats[0].bytes == 30 && stats[0].oldestAge == 5)
        #expect(stats[1].count == 1 && stats[1].oldestAge == 1)
        #expect(queue.hints(of: "n2").map(\.hint) == [hint("a", owner: "n2"), hint("b", owner: "n2")])
    }
}
