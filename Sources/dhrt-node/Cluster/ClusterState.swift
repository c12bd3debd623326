import Atomics
import Ring
import Synchronization
import Wire

/// The node's view of the cluster: known members and the ring computed over them.
///
/// The request path reads an immutable `RingSnapshot` through an atomic reference, without a lock; a
/// membership change builds the next snapshot and swaps it in.
final class ClusterState: Sendable {
    let local: MemberInfo
    let partitions: Int
    let replicas: Int
    private let pool: WireClientPool?
    private let state: Mutex<MemberTable>
    private let current: ManagedAtomic<RingSnapshot>

    init(local: MemberInfo, partitions: Int, replicas: Int, pool: WireClientPool? = nil) throws(RingError) {
        self.local = local
        self.partitions = partitions
        self.replicas = replicas
        self.pool = pool
        let table = MemberTable(local: local)
        let ring = try Self.ring(table, partitions: partitions, replicas: replicas)
        state = Mutex(table)
        current = ManagedAtomic(RingSnapshot(ring: ring, table: table, pool: pool))
    }

    /// The ring and everything the request path derives from it, as of the last membership change.
    var snapshot: RingSnapshot { current.load(ordering: .acquiring) }

    var ring: Ring { snapshot.ring }

    var members: [MemberInfo] { state.withLock { $0.sorted } }

    var peers: [MemberInfo] { state.withLock { $0.peers } }

    /// Learns a member that introduced itself and members it reported; returns true if the ring changed.
    func learn(direct: MemberInfo?, reported: [MemberInfo]) -> Bool {
        state.withLock { state in
            var table = state
            var changed = false
            if let direct { changed = table.learnDirect(direct) }
            changed = table.learnReported(reported) || changed
            guard changed else { return false }
            // An invalid member (bad name, too many members) is ignored rather than breaking the ring.
            guard let ring = try? Self.ring(table, partitions: partitions, replicas: replicas) else { return false }
            state = table
            // Swapped under the table's lock, so snapshots are published in the order the table changed.
            current.store(RingSnapshot(ring: ring, table: table, pool: pool), ordering: .releasing)
            return true
        }
    }

    /// The member's cluster address, if known.
    func clusterAddress(of name: String) -> String? {
        state.withLock { $0.members[name]?.clusterAddress }
    }

    private static func ring(_ table: MemberTable, partitions: Int, replicas: Int) throws(RingError) -> Ring {
        let members = table.sorted.map {
            Member(name: $0.name, clusterAddress: $0.clusterAddress, httpAddress: $0.httpAddress)
        }
        return try Ring.create(partitionCount: partitions, replicas: replicas, members: members)
    }
}

/// An immutable view of the ring for the request path: preference lists as names, and a client per peer.
final class RingSnapshot: AtomicReference, Sendable {
    let ring: Ring
    /// Each partition's preference list (N distinct member names, in preference order).
    let replicaNames: [[String]]
    /// The wire client of each peer, by name (absent for this node and without a pool).
    let clients: [String: WireClient]

    init(ring: Ring, table: MemberTable, pool: WireClientPool?) {
        self.ring = ring
        replicaNames = (0..<ring.partitionCount).map { ring.preferenceList(partition: $0).map(\.name) }
        var clients: [String: WireClient] = [:]
        if let pool {
            for member in table.peers {
                if let client = try? pool.client(for: member.clusterAddress) { clients[member.name] = client }
            }
        }
        self.clients = clients
    }

    /// The preference list of a key.
    @inline(__always)
    func replicas(collection: String, key: [UInt8]) -> [String] {
        replicaNames[ring.partition(collection: collection, key: key)]
    }
}
