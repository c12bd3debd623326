import Ring
import Synchronization
import Wire

/// The node's view of the cluster: known members and the ring computed over them.
final class ClusterState: Sendable {
    let local: MemberInfo
    let partitions: Int
    let replicas: Int
    private let state: Mutex<(table: MemberTable, ring: Ring)>

    init(local: MemberInfo, partitions: Int, replicas: Int) throws(RingError) {
        self.local = local
        self.partitions = partitions
        self.replicas = replicas
        let table = MemberTable(local: local)
        let ring = try Self.ring(table, partitions: partitions, replicas: replicas)
        state = Mutex((table, ring))
    }

    var ring: Ring { state.withLock { $0.ring } }

    var members: [MemberInfo] { state.withLock { $0.table.sorted } }

    var peers: [MemberInfo] { state.withLock { $0.table.peers } }

    /// Learns a member that introduced itself and members it reported; returns true if the ring changed.
    func learn(direct: MemberInfo?, reported: [MemberInfo]) -> Bool {
        state.withLock { state in
            var table = state.table
            var changed = false
            if let direct { changed = table.learnDirect(direct) }
            changed = table.learnReported(reported) || changed
            guard changed else { return false }
            // An invalid member (bad name, too many members) is ignored rather than breaking the ring.
            guard let ring = try? Self.ring(table, partitions: partitions, replicas: replicas) else { return false }
            state = (table, ring)
            return true
        }
    }

    /// The member's cluster address, if known.
    func clusterAddress(of name: String) -> String? {
        state.withLock { $0.table.members[name]?.clusterAddress }
    }

    private static func ring(_ table: MemberTable, partitions: Int, replicas: Int) throws(RingError) -> Ring {
        let members = table.sorted.map {
            Member(name: $0.name, clusterAddress: $0.clusterAddress, httpAddress: $0.httpAddress)
        }
        return try Ring.create(partitionCount: partitions, replicas: replicas, members: members)
    }
}
