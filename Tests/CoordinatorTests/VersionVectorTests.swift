import Testing

@testable import Coordinator

@Suite struct VersionVectorTests {
    @Test func zeroCountersAreNotStored() {
        var vector = VersionVector(["a": 0, "b": 2])
        #expect(vector.counters == ["b": 2])
        vector["b"] = 0
        #expect(vector == VersionVector())
    }

    @Test func descendsIsPointwiseGreaterOrEqual() {
        let older = VersionVector(["a": 1, "b": 2])
        let newer = VersionVector(["a": 2, "b": 2])
        #expect(newer.descends(older))
        #expect(newer.dominates(older))
        #expect(!older.descends(newer))
        #expect(older.descends(older))
        #expect(!older.dominates(older))
        #expect(older.descends(VersionVector()))
    }

    @Test func vectorsWithDifferentActorsAreConcurrent() {
        let a = VersionVector(["a": 1])
        let b = VersionVector(["b": 1])
        #expect(a.isConcurrent(with: b))
        #expect(a.merged(with: b) == VersionVector(["a": 1, "b": 1]))
    }

    @Test func containsDotsUpToTheCounter() {
        let vector = VersionVector(["a": 3])
        #expect(vector.contains(Dot(actor: "a", counter: 3)))
        #expect(!vector.contains(Dot(actor: "a", counter: 4)))
        #expect(!vector.contains(Dot(actor: "b", counter: 1)))
    }

    @Test(arguments: ["n1", "node-a.example:9701", String(repeating: "x", count: 255)])
    func validActorNamesAreAccepted(name: String) {
        #expect(VersionVector.isValidActorName(name))
    }

    @Test(arguments: ["", "with space", "nœud", String(repeating: "x", count: 256), "tab\t"])
    func invalidActorNamesAreRejected(name: String) {
        #expect(!VersionVector.isValidActorName(name))
    }
}
