import Testing
@testable import Ring

@Suite struct RingChangeTests {
    @Test func diff_listsExactlyTheMovedPartitions() throws {
        let old = try Ring.create(partitionCount: 256, replicas: 3, members: (1...4).map(member))
        let new = try old.adding(member(5))
        let transfers = old.diff(to: new)
        #expect(!transfers.isEmpty)
        for transfer in transfers {
            #expect(old.owner(ofPartition: transfer.partition).name == transfer.from)
            #expect(new.owner(ofPartition: transfer.partition).name == transfer.to)
        }
        let moved = Set(transfers.map(\.partition))
        for partition in 0..<256 where !moved.contains(partition) {
            #expect(old.owner(ofPartition: partition) == new.owner(ofPartition: partition))
        }
        #expect(old.diff(to: old).isEmpty)
    }

    @Test func merge_keepsTheHigherEpochWhateverTheOrder() throws {
        let old = try Ring.create(partitionCount: 64, replicas: 3, members: (1...3).map(member))
        let new = try old.adding(member(4))
        #expect(new.epoch > old.epoch)
        #expect(Ring.merge(old, new) == new)
        #expect(Ring.merge(new, old) == new)
    }

    @Test func merge_breaksEpochTiesDeterministically() throws {
        let base = try Ring.create(partitionCount: 64, replicas: 3, members: (1...3).map(member))
        let a = try base.adding(member(4))
        let b = try base.adding(member(5))
        #expect(a.epoch == b.epoch)
        let winner = Ring.merge(a, b)
        #expect(Ring.merge(b, a) == winner)
        #expect(winner == a || winner == b)
    }

    @Test func adding_rejectsDuplicatesAndBadNames() throws {
        let ring = try Ring.create(partitionCount: 8, replicas: 3, members: [member(1)])
        #expect(throws: RingError.duplicateMember("n01")) { try ring.adding(member(1)) }
        #expect(throws: RingError.invalidMemberName("a b")) { try ring.adding(Member(name: "a b")) }
        #expect(throws: RingError.invalidMemberName("")) { try ring.adding(Member(name: "")) }
    }

    @Test func removing_rejectsUnknownAndLastMember() throws {
        let ring = try Ring.create(partitionCount: 8, replicas: 3, members: [member(1)])
        #expect(throws: RingError.unknownMember("n09")) { try ring.removing("n09") }
        #expect(throws: RingError.lastMemberCannotLeave("n01")) { try ring.removing("n01") }
    }

    @Test func create_rejectsInvalidParameters() {
        #expect(throws: RingError.invalidPartitionCount(100)) {
            try Ring.create(partitionCount: 100, replicas: 3, members: [member(1)])
        }
        #expect(throws: RingError.invalidReplicaCount(0)) {
            try Ring.create(partitionCount: 64, replicas: 0, members: [member(1)])
        }
        #expect(throws: RingError.tooManyMembers(count: 9, partitions: 8)) {
            try Ring.create(partitionCount: 8, replicas: 3, members: (1...9).map(member))
        }
        #expect(throws: RingError.duplicateMember("n01")) {
            try Ring.create(partitionCount: 8, replicas: 3, members: [member(1), member(1)])
        }
        #expect(throws: RingError.noMembers) { try Ring.create(partitionCount: 8, replicas: 3, members: []) }
    }

    @Test func setting_changesStateWithoutMovingPartitions() throws {
        let ring = try Ring.create(partitionCount: 64, replicas: 3, members: (1...3).map(member))
        let down = try ring.setting("n02", to: .down)
        #expect(down.member(named: "n02")?.state == .down)
        #expect(ring.diff(to: down).isEmpty)
        #expect(down.epoch == ring.epoch + 1)
    }
}
