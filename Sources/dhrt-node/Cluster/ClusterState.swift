import Atomics
import Coordinator
import Logging
import Ring
import Storage
import Synchronization
import Wire

/// The node's view of the cluster: the committed ring (persisted, changed only by adopting a newer one) and how
/// reachable each member looks from here.
///
/// The request path reads an immutable `RingSnapshot` through an atomic reference, without a lock; adopting a
/// ring builds the next snapshot and swaps it in.
final class ClusterState: Sendable {
    let local: MemberInfo
    let partitions: Int
    let replicas: Int
    private let pool: WireClientPool?
    /// Where the ring is kept; nil in memory mode.
    private let ringPath: String?
    private let logger: Logger
    private let state: Mutex<State>
    private let current: ManagedAtomic<RingSnapshot>

    private struct State {
        var ring: Ring?
        var liveness: [String: Liveness] = [:]
    }

    /// What adopting a ring did.
    enum Adoption: Equatable {
        case unchanged
        case adopted(previousEpoch: UInt64?)
        case refused(String)
    }

    init(
        local: MemberInfo, partitions: Int, replicas: Int, pool: WireClientPool? = nil, ringPath: String? = nil,
        logger: Logger = Logger(label: "dhrt-node")
    ) throws(RingError) {
        self.local = local
        self.partitions = partitions
        self.replicas = replicas
        self.pool = pool
        self.ringPath = ringPath
        self.logger = logger
        let ring = Self.load(ringPath, logger: logger)
        if let ring, ring.partitionCount != partitions || ring.replicas != replicas {
            throw RingError.decoding(
                "the stored ring has Q=\(ring.partitionCount) N=\(ring.replicas), this node runs Q=\(partitions) N=\(replicas)"
            )
        }
        state = Mutex(State(ring: ring))
        current = ManagedAtomic(
            try RingSnapshot(ring: ring, local: local, partitions: partitions, replicas: replicas, pool: pool))
    }

    /// The ring and everything the request path derives from it, as of the last adoption.
    var snapshot: RingSnapshot { current.load(ordering: .acquiring) }

    /// The committed ring; nil while this node is not part of a formed cluster.
    var ring: Ring? { state.withLock { $0.ring } }

    /// Members of the ring that have not left, this node included.
    var members: [Member] { (ring?.members ?? []).filter { $0.state != .left } }

    /// Members other than this node that have not left.
    var peers: [Member] { members.filter { $0.name != local.name } }

    /// The member's cluster address, if the ring lists it.
    func clusterAddress(of name: String) -> String? { ring?.member(named: name)?.clusterAddress }

    /// How reachable `name` looks from here.
    func liveness(of name: String) -> Liveness { state.withLock { $0.liveness[name] ?? .up } }

    /// Every member's liveness as judged here.
    var livenessByName: [String: Liveness] { state.withLock { $0.liveness } }

    func setLiveness(_ liveness: Liveness, of name: String) {
        state.withLock { $0.liveness[name] = liveness }
    }

    /// Members this node currently judges down.
    var down: Set<String> { state.withLock { Set($0.liveness.filter { $0.value == .down }.keys) } }

    /// Takes `incoming` if it is newer than the ring held (a higher epoch). A node without a ring takes one that lists it (or `force` for the ring it formed); a ring of
    /// another cluster is refused unless this node's own cluster is just itself (it is being joined).
    @discardableResult
    func adopt(_ incoming: Ring, force: Bool = false) -> Adoption {
        guard incoming.partitionCount == partitions, incoming.replicas == replicas else {
            return .refused("ring has Q=\(incoming.partitionCount) N=\(incoming.replicas)")
        }
        return state.withLock { state -> Adoption in
            let listsMe = incoming.member(named: local.name)?.clusterAddress == local.clusterAddress
            let next: Ring
            if let mine = state.ring {
                if mine.clusterID != incoming.clusterID {
                    let alone = mine.members.count == 1 && mine.members[0].name == local.name
                    guard alone, listsMe, incoming.members.count > 1 else {
                        return .refused("ring of another cluster (\(incoming.clusterID))")
                    }
                    next = incoming
                } else {
                    // Every ring a node holds was committed by the metadata log, and the log commits one ring per
                    // epoch: the higher epoch is simply the later ring.
                    guard incoming.epoch > mine.epoch else { return .unchanged }
                    next = incoming
                }
            } else {
                guard listsMe || force else { return .refused("ring does not list this node") }
                next = incoming
            }
            let snapshot: RingSnapshot
            do {
                snapshot = try RingSnapshot(
                    ring: next, local: local, partitions: partitions, replicas: replicas, pool: pool)
            } catch {
                return .refused("\(error)")
            }
            if let ringPath {
                do {
                    try DurableFile.write(next.encoded(), to: ringPath)
                } catch {
                    // Still adopted: gossip hands the ring back after a restart; the operator sees why.
                    logger.error("could not store the ring", metadata: ["path": "\(ringPath)", "error": "\(error)"])
                }
            }
            let previous = state.ring?.epoch
            state.ring = next
            // Swapped under the lock, so snapshots are published in the order rings were adopted.
            current.store(snapshot, ordering: .releasing)
            return .adopted(previousEpoch: previous)
        }
    }

