import Testing

@testable import Ring

@Suite struct RingPlanTests {
    private func named(_ name: String) -> Member {
        Member(name: name, clusterAddress: "127.0.0.1:\(name.utf8.reduce(9000) { $0 + Int($1) })", httpAddress: "h")
    }

    private func formed(_ count: Int, q: Int = 256) throws -> Ring {
        try Ring.formed(clusterID: 7, partitionCount: q, replicas: 3, members: (1...count).map { named("n\($0)") })
    }

    @Test func formed_stripesOwnersForTheBestSpacing() throws {
        let ring = try formed(3)
        #expect(ring.ownership.values.sorted() == [85, 85, 86])
        // 256 is not a multiple of 3, so one window across the wrap must repeat an owner; no other does.
        #expect(ring.spacingViolations <= 2)
        #expect(ring.warnings.isEmpty)
        #expect(ring.spacingNote?.contains("every key still has 3 distinct replicas") == true)
        let four = try formed(4)
        #expect(four.spacingViolations == 0)
        #expect(four.spacingNote == nil)
    }

    /// A member that owns nothing (a leaver in the plan's future, a joiner before its switch) once made the
    /// preference table shorter than its width: reading a list trapped when S was at most N.
    @Test(arguments: [2, 3])
    func preferenceLists_ofPlansWhereSomeMembersOwnNothing_holdTheOwnersOnly(size: Int) throws {
        let ring = try formed(size)
        let leaving = try ring.planning([.leave("n\(size)")])
        for partition in 0..<leaving.partitionCount {
            let future = leaving.future.preferenceList(partition: partition).map(\.name)
            #expect(future.count == size - 1 && !future.contains("n\(size)"))
            #expect(leaving.preferenceList(partition: partition).count == size)
        }
        let joining = try ring.planning([.join(named("a0"))])
        for partition in 0..<joining.partitionCount {
            #expect(joining.preferenceList(partition: partition).count == size)
            #expect(joining.future.preferenceList(partition: partition).count == min(3, size + 1))
        }
    }

    @Test func planningAJoin_movesAtMostItsShare_allToTheNewMember_andKeepsOwnersUntilTheSwitch() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.join(named("a0"))])
        #expect(planned.epoch == ring.epoch + 1)
        #expect(planned.clusterID == ring.clusterID)
        #expect(planned.member(named: "a0")?.state == .joining)
        #expect(planned.pending.count <= (256 + 3) / 4)
        #expect(planned.pending.allSatisfy { $0.to == "a0" })
        // Owners do not change until the copies are done.
        for partition in 0..<256 {
            #expect(planned.owner(ofPartition: partition).name == ring.owner(ofPartition: partition).name)
        }
        #expect(planned.future.ownership["a0"] == planned.pending.count)
        #expect(planned.receivers == ["a0"], "only the new member gains key ranges")
        #expect(!planned.gains(of: "a0").isEmpty)
    }

    @Test func planningALeave_movesOnlyTheLeaversPartitions() throws {
        let ring = try formed(4)
        let planned = try ring.planning([.leave("n2")])
        #expect(planned.member(named: "n2")?.state == .leaving)
        #expect(planned.pending.allSatisfy { $0.from == "n2" })
        #expect(planned.pending.count == ring.ownership["n2"])
        #expect(planned.future.ownership["n2"] ?? 0 == 0)
        #expect(!planned.receivers.contains("n2"))
    }

    @Test func planningAReplace_givesTheNewMemberExactlyTheOldOnesPartitions() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.replace(old: "n2", new: named("n9"))])
        let moved = Set(planned.pending.map(\.partition))
        let owned = Set((0..<256).filter { ring.owner(ofPartition: $0).name == "n2" })
        #expect(moved == owned)
        #expect(planned.pending.allSatisfy { $0.from == "n2" && $0.to == "n9" })
        #expect(planned.member(named: "n2")?.state == .leaving)
    }

    @Test func sources_preferTheReplicaThatLosesTheRange_andNeverTheReceiver() throws {
        let ring = try formed(4)
        let planned = try ring.planning([.leave("n2")])
        for receiver in planned.receivers {
            for partition in planned.gains(of: receiver) {
                let sources = planned.sources(partition: partition, for: receiver)
                #expect(!sources.isEmpty)
                #expect(!sources.contains(receiver))
                let current = planned.preferenceList(partition: partition).map(\.name)
                #expect(sources.allSatisfy(current.contains))
                if current.contains("n2") { #expect(sources.first == "n2") }
            }
        }
    }

    @Test func switchingOwners_waitsForEveryReceiver_thenCompletesThePlan() throws {
        let ring = try formed(3)
        var planned = try ring.planning([.join(named("n4")), .leave("n1")])
        #expect(planned.switchingOwners() == nil)
        for receiver in planned.receivers {
            #expect(planned.switchingOwners() == nil)
            planned = try #require(planned.markingTransferred(receiver))
        }
        #expect(planned.markingTransferred(planned.receivers[0]) == nil, "marking twice changes nothing")
        let switched = try #require(planned.switchingOwners())
        #expect(switched.pending.isEmpty)
        #expect(switched.transferred.isEmpty)
        #expect(switched.member(named: "n4")?.state == .up)
        #expect(switched.member(named: "n1")?.state == .left)
        #expect(switched.ownership["n1"] ?? 0 == 0)
        #expect(switched.ownership.values.reduce(0, +) == 256)
        // The next plan prunes the member that left.
        let next = try switched.planning([.join(named("n5"))])
        #expect(next.member(named: "n1") == nil)
    }

    @Test func planning_refusesWhileTransfersArePending_andBadChanges() throws {
        let ring = try formed(3)
        let planned = try ring.planning([.join(named("n4"))])
        #expect(throws: RingError.transfersPending(planned.pending.count)) { try planned.planning([.leave("n2")]) }
        #expect(throws: RingError.nothingStaged) { try ring.planning([]) }
        #expect(throws: RingError.unknownMember("zz")) { try ring.planning([.leave("zz")]) }
        #expect(throws: RingError.duplicateMember("n2")) { try ring.planning([.join(named("n2"))]) }
        let alone = try formed(1)
        #expect(throws: RingError.lastMemberCannotLeave("n1")) { try alone.planning([.leave("n1")]) }
    }

    @Test func encoding_roundTripsAPendingPlan() throws {
        let ring = try formed(3)
        var planned = try ring.planning([.join(named("n4"))])
        planned = try #require(planned.markingTransferred("n4"))
        let decoded = try Ring.decode(planned.encoded())
        #expect(decoded == planned)
        #expect(decoded.clusterID == 7)
        #expect(decoded.transferred == ["n4"])
        #expect(decoded.planID == planned.planID)
        #expect(planned.planID != 0)
        #expect(ring.planID == 0)
    }
}
