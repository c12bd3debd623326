import Ring
import Testing

@testable import Coordinator

@Suite struct ClaimantTests {
    private func member(_ name: String) -> Member { Member(name: name, clusterAddress: "\(name):1", httpAddress: "") }

    private func ring(_ names: [String]) throws -> Ring {
        try Ring.formed(clusterID: 1, partitionCount: 64, replicas: 3, members: names.map(member))
    }

    @Test func staging_checksEachChange_andOneChangePerMemberWins() throws {
        let ring = try ring(["n1", "n2", "n3"])
        var claimant = Claimant()
        try claimant.stage(.join(member("n4")), on: ring)
        try claimant.stage(.leave("n2"), on: ring)
        try claimant.stage(.leave("n2"), on: ring)
        #expect(claimant.staged == [.join(member("n4")), .leave("n2")])
        #expect(throws: RingError.unknownMember("zz")) { try claimant.stage(.leave("zz"), on: ring) }
        #expect(claimant.staged.count == 2, "a refused change leaves the staged ones alone")
        try claimant.stage(.forceRemove("n2"), on: ring)
        #expect(claimant.staged == [.join(member("n4")), .forceRemove("n2")])
        let plan = try claimant.plan(on: ring)
        #expect(plan.member(named: "n4")?.state == .joining)
        #expect(plan.member(named: "n2")?.state == .left)
        #expect(claimant.staged.count == 2, "plan does not consume")
        let committed = try claimant.commit(on: ring)
        #expect(committed == plan)
        #expect(claimant.staged.isEmpty)
        #expect(throws: RingError.nothingStaged) { try claimant.commit(on: ring) }
        try claimant.stage(.leave("n1"), on: ring)
        claimant.clear()
        #expect(claimant.staged.isEmpty)
    }

    @Test func aForceRemoveOfADeadJoiner_isAcceptedWhileItsPlanIsPending_andItsCommitEndsThePlan() throws {
        let pending = try ring(["n1", "n2", "n3"]).planning([.join(member("n4"))])
        var claimant = Claimant()
        try claimant.stage(.forceRemove("n4"), on: pending)
        #expect(throws: RingError.transfersPending(pending.pending.count)) {
            try claimant.stage(.join(member("n5")), on: pending)
        }
        let committed = try claimant.commit(on: pending)
        #expect(committed == (try pending.aborting()))
        #expect(committed.member(named: "n4") == nil)
        #expect(committed.pending.isEmpty)
    }
}
