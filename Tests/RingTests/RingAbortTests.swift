import Testing

@testable import Ring

/// A pending plan can be aborted, and a force-remove or replace folds into it instead of waiting for it.
@Suite struct RingAbortTests {
    private func named(_ name: String) -> Member {
        Member(name: name, clusterAddress: "127.0.0.1:\(name.utf8.reduce(9000) { $0 + Int($1) })", httpAddress: "h")
    }

    private func formed(_ count: Int, q: Int = 256) throws -> Ring {
        try Ring.formed(clusterID: 7, partitionCount: q, replicas: 3, members: (1...count).map { named("n\($0)") })
    }

    private func owners(_ ring: Ring) -> [String] { (0..<ring.partitionCount).map { ring.owner(ofPartition: $0).name } }

    /// Every member owns ⌊Q/S⌋ or ⌈Q/S⌉ partitions once the plan is done.
    private func isBalanced(_ ring: Ring) -> Bool {
        let future = ring.future
        let active = future.members.filter { $0.state != .left }.map(\.name)
        let counts = active.map { future.ownership[$0] ?? 0 }
        let q = ring.partitionCount
        return counts.allSatisfy { $0 == q / active.count || $0 == (q + active.count - 1) / active.count }
    }

    static let plans: [[RingChange]] = [
        [.join(Member(name: "n9"))],
        [.leave("n2")],
        [.forceRemove("n3")],
        [.replace(old: "n2", new: Member(name: "n9"))],
        [.join(Member(name: "n8")), .leave("n1"), .replace(old: "n3", new: Member(name: "n9"))],
    ]

