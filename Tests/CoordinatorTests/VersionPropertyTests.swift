import Testing

@testable import Coordinator
import TestSupport

/// Algebraic laws of `sync` over objects from random histories: what makes replicas converge whatever the
/// order in which they exchange versions.
@Suite struct VersionPropertyTests {
    static let seeds: [UInt64] = Array(1...25)

    func triples(seed: UInt64, resolution: ConflictResolution) -> [(VersionedObject, VersionedObject, VersionedObject)]
    {
        let objects = randomObjects(seed: seed, resolution: resolution)
        var random = SeededGenerator(seed: seed ^ 0xABCDEF)
        return (0..<60).map { _ in
            (
                objects.randomElement(using: &random)!, objects.randomElement(using: &random)!,
                objects.randomElement(using: &random)!
            )
        }
    }

    @Test(arguments: seeds, [ConflictResolution.siblings, .lastWriteWins])
    func syncIsCommutativeAssociativeAndIdempotent(seed: UInt64, resolution: ConflictResolution) {
        for (a, b, c) in triples(seed: seed, resolution: resolution) {
            let sync = { (x: VersionedObject, y: VersionedObject) in VersionedObject.sync(x, y, resolution: resolution)
            }
            #expect(sync(a, b) == sync(b, a))
            #expect(sync(sync(a, b), c) == sync(a, sync(b, c)))
            #expect(sync(a, a) == a)
            #expect(sync(a, VersionedObject()) == a)
        }
    }

    @Test(arguments: seeds, [ConflictResolution.siblings, .lastWriteWins])
    func syncDescendsBothInputsAndDescendsMatchesSync(seed: UInt64, resolution: ConflictResolution) {
        for (a, b, _) in triples(seed: seed, resolution: resolution) {
            let merged = VersionedObject.sync(a, b, resolution: resolution)
            #expect(merged.descends(a, resolution: resolution))
            #expect(merged.descends(b, resolution: resolution))
            #expect(a.descends(b, resolution: resolution) == (VersionedObject.sync(a, b, resolution: resolution) == a))
        }
    }

    @Test(arguments: seeds, [ConflictResolution.siblings, .lastWriteWins])
    func replicasReceivingTheSameVersionsInAnyOrderConverge(seed: UInt64, resolution: ConflictResolution) {
        let objects = randomObjects(seed: seed, resolution: resolution)
        var random = SeededGenerator(seed: seed &* 31)
        let reference = objects.reduce(VersionedObject()) { VersionedObject.sync($0, $1, resolution: resolution) }
        for _ in 0..<10 {
            let shuffled = objects.shuffled(using: &random)
            let folded = shuffled.reduce(VersionedObject()) { VersionedObject.sync($0, $1, resolution: resolution) }
            #expect(folded == reference)
        }
    }

    @Test(arguments: seeds)
    func objectsKeepTheirInvariants(seed: UInt64) {
        for object in randomObjects(seed: seed) {
            #expect(object.siblings == object.siblings.sorted { $0.dot < $1.dot })
            #expect(Set(object.siblings.map(\.dot)).count == object.siblings.count)
            #expect(object.siblings.allSatisfy { object.context.contains($0.dot) })
            // Live dots of one actor form a contiguous run ending at the actor's counter (the DVV-set shape).
            for actor in object.context.counters.keys {
                let dots = object.siblings.filter { $0.dot.actor == actor }.map(\.dot.counter).sorted()
                if let last = dots.last {
                    #expect(dots == Array((last - UInt64(dots.count) + 1)...last))
                }
            }
        }
    }
}
