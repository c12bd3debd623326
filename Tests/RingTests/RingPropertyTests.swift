import Testing

@testable import Ring

/// One step of growing or shrinking a ring, as recorded for the table in Docs/RING.md.
struct RingStep {
    var members: Int
    var moved: Int
    var spacingViolations: Int
    var worstLoadDeviation: Double
}

/// Member `n01`, `n02`, … (zero-padded so that name order is join order).
func member(_ index: Int) -> Member {
    let name = index < 10 ? "n0\(index)" : "n\(index)"
    return Member(name: name, clusterAddress: "127.0.0.1:\(9700 + index)", httpAddress: "127.0.0.1:\(8700 + index)")
}

/// Checks the invariants that must hold for every ring.
func checkInvariants(_ ring: Ring, sourceLocation: SourceLocation = #_sourceLocation) {
    let q = ring.partitionCount
    let s = ring.members.count
    let counts = ring.ownership.values
    #expect(counts.allSatisfy { $0 == q / s || $0 == (q + s - 1) / s }, "balance", sourceLocation: sourceLocation)
    var allDistinct = true
    var primariesOwn = true
    for partition in 0..<q {
        let list = ring.preferenceIndices(partition: partition)
        allDistinct = allDistinct && list.count == min(ring.replicas, s) && Set(list).count == list.count
        primariesOwn = primariesOwn && list.first == ring.owners[partition]
    }
    #expect(allDistinct, "preference lists hold min(N, S) distinct members", sourceLocation: sourceLocation)
    #expect(primariesOwn, "a preference list starts with the partition's owner", sourceLocation: sourceLocation)
}

func worstLoadDeviation(_ ring: Ring) -> Double {
    let ideal = Double(min(ring.replicas, ring.members.count) * ring.partitionCount) / Double(ring.members.count)
    return ring.replicaLoad.values.map { abs(Double($0) - ideal) / ideal }.max() ?? 0
}

/// Grows a ring from 1 to `maxMembers` one join at a time, then shrinks it by removing the oldest member.
func growAndShrink(partitions: Int, replicas: Int, maxMembers: Int) throws -> (grow: [RingStep], shrink: [RingStep]) {
    var ring = try Ring.create(partitionCount: partitions, replicas: replicas, members: [member(1)])
    checkInvariants(ring)
    var grow = [RingStep(members: 1, moved: 0, spacingViolations: ring.spacingViolations, worstLoadDeviation: 0)]
    for index in 2...maxMembers {
        let next = try ring.adding(member(index))
        let transfers = ring.diff(to: next)
        let s = index
        #expect(transfers.count <= (partitions + s - 1) / s, "join of member \(s) moved \(transfers.count)")
        #expect(transfers.allSatisfy { $0.to == member(index).name }, "a join moves partitions only to the new member")
        checkInvariants(next)
        ring = next
        grow.append(
            RingStep(
                members: s, moved: transfers.count, spacingViolations: ring.spacingViolations,
                worstLoadDeviation: worstLoadDeviation(ring)))
    }
    var shrink: [RingStep] = []
    for index in 1..<maxMembers {
        let leaver = member(index).name
        let next = try ring.removing(leaver)
        let transfers = ring.diff(to: next)
        #expect(transfers.allSatisfy { $0.from == leaver }, "a leave moves only the leaver's partitions")
        #expect(transfers.count == ring.ownership[leaver])
        checkInvariants(next)
        ring = next
        shrink.append(
            RingStep(
                members: ring.members.count, moved: transfers.count,
                spacingViolations: ring.spacingViolations, worstLoadDeviation: worstLoadDeviation(ring)))
    }
    return (grow, shrink)
}

@Suite struct RingPropertyTests {
    @Test(arguments: [64, 256, 1024], [1, 3, 5])
    func growingAndShrinking_keepsBalanceMovementAndDistinctReplicas(partitions: Int, replicas: Int) throws {
        let (grow, shrink) = try growAndShrink(partitions: partitions, replicas: replicas, maxMembers: 64)
        for step in grow where step.members >= replicas + 4 {
            #expect(step.spacingViolations == 0, "grow S=\(step.members) Q=\(partitions) N=\(replicas)")
        }
        for step in shrink where step.members >= 2 * replicas {
            #expect(step.spacingViolations <= partitions / 8, "shrink S=\(step.members) Q=\(partitions) N=\(replicas)")
        }
        for step in grow + shrink where step.members >= replicas {
            let bound = RingBounds.loadDeviation(partitionsPerMember: partitions / step.members)
            #expect(
                step.worstLoadDeviation <= bound,
                "S=\(step.members) Q=\(partitions) N=\(replicas): load deviation \(step.worstLoadDeviation)")
        }
        if let path = Environment.ringTablePath {
            RingTable.write(grow: grow, shrink: shrink, partitions: partitions, replicas: replicas, to: path)
        }
    }

    @Test func create_isDeterministicWhateverTheOrderOfMembers() throws {
        let members = (1...12).map(member)
        let a = try Ring.create(partitionCount: 256, replicas: 3, members: members)
        let b = try Ring.create(partitionCount: 256, replicas: 3, members: members.reversed())
        #expect(a == b)
        #expect(a.encoded() == b.encoded())
    }

    @Test func create_matchesAFixedFingerprint() throws {
        // Same inputs must give the same ring on every run and machine.
        let ring = try Ring.create(partitionCount: 64, replicas: 3, members: (1...5).map(member))
        let owners = (0..<64).map { ring.owner(ofPartition: $0).name.suffix(1) }.joined()
        #expect(owners == RingBounds.fingerprint64x5, "ring layout changed: \(owners)")
    }

    @Test func preferenceList_withZones_spansDistinctZonesFirst() throws {
        var members = (1...6).map(member)
        for index in members.indices { members[index].zone = index < 4 ? "a" : (index == 4 ? "b" : "c") }
        let ring = try Ring.create(partitionCount: 256, replicas: 3, members: members)
        for partition in 0..<256 {
            let zones = Set(ring.preferenceList(partition: partition).compactMap(\.zone))
            #expect(zones.count == 3, "partition \(partition) spans \(zones)")
        }
    }

    @Test func fallbacks_continueTheWalkWithTheOtherMembers() throws {
        let ring = try Ring.create(partitionCount: 64, replicas: 3, members: (1...5).map(member))
        for partition in 0..<64 {
            let all = ring.preferenceList(partition: partition) + ring.fallbacks(partition: partition)
            #expect(Set(all.map(\.name)).count == 5)
        }
    }

    @Test func singleMember_ownsEverythingAndWarns() throws {
        let ring = try Ring.create(partitionCount: 8, replicas: 3, members: [member(1)])
        #expect(ring.preferenceList(partition: 3).map(\.name) == ["n01"])
        #expect(ring.warnings.contains { $0.contains("replication is below N") })
    }
}

/// Bounds the claim guarantees, measured over every ring of the growth test (see Docs/RING.md).
enum RingBounds {
    /// Worst replica load relative to N·Q/S, by partitions per member.
    static func loadDeviation(partitionsPerMember: Int) -> Double {
        switch partitionsPerMember {
        case 8...: return 0.2
        case 4...: return 0.35
        case 2...: return 0.65
        default: return 1.25
        }
    }

    static let fingerprint64x5 = "5214351452143514521435145213423152134235425342315213423542134231"
}