    @Test(arguments: plans)
    func aborting_givesBackTheRingBeforeThePlan_atTheNextEpoch(changes: [RingChange]) throws {
        let ring = try formed(4)
        var planned = try ring.planning(changes)
        for receiver in planned.receivers.prefix(1) { planned = try #require(planned.markingTransferred(receiver)) }
        let aborted = try planned.aborting()
        #expect(aborted.epoch == planned.epoch + 1)
        #expect(aborted.pending.isEmpty)
        #expect(aborted.transferred.isEmpty)
        #expect(aborted.planChanges.isEmpty)
        #expect(aborted.members == ring.members, "joiners are gone, leavers and force-removed members are up")
        #expect(owners(aborted) == owners(ring))
        for partition in 0..<ring.partitionCount {
            #expect(aborted.preferenceList(partition: partition) == ring.preferenceList(partition: partition))
        }
        #expect(aborted.receivers.isEmpty)
    }

    @Test func aborting_withoutAPendingPlan_isRefused() throws {
        #expect(throws: RingError.nothingPending) { try formed(3).aborting() }
    }

    @Test(arguments: plans)
    func aRingCarriesThePlansChanges(changes: [RingChange]) throws {
        let planned = try formed(4).planning(changes)
        #expect(planned.planChanges == changes)
        #expect(try Ring.decode(planned.encoded()).planChanges == changes)
    }

    @Test func forceRemovingTheOnlyJoiner_isAnAbort() throws {
        let planned = try formed(3).planning([.join(named("n4"))])
        let folded = try planned.planning([.forceRemove("n4")])
        #expect(folded == (try planned.aborting()))
    }

    @Test func forceRemovingAJoiner_dropsItsJoin_andKeepsTheRestOfThePlan() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.join(named("n4")), .join(named("n5"))])
        let folded = try planned.planning([.forceRemove("n4")])
        let alone = try ring.planning([.join(named("n5"))])
        #expect(folded.epoch == planned.epoch + 1)
        #expect(folded.member(named: "n4") == nil)
        #expect(folded.pending == alone.pending)
        #expect(folded.members == alone.members)
        #expect(folded.planChanges == [.join(named("n5"))])
        #expect(isBalanced(folded))
    }

    @Test func forceRemovingAnotherMemberDuringAPlan_replansBothFromTheCurrentOwners() throws {
        let ring = try formed(4)
        let planned = try ring.planning([.join(named("n5"))])
        let folded = try planned.planning([.forceRemove("n2")])
        let together = try ring.planning([.join(named("n5")), .forceRemove("n2")])
        #expect(folded.pending == together.pending)
        #expect(folded.members == together.members)
        #expect(folded.member(named: "n2")?.state == .left)
        #expect(owners(folded) == owners(ring), "owners stay as they are until the copies are done")
        #expect(isBalanced(folded))
        // Minimal movement: only the new member receives, and only the removed member's partitions leave it
        // besides the new member's share.
        #expect(folded.pending.allSatisfy { $0.to == "n5" || $0.from == "n2" })
    }

    @Test func forceRemovingALeaver_turnsItsLeaveIntoAForceRemove() throws {
        let ring = try formed(4)
        let planned = try ring.planning([.leave("n2")])
        let folded = try planned.planning([.forceRemove("n2")])
        #expect(folded.planChanges == [.forceRemove("n2")])
        #expect(folded.member(named: "n2")?.state == .left)
        #expect(folded.pending == planned.pending, "the same partitions move; only who may send them differs")
    }

    @Test func replacingAJoiner_makesTheNewMemberJoinInstead() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.join(named("n4"))])
        let folded = try planned.planning([.replace(old: "n4", new: named("n5"))])
        #expect(folded.planChanges == [.join(named("n5"))])
        #expect(folded.member(named: "n4") == nil)
        #expect(folded.member(named: "n5")?.state == .joining)
        #expect(isBalanced(folded))
    }

    @Test func replacingTheNewMemberOfAReplace_replacesItByTheNewerOne() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.replace(old: "n2", new: named("n8"))])
        let folded = try planned.planning([.replace(old: "n8", new: named("n9"))])
        #expect(folded.planChanges == [.replace(old: "n2", new: named("n9"))])
        #expect(folded.pending.allSatisfy { $0.from == "n2" && $0.to == "n9" })
    }

    @Test func forceRemovingTheNewMemberOfAReplace_dropsTheReplace() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.replace(old: "n2", new: named("n8"))])
        #expect(try planned.planning([.forceRemove("n8")]) == (try planned.aborting()))
    }

    @Test func joinsAndLeavesWaitForThePendingPlan() throws {
        let planned = try formed(4).planning([.join(named("n5"))])
        #expect(throws: RingError.transfersPending(planned.pending.count)) {
            try planned.planning([.join(named("n6"))])
        }
        #expect(throws: RingError.transfersPending(planned.pending.count)) {
            try planned.planning([.forceRemove("n1"), .leave("n2")])
        }
    }

    @Test(arguments: plans)
    func theVersion2Encoding_stillDecodes_andAborts(changes: [RingChange]) throws {
        let ring = try formed(4)
        let planned = try ring.planning(changes)
        let decoded = try Ring.decode(Self.version2(planned))
        #expect(decoded.steps.isEmpty)
        #expect(decoded.pending == planned.pending)
        #expect(decoded.members == planned.members)
        let aborted = try decoded.aborting()
        #expect(aborted.members == ring.members)
        #expect(owners(aborted) == owners(ring))
    }

    @Test(arguments: plans.filter { $0.count == 1 })
    func theVersion2Encoding_readsASingleChangeFromMemberStates(changes: [RingChange]) throws {
        let planned = try formed(4).planning(changes)
        let decoded = try Ring.decode(Self.version2(planned))
        #expect(decoded.planChanges == changes)
    }

    /// `ring` in encoding version 2: no changes section.
    static func version2(_ ring: Ring) -> [UInt8] {
        var stripped = ring
        stripped.steps = []
        // Without changes, version 4 ends with a u16 zero count and the u64 plan epoch before the checksum;
        // version 2 ends before them.
        var bytes = Array(stripped.encoded().dropLast(8 + 8 + 2))
        bytes[0] = 2
        bytes.appendLittleEndian(bytes.withUnsafeBytes { KeyHash.xxh3($0) })
        return bytes
    }

    /// The same change planned again after an abort is another plan: a receiver that missed the abort must
    /// not take its earlier copies for this plan's.
    @Test func theSameChangePlannedAgainAfterAnAbort_hasAnotherPlanID() throws {
        let ring = try formed(3)
        let join = RingChange.join(Member(name: "n9", clusterAddress: "n9:1"))
        let first = try ring.planning([join])
        let again = try first.aborting().planning([join])
        #expect(first.pending == again.pending)
        #expect(first.planID != again.planID)
        #expect(try Ring.decode(again.encoded()).planID == again.planID)
        #expect(try Ring.decode(again.encoded()).plannedAt == again.epoch)
        let marked = try #require(again.markingTransferred("n9"))
        #expect(marked.planID == again.planID, "the plan keeps its id while it runs")
    }

    /// A settled ring is written in version 2, which the version before reads; a pending plan needs version 4.
    @Test func aSettledRing_isWrittenInVersion2_aPlannedOneInTheCurrentVersion() throws {
        let ring = try formed(3)
        #expect(ring.encoded().first == 2)
        #expect(try Ring.decode(ring.encoded()) == ring)
        let planned = try ring.planning([.join(Member(name: "n9", clusterAddress: "n9:1"))])
        #expect(planned.encoded().first == Ring.encodingVersion)
        #expect(try Ring.decode(planned.encoded()) == planned)
    }
}
