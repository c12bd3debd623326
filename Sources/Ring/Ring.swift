/// The cluster's map from partitions to owners: a value with an epoch, replicated by gossip.
///
/// Q equal partitions (a power of two) are each owned by one member; a key's preference list is
/// the owner of its partition followed by the next distinct owners clockwise. The ring is pure:
/// building, changing, diffing and merging it does no IO.
public struct Ring: Sendable, Equatable {
    /// Largest replica count N a ring accepts.
    public static let maximumReplicas = 16

    /// Grows by one with every change; gossip keeps the ring with the highest epoch.
    public internal(set) var epoch: UInt64
    /// Chosen when the cluster is formed; rings of different clusters never merge.
    public internal(set) var clusterID: UInt64
    /// Maps hashes to partitions.
    public let partitioner: Partitioner
    /// N, the number of replicas of each key.
    public let replicas: Int
    /// Members sorted by name.
    public internal(set) var members: [Member]
    /// Owner of each partition, as an index into `members`.
    @usableFromInline var owners: [UInt16]
    /// Ownership changes committed but not yet carried out: owners switch once every receiver has its data.
    public internal(set) var pending: [Transfer]
    /// Members that received all the data of the pending transfers (sorted names).
    public internal(set) var transferred: [String]
    /// The changes of the pending plan, by member name, in the order they were planned; empty when nothing is
    /// pending, or for a ring decoded from an encoding that did not carry them (see `planChanges`).
    var steps: [PlanStep]
    /// The epoch the pending plan was committed at (0 when nothing is pending, or for a ring decoded from an
    /// encoding before version 4): the same changes planned again after an abort are another plan.
    public internal(set) var plannedAt: UInt64
    /// For each partition, `min(N, S)` member indices: the precomputed preference lists.
    @usableFromInline var preferenceTable: [UInt16]
    @usableFromInline var preferenceWidth: Int

    /// Q, the number of partitions.
    @inlinable public var partitionCount: Int { partitioner.count }

    init(
        epoch: UInt64, clusterID: UInt64 = 0, partitioner: Partitioner, replicas: Int, members: [Member],
        owners: [UInt16], pending: [Transfer], transferred: [String] = [], steps: [PlanStep] = [],
        plannedAt: UInt64 = 0
    ) {
        self.plannedAt = pending.isEmpty ? 0 : plannedAt
        self.epoch = epoch
        self.clusterID = clusterID
        self.transferred = transferred
        self.steps = pending.isEmpty ? [] : steps
        self.partitioner = partitioner
        self.replicas = replicas
        self.members = members
        self.owners = owners
        self.pending = pending
        self.preferenceTable = []
        self.preferenceWidth = 0
        rebuildPreferenceTable()
    }

    /// A ring of `members` created by joining them one by one in name order, so that every node that
    /// knows the same members computes the same ring.
    public static func create(partitionCount: Int = Partitioner.defaultCount, replicas: Int = 3, members: [Member])
        throws(RingError) -> Ring
    {
        let partitioner = try Partitioner(count: partitionCount)
        guard (1...maximumReplicas).contains(replicas) else { throw RingError.invalidReplicaCount(replicas) }
        let sorted = members.sorted { $0.name < $1.name }
        guard let first = sorted.first else { throw RingError.noMembers }
        try validate(sorted, partitionCount: partitionCount)
        var ring = Ring(
            epoch: 1, partitioner: partitioner, replicas: replicas, members: [first],
            owners: [UInt16](repeating: 0, count: partitionCount), pending: [])
        for member in sorted.dropFirst() {
            ring = try ring.adding(member)
        }
        ring.epoch = 1
        return ring
    }

    static func validate(_ sorted: [Member], partitionCount: Int) throws(RingError) {
        for (index, member) in sorted.enumerated() {
            guard Member.isValidName(member.name) else { throw RingError.invalidMemberName(member.name) }
            if index > 0, sorted[index - 1].name == member.name { throw RingError.duplicateMember(member.name) }
        }
        guard sorted.count <= partitionCount else {
            throw RingError.tooManyMembers(count: sorted.count, partitions: partitionCount)
        }
    }

    // MARK: Queries

    /// The partition of `(collection, key)`.
    @inlinable
    public func partition(collection: String, key: [UInt8]) -> Int {
        partitioner.partition(collection: collection, key: key)
    }

    /// The member that owns `partition`.
    public func owner(ofPartition partition: Int) -> Member { members[Int(owners[partition])] }

    /// The member with this name, if any.
    public func member(named name: String) -> Member? { index(of: name).map { members[$0] } }

