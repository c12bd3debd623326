/// Binary encoding of a ring for gossip: little-endian, version byte first, XXH3 checksum last.
///
/// `u8 version | u64 epoch | u64 cluster id | u16 Q | u8 N | u16 S | S × member | Q × u16 owner | u32 P |
/// P × (u16 partition, u16 from, u16 to) | u16 T | T × u16 transferred member | u16 C | C × change |
/// u64 xxh3 of all before`; a member is `str name | str cluster | str http | u8 hasZone [str zone] | u8 state`,
/// where `str` is `u8 length | UTF-8 bytes`; a change of the pending plan is `u8 kind (0 join, 1 leave,
/// 2 force-remove, 3 replace) | u16 member [u16 new member, for a replace] | u64 epoch the plan was committed at`.
/// Versions 2 (no changes section: the plan's changes are then read from member states, see `planChanges`)
/// and 3 (no plan epoch) are still decoded. A ring with nothing pending is written in version 2, which has
/// nothing it lacks, so that nodes of the version before can still read the settled rings of this one.
extension Ring {
    /// The current encoding version.
    public static let encodingVersion: UInt8 = 4
    static let states: [MemberState] = [.joining, .up, .leaving, .down, .left]

    /// This ring's binary encoding.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + members.count * 48 + partitionCount * 2 + pending.count * 6)
        let version = pending.isEmpty ? 2 : Self.encodingVersion
        out.append(version)
        out.appendLittleEndian(epoch)
        out.appendLittleEndian(clusterID)
        out.appendLittleEndian(UInt16(partitionCount))
        out.append(UInt8(replicas))
        out.appendLittleEndian(UInt16(members.count))
        for member in members {
            out.appendString(UInt8.self, member.name)
            out.appendString(UInt8.self, member.clusterAddress)
            out.appendString(UInt8.self, member.httpAddress)
            if let zone = member.zone {
                out.append(1)
                out.appendString(UInt8.self, zone)
            } else {
                out.append(0)
            }
            out.append(UInt8(Self.states.firstIndex(of: member.state)!))
        }
        for owner in owners { out.appendLittleEndian(owner) }
        out.appendLittleEndian(UInt32(pending.count))
        for transfer in pending {
            out.appendLittleEndian(UInt16(transfer.partition))
            out.appendLittleEndian(UInt16(index(of: transfer.from) ?? 0))
            out.appendLittleEndian(UInt16(index(of: transfer.to) ?? 0))
        }
        out.appendLittleEndian(UInt16(transferred.count))
        for name in transferred { out.appendLittleEndian(UInt16(index(of: name) ?? 0)) }
        if version >= 3 {
            out.appendLittleEndian(UInt16(steps.count))
            for step in steps {
                out.append(step.kind.rawValue)
                out.appendLittleEndian(UInt16(index(of: step.name) ?? 0))
                if step.kind == .replace { out.appendLittleEndian(UInt16(step.new.flatMap(index(of:)) ?? 0)) }
            }
            out.appendLittleEndian(plannedAt)
        }
        out.appendLittleEndian(out.withUnsafeBytes { KeyHash.xxh3($0) })
        return out
    }

    /// Decodes and validates a ring; every inconsistency is a `RingError.decoding`.
    public static func decode(_ bytes: [UInt8]) throws(RingError) -> Ring {
        guard bytes.count >= 8 else { throw RingError.decoding("\(bytes.count) bytes is too short") }
        let body = bytes.count - 8
        let checksum = bytes.withUnsafeBytes { KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: $0[..<body])) }
        var reader = LittleEndianReader(bytes: bytes, end: body)
        guard try reader.integer(UInt64.self, at: body) == checksum else {
            throw RingError.decoding("checksum mismatch")
        }
        let version: UInt8 = try reader.read()
        guard (2...encodingVersion).contains(version) else { throw RingError.decoding("unknown version \(version)") }
        let epoch: UInt64 = try reader.read()
        let clusterID: UInt64 = try reader.read()
        let partitioner: Partitioner
        do { partitioner = try Partitioner(count: Int(try reader.read() as UInt16)) } catch {
            throw RingError.decoding(error.description)
        }
        let replicas = Int(try reader.read() as UInt8)
        guard (1...maximumReplicas).contains(replicas) else { throw RingError.decoding("replica count \(replicas)") }
        let memberCount = Int(try reader.read() as UInt16)
        guard (1...partitioner.count).contains(memberCount) else { throw RingError.decoding("\(memberCount) members") }
        var members: [Member] = []
        for _ in 0..<memberCount {
            let name = try reader.string(UInt8.self)
            let cluster = try reader.string(UInt8.self)
            let http = try reader.string(UInt8.self)
            let zone = try (reader.read() as UInt8) == 1 ? reader.string(UInt8.self) : nil
            let stateIndex = Int(try reader.read() as UInt8)
            guard stateIndex < states.count else { throw RingError.decoding("member state \(stateIndex)") }
            members.append(
                Member(name: name, clusterAddress: cluster, httpAddress: http, zone: zone, state: states[stateIndex]))
        }
        do { try validate(members, partitionCount: partitioner.count) } catch {
            throw RingError.decoding(error.description)
        }
        guard members == members.sorted(by: { $0.name < $1.name }) else {
            throw RingError.decoding("members not sorted")
        }
        var owners: [UInt16] = []
        owners.reserveCapacity(partitioner.count)
        for _ in 0..<partitioner.count {
            let owner: UInt16 = try reader.read()
            guard Int(owner) < memberCount else { throw RingError.decoding("owner index \(owner) out of range") }
            owners.append(owner)
        }
        let pendingCount = Int(try reader.read() as UInt32)
        guard pendingCount <= partitioner.count else { throw RingError.decoding("\(pendingCount) pending transfers") }
        var pending: [Transfer] = []
        for _ in 0..<pendingCount {
            let partition = Int(try reader.read() as UInt16)
            let from = Int(try reader.read() as UInt16)
            let to = Int(try reader.read() as UInt16)
            guard partition < partitioner.count, from < memberCount, to < memberCount else {
                throw RingError.decoding("pending transfer out of range")
            }
            pending.append(Transfer(partition: partition, from: members[from].name, to: members[to].name))
        }
        let transferredCount = Int(try reader.read() as UInt16)
        guard transferredCount <= memberCount else { throw RingError.decoding("\(transferredCount) transferred") }
        var transferred: [String] = []
        for _ in 0..<transferredCount {
            let index = Int(try reader.read() as UInt16)
            guard index < memberCount else { throw RingError.decoding("transferred member out of range") }
            transferred.append(members[index].name)
        }
        var steps: [PlanStep] = []
        if version >= 3 {
            let stepCount = Int(try reader.read() as UInt16)
            guard stepCount <= memberCount * 2 else { throw RingError.decoding("\(stepCount) plan changes") }
            for _ in 0..<stepCount {
                guard let kind = PlanStep.Kind(rawValue: try reader.read()) else {
                    throw RingError.decoding("unknown plan change")
                }
                let index = Int(try reader.read() as UInt16)
                let new = kind == .replace ? Int(try reader.read() as UInt16) : 0
                guard index < memberCount, new < memberCount else {
                    throw RingError.decoding("plan change member out of range")
                }
                steps.append(
                    PlanStep(kind: kind, name: members[index].name, new: kind == .replace ? members[new].name : nil))
            }
            guard stepCount == 0 || pendingCount > 0 else { throw RingError.decoding("plan changes without a plan") }
        }
        var plannedAt: UInt64 = 0
        if version >= 4 {
            plannedAt = try reader.read()
            guard plannedAt == 0 || pendingCount > 0 else { throw RingError.decoding("a plan epoch without a plan") }
        }
        guard reader.offset == body else { throw RingError.decoding("\(body - reader.offset) trailing bytes") }
        return Ring(
            epoch: epoch, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: members,
            owners: owners, pending: pending, transferred: transferred, steps: steps, plannedAt: plannedAt)
    }
}
