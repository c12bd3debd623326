/// A staged change to the cluster's membership, as `dhrt-admin join/leave/force-remove/replace` stage them.
public enum RingChange: Sendable, Hashable {
    /// A new member claims about Q/(S+1) partitions, taken from the members above their new share.
    case join(Member)
    /// The member hands its partitions to the others, then leaves.
    case leave(String)
    /// The member is gone for good: its partitions are rebuilt from the other replicas.
    case forceRemove(String)
    /// `new` takes exactly `old`'s partitions; `old` leaves.
    case replace(old: String, new: Member)

    /// The member this change is about (the old one for a replace).
    public var subject: String {
        switch self {
        case .join(let member): member.name
        case .leave(let name), .forceRemove(let name): name
        case .replace(let old, _): old
        }
    }
}

extension Ring {
    /// The first ring of a cluster formed by `members` at once: partition p goes to member p mod S (by name),
    /// which spaces owners as well as a ring can, and every member owns ⌊Q/S⌋ or ⌈Q/S⌉ partitions.
    public static func formed(
        clusterID: UInt64, partitionCount: Int = Partitioner.defaultCount, replicas: Int = 3, members: [Member]
    ) throws(RingError) -> Ring {
        let partitioner = try Partitioner(count: partitionCount)
        guard (1...maximumReplicas).contains(replicas) else { throw RingError.invalidReplicaCount(replicas) }
        let sorted = members.sorted { $0.name < $1.name }.map { member -> Member in
            var member = member
            member.state = .up
            return member
        }
        guard !sorted.isEmpty else { throw RingError.noMembers }
        try validate(sorted, partitionCount: partitionCount)
        let owners = (0..<partitionCount).map { UInt16($0 % sorted.count) }
        return Ring(
            epoch: 1, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: sorted,
            owners: owners, pending: [])
    }

    /// The ring as it will be once the pending transfers are done: same members, future owners.
    public var future: Ring {
        guard !pending.isEmpty else { return self }
        var next = owners
        for transfer in pending {
            if let to = index(of: transfer.to) { next[transfer.partition] = UInt16(to) }
        }
        return Ring(
            epoch: epoch, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: members,
            owners: next, pending: [], transferred: transferred)
    }