    private static func load(_ path: String?, logger: Logger) -> Ring? {
        guard let path else { return nil }
        do {
            guard let bytes = try DurableFile.read(path) else { return nil }
            return try Ring.decode(bytes)
        } catch {
            // A damaged ring file is reported and set aside; the cluster's gossip gives the ring back.
            logger.error("ignoring the stored ring", metadata: ["path": "\(path)", "error": "\(error)"])
            return nil
        }
    }
}

/// An immutable view of the ring for the request path: preference lists as names, and a client per peer.
final class RingSnapshot: AtomicReference, Sendable {
    let ring: Ring
    /// False until this node belongs to a formed cluster; the request path then answers 503.
    let isFormed: Bool
    /// Each partition's preference list (N distinct member names, in preference order).
    let replicaNames: [[String]]
    /// Per partition, members that will join its preference list when the pending transfers are done: writes
    /// reach them too, so nothing written during the copy is missed. Empty without pending transfers.
    let incomingNames: [[String]]
    /// Per partition, members of the preference list that leave it when the pending transfers are done.
    let leavingNames: [[String]]
    /// Per partition, the members after the preference list in ring order (not left): sloppy quorum's
    /// fallbacks. Empty when every member is a replica of every key.
    let fallbackNames: [[String]]
    /// The wire client of each peer, by name (absent for this node and without a pool).
    let clients: [String: WireClient]
    /// `ring.encoded()`, what gossip sends; a peer's gossip with the same bytes changes nothing.
    let encoding: [UInt8]

    init(ring stored: Ring?, local: MemberInfo, partitions: Int, replicas: Int, pool: WireClientPool?)
        throws(RingError)
    {
        let ring: Ring
        if let given = stored {
            ring = given
        } else {
            // A placeholder of this node alone while it is not in a cluster; `isFormed` keeps requests away.
            ring = try Ring.formed(
                clusterID: 0, partitionCount: partitions, replicas: replicas,
                members: [
                    Member(name: local.name, clusterAddress: local.clusterAddress, httpAddress: local.httpAddress)
                ])
        }
        self.ring = ring
        isFormed = ring.clusterID != 0
        encoding = ring.encoded()
        let lists = (0..<ring.partitionCount).map { ring.preferenceList(partition: $0).map(\.name) }
        replicaNames = lists
        if ring.pending.isEmpty {
            incomingNames = []
            leavingNames = []
        } else {
            let future = ring.future
            let next = (0..<ring.partitionCount).map { future.preferenceList(partition: $0).map(\.name) }
            incomingNames = next.enumerated().map { partition, names in
                names.filter { !lists[partition].contains($0) }
            }
            leavingNames = lists.enumerated().map { partition, names in
                names.filter { !next[partition].contains($0) }
            }
        }
        let listed = ring.members.filter { $0.state != .left }.count
        fallbackNames =
            listed <= ring.replicas
            ? []
            : (0..<ring.partitionCount).map { partition in
                ring.fallbacks(partition: partition).filter { $0.state != .left }.map(\.name)
            }
        var clients: [String: WireClient] = [:]
        if let pool {
            for member in ring.members where member.name != local.name && member.state != .left {
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

    /// The fallbacks of a key's partition, in ring order.
    @inline(__always)
    func fallbacks(collection: String, key: [UInt8]) -> [String] {
        fallbackNames.isEmpty ? [] : fallbackNames[ring.partition(collection: collection, key: key)]
    }

    /// Members that receive a key's writes beyond its preference list while a transfer is pending.
    @inline(__always)
    func incoming(collection: String, key: [UInt8]) -> [String] {
        incomingNames.isEmpty ? [] : incomingNames[ring.partition(collection: collection, key: key)]
    }

    /// Members of a key's preference list that the pending transfers take it from.
    func leaving(collection: String, key: [UInt8]) -> [String] {
        leavingNames.isEmpty ? [] : leavingNames[ring.partition(collection: collection, key: key)]
    }
}
