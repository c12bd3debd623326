/// The spacing objective of the claim: pairs of partitions closer than N with the same owner (or zone).
///
/// Pairs are cheap to update one partition at a time (2·(N-1) look-ups); `windowViolations` gives the
/// figure users see: windows of N consecutive partitions whose owners are not distinct.
struct SpacingScore {
    var owners: [Int]
    let replicas: Int
    let zones: [Int]?

    var reach: Int { Swift.min(replicas, owners.count) - 1 }

    /// Positions whose owner repeats within the next N-1 partitions.
    var windowViolations: Int {
        var violations = 0
        for position in 0..<owners.count {
            for distance in 0..<reach where owners[wrap(position + distance + 1)] == owners[position] {
                violations += 1
                break
            }
        }
        return violations
    }

    @inline(__always) func wrap(_ position: Int) -> Int {
        let q = owners.count
        return position >= q ? position - q : (position < 0 ? position + q : position)
    }

    /// Change in (node pairs, zone pairs) if `position` moved from its owner to `member`.
    func delta(giving position: Int, to member: Int) -> (Int, Int) {
        guard reach > 0 else { return (0, 0) }
        let donor = owners[position]
        var node = 0
        var zone = 0
        for distance in 1...reach {
            let after = owners[wrap(position + distance)]
            let before = owners[wrap(position - distance)]
            node += (after == member ? 1 : 0) + (before == member ? 1 : 0)
            node -= (after == donor ? 1 : 0) + (before == donor ? 1 : 0)
            if let zones {
                let (memberZone, donorZone) = (zones[member], zones[donor])
                zone += (zones[after] == memberZone ? 1 : 0) + (zones[before] == memberZone ? 1 : 0)
                zone -= (zones[after] == donorZone ? 1 : 0) + (zones[before] == donorZone ? 1 : 0)
            }
        }
        return (node, zone)
    }
}

/// Sorted partitions of one member, for the distance to its nearest partition.
struct Positions {
    var sorted: [Int]

    func distanceToNearest(_ position: Int, ringSize q: Int) -> Int {
        guard !sorted.isEmpty else { return q }
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < position { low = mid + 1 } else { high = mid }
        }
        let after = sorted[low % sorted.count]
        let before = sorted[(low + sorted.count - 1) % sorted.count]
        let forward = (after - position + q) % q
        let backward = (position - before + q) % q
        return Swift.min(forward, backward)
    }

    mutating func insert(_ position: Int) {
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < position { low = mid + 1 } else { high = mid }
        }
        sorted.insert(position, at: low)
    }
}

extension Ring {
    /// The ring with `member` joined: it claims about Q/(S+1) partitions, taken only from members
    /// above their new share, placed to keep N consecutive partitions on distinct owners.
    public func adding(_ member: Member) throws(RingError) -> Ring {
        guard Member.isValidName(member.name) else { throw RingError.invalidMemberName(member.name) }
        guard index(of: member.name) == nil else { throw RingError.duplicateMember(member.name) }
        guard members.count + 1 <= partitionCount else {
            throw RingError.tooManyMembers(count: members.count + 1, partitions: partitionCount)
        }
        var newMembers = members
        newMembers.append(member)
        newMembers.sort { $0.name < $1.name }
        let newIndex = newMembers.firstIndex { $0.name == member.name }!
        let owners = owners.map { Int($0) >= newIndex ? $0 + 1 : $0 }
        let claimed = rebalanced(members: newMembers, owners: owners, leaving: nil)
        return Ring(
            epoch: epoch + 1, clusterID: clusterID, partitioner: partitioner, replicas: replicas,
            members: newMembers, owners: claimed, pending: [])
    }

    /// The ring without `name`: only the leaver's partitions move, to the members below their new share.
    public func removing(_ name: String) throws(RingError) -> Ring {
        guard let leaver = index(of: name) else { throw RingError.unknownMember(name) }
        guard members.count > 1 else { throw RingError.lastMemberCannotLeave(name) }
        var remaining = members
        remaining.remove(at: leaver)
        let claimed = rebalanced(members: members, owners: owners, leaving: leaver)
        return Ring(
            epoch: epoch + 1, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: remaining,
            owners: claimed.map { $0 > UInt16(leaver) ? $0 - 1 : $0 }, pending: [])
    }

    /// The ring with a member's state changed (no ownership moves).
    public func setting(_ name: String, to state: MemberState) throws(RingError) -> Ring {
        guard let index = index(of: name) else { throw RingError.unknownMember(name) }
        var ring = self
        ring.members[index].state = state
        ring.epoch += 1
        return ring
    }

    /// The owners after moving partitions from members above their share to those below it; `leaving` gets 0.
    /// Each move picks the (partition, receiver) that adds the fewest close pairs of one owner, then of
    /// one zone, and among equals the partition farthest from the receiver's others (so it spreads out).
    func rebalanced(members: [Member], owners: [UInt16], leaving: Int?) -> [UInt16] {
        let q = owners.count
        var counts = [Int](repeating: 0, count: members.count)
        for owner in owners { counts[Int(owner)] += 1 }
        let targets = Self.shares(counts: counts, names: members.map(\.name), partitions: q, leaving: leaving)
        var surplus = zip(counts, targets).map { $0 - $1 }
        var score = SpacingScore(owners: owners.map(Int.init), replicas: replicas, zones: Self.zoneIds(of: members))
        let receivers = surplus.indices.filter { surplus[$0] < 0 }
        var positions = [Positions](repeating: Positions(sorted: []), count: members.count)
        for (partition, owner) in score.owners.enumerated() where surplus[owner] < 0 {
            positions[owner].sorted.append(partition)
        }

        while true {
            var best: (partition: Int, receiver: Int, node: Int, zone: Int, spread: Int)? = nil
            for partition in 0..<q where surplus[score.owners[partition]] > 0 {
                for receiver in receivers where surplus[receiver] < 0 {
                    let (node, zone) = score.delta(giving: partition, to: receiver)
                    if let current = best, (node, zone) > (current.node, current.zone) { continue }
                    let spread = positions[receiver].distanceToNearest(partition, ringSize: q)
                    if let current = best, (node, zone, -spread) >= (current.node, current.zone, -current.spread) {
                        continue
                    }
                    best = (partition, receiver, node, zone, spread)
                }
            }
            guard let move = best else { break }
            surplus[score.owners[move.partition]] -= 1
            surplus[move.receiver] += 1
            score.owners[move.partition] = move.receiver
            positions[move.receiver].insert(move.partition)
        }
        return score.owners.map { UInt16($0) }
    }

    /// Each member's share of Q: ⌊Q/S⌋, plus one for the Q mod S members that own most now (ties by name).
    static func shares(counts: [Int], names: [String], partitions q: Int, leaving: Int?) -> [Int] {
        let staying = counts.indices.filter { $0 != leaving }
        let base = q / staying.count
        let extra = q % staying.count
        let ranked = staying.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : names[$0] < names[$1] }
        var targets = [Int](repeating: 0, count: counts.count)
        for (rank, member) in ranked.enumerated() { targets[member] = base + (rank < extra ? 1 : 0) }
        return targets
    }

    /// A small integer per member's zone, or nil when fewer than two zones are configured.
    static func zoneIds(of members: [Member]) -> [Int]? {
        var ids: [String: Int] = [:]
        let result = members.map { member -> Int in
            let zone = member.zone ?? ""
            if let id = ids[zone] { return id }
            ids[zone] = ids.count
            return ids.count - 1
        }
        return ids.count > 1 ? result : nil
    }
}
