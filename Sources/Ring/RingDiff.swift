/// One partition changing owner.
public struct Transfer: Sendable, Hashable, Codable {
    /// The partition that moves.
    public var partition: Int
    /// Name of the member that owns it now.
    public var from: String
    /// Name of the member that will own it.
    public var to: String

    /// A transfer of `partition` from `from` to `to`.
    public init(partition: Int, from: String, to: String) {
        self.partition = partition
        self.from = from
        self.to = to
    }
}

extension Ring {
    /// The transfers that turn this ring's ownership into `new`'s, in partition order.
    /// Rings of different partition counts cannot be diffed; the result is then empty.
    public func diff(to new: Ring) -> [Transfer] {
        guard new.partitionCount == partitionCount else { return [] }
        var transfers: [Transfer] = []
        for partition in 0..<partitionCount {
            let from = owner(ofPartition: partition).name
            let to = new.owner(ofPartition: partition).name
            if from != to { transfers.append(Transfer(partition: partition, from: from, to: to)) }
        }
        return transfers
    }

    /// The ring that gossip keeps of two: the higher epoch wins; at equal epochs the one whose
    /// encoding sorts last, so every node picks the same ring whatever order the two arrive in.
    public static func merge(_ a: Ring, _ b: Ring) -> Ring {
        if a.epoch != b.epoch { return a.epoch > b.epoch ? a : b }
        if a == b { return a }
        return a.encoded().lexicographicallyPrecedes(b.encoded()) ? b : a
    }
}
