/// Where a member stands in the cluster's life cycle.
public enum MemberState: String, Sendable, Codable, CaseIterable {
    /// Staged to join; owns partitions only once the plan is committed.
    case joining
    /// A full member serving its partitions.
    case up
    /// Staged to leave; still serves until its partitions have moved.
    case leaving
    /// Unreachable. Still owns its partitions: only an explicit leave moves data.
    case down
    /// Left the cluster (by a leave whose transfers finished, or a force-remove); owns nothing.
    case left
}

/// A node of the ring.
public struct Member: Sendable, Hashable, Codable {
    /// Unique name, `[A-Za-z0-9_.-]{1,64}`; the actor id of versions and the ring's sort key.
    public var name: String
    /// `host:port` of the inter-node protocol.
    public var clusterAddress: String
    /// `host:port` of the HTTP API.
    public var httpAddress: String
    /// Failure domain; preference lists span distinct zones first.
    public var zone: String?
    /// Life-cycle state.
    public var state: MemberState

    /// A member; `state` defaults to `.up`.
    public init(
        name: String, clusterAddress: String = "", httpAddress: String = "", zone: String? = nil,
        state: MemberState = .up
    ) {
        self.name = name
        self.clusterAddress = clusterAddress
        self.httpAddress = httpAddress
        self.zone = zone
        self.state = state
    }

    /// Whether `name` is a valid member name.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2E || byte == 0x2D
        }
    }
}