    /// The committed ring for `changes`: the same owners, the claim's moves as pending transfers, joiners as
    /// `joining`, leavers as `leaving` and force-removed members as `left`. Members that left earlier are pruned.
    /// While a plan is pending, force-removes and replaces fold into it (`folding(_:)`); joins and leaves are
    /// refused until it is done or aborted.
    public func planning(_ changes: [RingChange]) throws(RingError) -> Ring {
        guard !changes.isEmpty else { throw RingError.nothingStaged }
        guard pending.isEmpty else { return try folding(changes) }
        let base = pruningLeft()
        var target = base
        var states: [String: MemberState] = [:]
        var joined: [Member] = []
        for change in changes {
            switch change {
            case .join(let member):
                target = try target.adding(member)
                joined.append(member)
                states[member.name] = .joining
            case .leave(let name):
                target = try target.removing(name)
                states[name] = .leaving
            case .forceRemove(let name):
                target = try target.removing(name)
                states[name] = .left
            case .replace(let old, let new):
                target = try target.replacing(old, with: new)
                joined.append(new)
                states[new.name] = .joining
                states[old] = .leaving
            }
        }
        var members = base.members
        for member in joined {
            var member = member
            member.state = .joining
            members.append(member)
        }
        members.sort { $0.name < $1.name }
        for index in members.indices {
            if let state = states[members[index].name] { members[index].state = state }
        }
        let indexOf = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1.name, UInt16($0)) })
        let owners = base.owners.map { indexOf[base.members[Int($0)].name]! }
        var pending: [Transfer] = []
        for partition in 0..<partitionCount {
            let from = base.owner(ofPartition: partition).name
            let to = target.owner(ofPartition: partition).name
            if from != to { pending.append(Transfer(partition: partition, from: from, to: to)) }
        }
        return Ring(
            epoch: epoch + 1, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: members,
            owners: owners, pending: pending, steps: changes.map(PlanStep.init), plannedAt: epoch + 1)
    }

    /// The ring with `old`'s partitions given to `new` and `old` removed.
    func replacing(_ old: String, with new: Member) throws(RingError) -> Ring {
        guard let oldIndex = index(of: old) else { throw RingError.unknownMember(old) }
        guard Member.isValidName(new.name) else { throw RingError.invalidMemberName(new.name) }
        guard index(of: new.name) == nil else { throw RingError.duplicateMember(new.name) }
        var names = (0..<partitionCount).map { owner(ofPartition: $0).name }
        for partition in names.indices where names[partition] == old { names[partition] = new.name }
        var members = self.members
        members[oldIndex] = new
        members.sort { $0.name < $1.name }
        let indexOf = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1.name, UInt16($0)) })
        return Ring(
            epoch: epoch + 1, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: members,
            owners: names.map { indexOf[$0]! }, pending: [])
    }

    /// The ring without members in state `left` (they own nothing once their plan switched).
    func pruningLeft() -> Ring {
        guard members.contains(where: { $0.state == .left }) else { return self }
        let kept = members.filter { $0.state != .left }
        let indexOf = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1.name, UInt16($0)) })
        let owners = self.owners.map { indexOf[members[Int($0)].name] ?? 0 }
        return Ring(
            epoch: epoch, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: kept,
            owners: owners, pending: pending, transferred: transferred, steps: steps, plannedAt: plannedAt)
    }

    /// Partitions whose preference list gains `name` when the pending transfers are done: the key ranges it
    /// must receive before owners switch.
    public func gains(of name: String) -> [Int] {
        guard !pending.isEmpty, let member = index(of: name) else { return [] }
        let next = future
        return (0..<partitionCount).filter { partition in
            next.preferenceIndices(partition: partition).contains(UInt16(member))
                && !preferenceIndices(partition: partition).contains(UInt16(member))
        }
    }

    /// Partitions whose preference list loses `name` when the pending transfers are done.
    public func losses(of name: String) -> [Int] {
        guard let member = index(of: name) else { return [] }
        let next = future
        return (0..<partitionCount).filter { partition in
            preferenceIndices(partition: partition).contains(UInt16(member))
                && !next.preferenceIndices(partition: partition).contains(UInt16(member))
        }
    }

    /// Members that must receive data before owners switch.
    public var receivers: [String] {
        members.map(\.name).filter { !gains(of: $0).isEmpty }
    }

    /// Where `receiver` may copy `partition`'s keys from: the current replicas, those that lose the range first
    /// (they are the ones handing it over), never the receiver itself or a member that left.
    public func sources(partition: Int, for receiver: String) -> [String] {
        sources(partition: partition, for: receiver, future: future)
    }

    /// `sources(partition:for:)` with `future` computed once by the caller (building it rebuilds the ring's
    /// preference table).
    public func sources(partition: Int, for receiver: String, future: Ring) -> [String] {
        let next = Set(future.preferenceList(partition: partition).map(\.name))
        let current = preferenceList(partition: partition).filter { $0.name != receiver && $0.state != .left }
        return current.filter { !next.contains($0.name) }.map(\.name)
            + current.filter { next.contains($0.name) }
            .map(\.name)
    }

    /// The ring recording that `name` received all its data; nil if nothing changes.
    public func markingTransferred(_ name: String) -> Ring? {
        guard !pending.isEmpty, index(of: name) != nil, !transferred.contains(name) else { return nil }
        var ring = self
        ring.transferred = (transferred + [name]).sorted()
        ring.epoch += 1
        return ring
    }

    /// The ring with owners switched, once every receiver has its data; nil while some still copy.
    public func switchingOwners() -> Ring? {
        guard !pending.isEmpty else { return nil }
        let done = Set(transferred)
        guard receivers.allSatisfy({ done.contains($0) }) else { return nil }
        var ring = future
        ring.epoch = epoch + 1
        ring.transferred = []
        for index in ring.members.indices {
            switch ring.members[index].state {
            case .joining: ring.members[index].state = .up
            case .leaving: ring.members[index].state = .left
            case .up, .down, .left: break
            }
        }
        return ring
    }

    /// The ring with a member's addresses updated (a member restarted elsewhere); nil if nothing changes.
    public func updatingAddresses(of member: Member) -> Ring? {
        guard let index = index(of: member.name) else { return nil }
        let current = members[index]
        guard current.clusterAddress != member.clusterAddress || current.httpAddress != member.httpAddress else {
            return nil
        }
        var ring = self
        ring.members[index].clusterAddress = member.clusterAddress
        ring.members[index].httpAddress = member.httpAddress
        ring.epoch += 1
        return ring
    }
}

extension Ring {
    /// Identifies the pending plan (cluster, the epoch it was committed at, transfers), so that a receiver's
    /// copies and checkpoint are not taken for another plan's, even one of the same changes after an abort;
    /// 0 when nothing is pending.
    public var planID: UInt64 {
        guard !pending.isEmpty else { return 0 }
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(clusterID)
        if plannedAt != 0 { bytes.appendLittleEndian(plannedAt) }
        for transfer in pending {
            bytes.appendLittleEndian(UInt32(transfer.partition))
            bytes.appendString(UInt8.self, transfer.from)
            bytes.appendString(UInt8.self, transfer.to)
        }
        return bytes.withUnsafeBytes { KeyHash.xxh3($0) }
    }
}
