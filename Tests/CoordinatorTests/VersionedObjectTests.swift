import Testing

@testable import Coordinator

@Suite struct VersionedObjectTests {
    let t: UInt64 = 1_700_000_000_000_000_000

    func write(
        _ object: VersionedObject, _ value: String, by actor: String, context: VersionVector = VersionVector(),
        at offset: UInt64 = 0, resolution: ConflictResolution = .siblings
    ) -> VersionedObject {
        var copy = object
        copy.update(
            context: context, value: Array(value.utf8), contentType: "text/plain", actor: actor,
            timestamp: t + offset, resolution: resolution)
        return copy
    }

    func values(_ object: VersionedObject) -> [String] {
        object.liveSiblings.map { String(decoding: $0.value, as: UTF8.self) }.sorted()
    }

    @Test func aBlindWriteOnAnEmptyKeyMakesOneSiblingWithTheFirstDot() {
        let object = write(VersionedObject(), "v", by: "n1")
        #expect(object.siblings.map(\.dot) == [Dot(actor: "n1", counter: 1)])
        #expect(object.context == VersionVector(["n1": 1]))
        #expect(!object.isNotFound && !object.hasConflict)
    }

    @Test func theNewCounterExceedsEverythingTheContextKnows() {
        let object = write(VersionedObject(), "v", by: "n1", context: VersionVector(["n1": 7, "n2": 2]))
        #expect(object.siblings.map(\.dot) == [Dot(actor: "n1", counter: 8)])
        #expect(object.context == VersionVector(["n1": 8, "n2": 2]))
    }

    @Test func concurrentWritesWithoutContextBecomeSiblings() {
        let a = write(VersionedObject(), "a", by: "n1")
        let b = write(VersionedObject(), "b", by: "n2")
        let merged = VersionedObject.sync(a, b)
        #expect(values(merged) == ["a", "b"])
        #expect(merged.hasConflict)
        // Two blind writes through the same coordinator are concurrent too.
        let again = write(a, "c", by: "n1")
        #expect(values(again) == ["a", "c"])
    }

    @Test func aWriteWithTheMergedContextResolvesSiblings() {
        let merged = VersionedObject.sync(write(VersionedObject(), "a", by: "n1"), write(VersionedObject(), "b", by: "n2"))
        let resolved = write(merged, "c", by: "n3", context: merged.context)
        #expect(values(resolved) == ["c"])
        // A replica still holding the old siblings drops them on sync.
        let stale = write(VersionedObject(), "a", by: "n1")
        #expect(values(VersionedObject.sync(stale, resolved)) == ["c"])
        #expect(values(VersionedObject.sync(resolved, stale)) == ["c"])
    }

    @Test func aWriteWithAStaleContextKeepsWhatTheClientDidNotSee() {
        let first = write(VersionedObject(), "a", by: "n1")
        let second = write(first, "b", by: "n1", context: first.context)
        let fromStale = write(second, "c", by: "n1", context: first.context)
        #expect(values(fromStale) == ["b", "c"])
    }

    @Test func oneClientWritingWithItsContextNeverCreatesSiblings() {
        // The client writes through varying coordinators; replicas sync lazily in between.
        var replicas = ["n1", "n2", "n3"].map { _ in VersionedObject() }
        var context = VersionVector()
        for round in 0..<60 {
            let coordinator = round % 3
            replicas[coordinator].update(
                context: context, value: [UInt8(round)], contentType: "", actor: "n\(coordinator + 1)",
                timestamp: t + UInt64(round))
            context = replicas[coordinator].context
            #expect(replicas[coordinator].siblings.count == 1)
            if round % 4 == 0 { replicas[(coordinator + 1) % 3].merge(replicas[coordinator]) }
        }
        let all = replicas.reduce(VersionedObject()) { VersionedObject.sync($0, $1) }
        #expect(all.siblings.count == 1)
        #expect(all.siblings[0].value == [59])
    }

    @Test func siblingsStayBoundedByConcurrentClients() {
        // Two clients each write with the context of their own last write, through one coordinator.
        var object = VersionedObject()
        var contexts = [VersionVector(), VersionVector()]
        for round in 0..<50 {
            let client = round % 2
            object.update(context: contexts[client], value: [UInt8(round)], contentType: "", actor: "n1", timestamp: t)
            contexts[client] = object.context
            #expect(object.siblings.count <= 2)
        }
    }

    @Test func aDeleteLeavesATombstoneThatReadsAsNotFound() {
        let live = write(VersionedObject(), "a", by: "n1")
        var deleted = live
        deleted.delete(context: live.context, actor: "n2", timestamp: t + 1)
        #expect(deleted.isNotFound)
        #expect(deleted.siblings.count == 1 && deleted.siblings[0].isTombstone)
        #expect(VersionedObject.sync(live, deleted).isNotFound)
    }

    @Test func aLiveValueConcurrentWithADeleteWins() {
        let live = write(VersionedObject(), "a", by: "n1")
        var deleted = live
        deleted.delete(context: live.context, actor: "n2", timestamp: t + 1)
        let concurrent = write(live, "b", by: "n1", context: live.context)
        let merged = VersionedObject.sync(deleted, concurrent)
        #expect(values(merged) == ["b"])
        #expect(merged.siblings.count == 2)
        #expect(!merged.hasConflict)
    }

    @Test func descendsMeansSyncAddsNothing() {
        let a = write(VersionedObject(), "a", by: "n1")
        let b = write(a, "b", by: "n2", context: a.context)
        #expect(b.descends(a) && b.dominates(a))
        #expect(!a.descends(b))
        let c = write(VersionedObject(), "c", by: "n3")
        #expect(!b.descends(c) && !c.descends(b))
        #expect(VersionedObject.sync(b, c).descends(b))
        #expect(a.descends(VersionedObject()))
        #expect(!VersionedObject().descends(a))
    }

    @Test func lastWriteWinsKeepsTheHighestTimestamp() {
        let early = write(VersionedObject(), "early", by: "n2", at: 1, resolution: .lastWriteWins)
        let late = write(VersionedObject(), "late", by: "n1", at: 5, resolution: .lastWriteWins)
        #expect(values(VersionedObject.sync(early, late, resolution: .lastWriteWins)) == ["late"])
        #expect(values(VersionedObject.sync(late, early, resolution: .lastWriteWins)) == ["late"])
        // A write causally after, but stamped earlier, loses: that is the price of last-write-wins.
        let skewed = write(late, "skewed", by: "n2", context: late.context, at: 3, resolution: .lastWriteWins)
        #expect(values(skewed) == ["late"])
        #expect(skewed.context == VersionVector(["n1": 1, "n2": 1]))
    }

    @Test func lastWriteWinsBreaksTimestampTiesByActor() {
        let fromA = write(VersionedObject(), "a", by: "n1", resolution: .lastWriteWins)
        let fromB = write(VersionedObject(), "b", by: "n2", resolution: .lastWriteWins)
        #expect(values(VersionedObject.sync(fromA, fromB, resolution: .lastWriteWins)) == ["b"])
        #expect(values(VersionedObject.sync(fromB, fromA, resolution: .lastWriteWins)) == ["b"])
    }

    @Test func lastWriteWinsNeverKeepsSiblings() {
        for seed in UInt64(1)...20 {
            for object in randomObjects(seed: seed, resolution: .lastWriteWins) {
                #expect(object.siblings.count <= 1)
            }
        }
    }
}
