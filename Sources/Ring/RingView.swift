/// The JSON view of a ring, as `dhrt-admin ring --json` prints it. Its shape is stable.
public struct RingView: Codable, Sendable, Equatable {
    /// A member in the view.
    public struct MemberView: Codable, Sendable, Equatable {
        public var name: String
        public var state: String
        public var clusterAddress: String
        public var httpAddress: String
        public var zone: String?
        public var partitions: Int

        enum CodingKeys: String, CodingKey {
            case name, state, zone, partitions
            case clusterAddress = "cluster_address"
            case httpAddress = "http_address"
        }
    }

    /// A partition and its owner.
    public struct PartitionView: Codable, Sendable, Equatable {
        public var partition: Int
        public var owner: String
    }

    public var epoch: UInt64
    public var partitionsCount: Int
    public var n: Int
    public var members: [MemberView]
    public var partitions: [PartitionView]
    public var pending: [Transfer]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case epoch, n, members, partitions, pending, warnings
        case partitionsCount = "partitions_count"
    }
}

extension Ring {
    /// This ring's JSON view.
    public var view: RingView {
        let owned = ownership
        return RingView(
            epoch: epoch,
            partitionsCount: partitionCount,
            n: replicas,
            members: members.map {
                RingView.MemberView(
                    name: $0.name, state: $0.state.rawValue, clusterAddress: $0.clusterAddress,
                    httpAddress: $0.httpAddress, zone: $0.zone, partitions: owned[$0.name] ?? 0)
            },
            partitions: (0..<partitionCount).map {
                RingView.PartitionView(partition: $0, owner: owner(ofPartition: $0).name)
            },
            pending: pending,
            warnings: warnings + (spacingNote.map { [$0] } ?? []))
    }
}