    /// Index of a member in `members` (sorted by name).
    public func index(of name: String) -> Int? {
        var low = 0
        var high = members.count
        while low < high {
            let mid = (low + high) / 2
            if members[mid].name < name { low = mid + 1 } else { high = mid }
        }
        return low < members.count && members[low].name == name ? low : nil
    }

    /// Member indices of a partition's preference list: `min(N, S)` distinct members, primary first.
    @inlinable
    public func preferenceIndices(partition: Int) -> ArraySlice<UInt16> {
        let start = partition * preferenceWidth
        return preferenceTable[start..<(start + preferenceWidth)]
    }

    /// A partition's preference list: `min(N, S)` distinct members, primary first.
    public func preferenceList(partition: Int) -> [Member] {
        preferenceIndices(partition: partition).map { members[Int($0)] }
    }

    /// The members after the preference list in the clockwise walk: the fallbacks of sloppy quorum.
    public func fallbacks(partition: Int) -> [Member] {
        let primaries = Set(preferenceIndices(partition: partition))
        return walk(from: partition).filter { !primaries.contains($0) }.map { members[Int($0)] }
    }

    /// Every member once, in the order a clockwise walk from `partition` first meets it.
    func walk(from partition: Int, limit: Int? = nil) -> [UInt16] {
        let wanted = Swift.min(limit ?? members.count, members.count)
        var seen = [Bool](repeating: false, count: members.count)
        var order: [UInt16] = []
        order.reserveCapacity(wanted)
        var p = partition
        for _ in 0..<partitionCount where order.count < wanted {
            let owner = owners[p]
            if !seen[Int(owner)] {
                seen[Int(owner)] = true
                order.append(owner)
            }
            p = (p + 1) % partitionCount
        }
        return order
    }

    /// Partitions owned by each member, by name.
    public var ownership: [String: Int] {
        var counts = [Int](repeating: 0, count: members.count)
        for owner in owners { counts[Int(owner)] += 1 }
        return Dictionary(uniqueKeysWithValues: zip(members.map(\.name), counts))
    }

    /// How many preference lists each member appears in; ideally `N·Q/S` each.
    public var replicaLoad: [String: Int] {
        var counts = [Int](repeating: 0, count: members.count)
        for index in preferenceTable { counts[Int(index)] += 1 }
        return Dictionary(uniqueKeysWithValues: zip(members.map(\.name), counts))
    }

    /// Windows of N consecutive partitions whose owners are not all distinct (0 is ideal; not always reachable).
    public var spacingViolations: Int {
        SpacingScore(owners: owners.map(Int.init), replicas: replicas, zones: nil).windowViolations
    }

    /// Human-readable warnings about this ring: replication below N.
    public var warnings: [String] {
        let active = members.filter { $0.state != .left }.count
        guard active < replicas else { return [] }
        return [
            "replication is below N: \(active) member(s) for N=\(replicas); each key is stored \(active) time(s)"
        ]
    }

    /// What spacing violations mean for users, or nil when there are none. Not a warning: it is often the best
    /// a ring can do (Q not a multiple of S), and every key keeps N distinct replicas regardless.
    public var spacingNote: String? {
        let violations = spacingViolations
        guard violations > 0 else { return nil }
        return "\(violations) of \(partitionCount) windows of \(replicas) consecutive partitions repeat an owner: "
            + "every key still has \(min(replicas, members.count)) distinct replicas, but the nodes around those "
            + "partitions carry a little more replica load and offer fewer distinct fallbacks"
    }

    // MARK: Preference lists

    mutating func rebuildPreferenceTable() {
        // Members that own nothing (a joiner before its plan switches, every member but the keepers in a plan's
        // future) are never met by the walk: the width is what the owners can fill.
        let width = Swift.min(replicas, Set(owners).count)
        let zones = Self.zoneIds(of: members)
        var table = [UInt16]()
        table.reserveCapacity(partitionCount * width)
        for partition in 0..<partitionCount {
            let order = walk(from: partition, limit: zones == nil ? width : nil)
            guard let zones else {
                table.append(contentsOf: order.prefix(width))
                continue
            }
            // Distinct zones first, then the remaining members in walk order.
            var chosen: [UInt16] = []
            var usedZones = Set<Int>()
            for index in order where chosen.count < width && usedZones.insert(zones[Int(index)]).inserted {
                chosen.append(index)
            }
            for index in order where chosen.count < width && !chosen.contains(index) {
                chosen.append(index)
            }
            table.append(contentsOf: chosen)
        }
        preferenceTable = table
        preferenceWidth = width
    }
}
