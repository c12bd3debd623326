import Ring
import Testing

@testable import Coordinator

@Suite struct FormationTests {
    static let second: UInt64 = 1_000_000_000

    private func member(_ name: String) -> Member { Member(name: name, clusterAddress: "\(name):9", httpAddress: "") }

    @Test func theLowestNamedFormsOnceEverySeedAnsweredAndNothingNewWasHeard() {
        var formation = Formation(local: member("n1"), seeds: ["n2:9", "n3:9"], now: 0, settle: Self.second)
        #expect(formation.decide(now: 0) == .wait("waiting for seeds n2:9,n3:9"))
        formation.onFresh(member("n2"), address: "n2:9", reported: [member("n4")], now: Self.second)
        formation.onFresh(member("n3"), address: "n3:9", reported: [], now: Self.second)
        #expect(formation.decide(now: 2 * Self.second) == .wait("waiting for n4 to answer"))
        #expect(formation.targets.contains("n4:9"))
        formation.onFresh(member("n4"), address: "n4:9", reported: [member("n5")], now: 3 * Self.second)
        formation.onFresh(member("n5"), address: "n5:9", reported: [], now: 3 * Self.second)
        #expect(formation.decide(now: 3 * Self.second + 1) == .wait("settling"), "n5 was news at 3 s")
        let decision = formation.decide(now: 4 * Self.second)
        #expect(decision == .form(["n1", "n2", "n3", "n4", "n5"].map(member)))
    }

    @Test func othersWaitForTheLowest_andAdoptTheRingThatListsThem() throws {
        var formation = Formation(local: member("n2"), seeds: ["n1:9"], now: 0, settle: 0)
        formation.onFresh(member("n1"), address: "n1:9", reported: [], now: 0)
        #expect(formation.decide(now: Self.second) == .wait("waiting for n1 to form the cluster"))
        let ring = try Ring.formed(clusterID: 5, partitionCount: 8, replicas: 3, members: [member("n1"), member("n2")])
        formation.onFormed(ring, address: "n1:9")
        #expect(formation.decide(now: Self.second) == .adopt(ring))
    }

    @Test func aFormedClusterWithoutThisNode_isNotJoinedBehindTheOperatorsBack() throws {
        var formation = Formation(local: member("n9"), seeds: ["n1:9"], now: 0, settle: 0)
        let ring = try Ring.formed(clusterID: 5, partitionCount: 8, replicas: 3, members: [member("n1")])
        formation.onFormed(ring, address: "n1:9")
        guard case .wait(let why) = formation.decide(now: Self.second) else {
            Issue.record("expected to wait")
            return
        }
        #expect(why.contains("--join"))
    }

    @Test func aNodeWithoutSeeds_formsAlone() {
        let formation = Formation(local: member("solo"), seeds: [], now: 0, settle: Self.second)
        #expect(formation.decide(now: 2 * Self.second) == .form([member("solo")]))
    }

    /// No settling time: a lone node is asked to serve at once, and nothing can change its mind.
    @Test func aNodeWithoutSeeds_formsAloneAtOnce() {
        let formation = Formation(local: member("solo"), seeds: [], now: 0, settle: Self.second)
        #expect(formation.decide(now: 0) == .form([member("solo")]))
    }

    /// A node given no seeds but dialled by one that lists it still settles with its caller.
    @Test func aNodeWithoutSeedsThatWasDialled_settlesWithItsCaller() {
        var formation = Formation(local: member("n1"), seeds: [], now: 0, settle: Self.second)
        formation.onFresh(member("n2"), address: nil, reported: [], now: 0)
        #expect(formation.decide(now: 0) == .wait("settling"))
        #expect(formation.decide(now: Self.second) == .form([member("n1"), member("n2")]))
    }
}
