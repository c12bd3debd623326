public import Ring

/// How a node without a ring finds out whether to form a cluster, wait, or adopt an existing ring.
///
/// Nodes started together, each given the others as seeds, form one cluster without an admin step: the
/// lowest-named of them builds the first ring once every seed and every member it heard of has answered and
/// nothing new was heard for a settling time; the others adopt that ring when it reaches them. A node that
/// meets a formed cluster which does not list it waits to be joined (`--join`, `dhrt-admin join`). A node with no
/// seeds that has heard from no one forms its one-node cluster at once.
public struct Formation: Sendable {
    public enum Decision: Sendable, Equatable {
        /// Keep listening; the sentence says what for.
        case wait(String)
        /// Build the first ring over these members (this node included).
        case form([Member])
        /// Take this ring: it lists this node.
        case adopt(Ring)
    }

    public let local: Member
    public let seeds: Set<String>
    /// How long the set of known members must stay unchanged before the first ring is built.
    public let settle: UInt64

    private var known: [String: Member] = [:]
    private var answered: Set<String> = []
    private var seedsAnswered: Set<String> = []
    private var lastChange: UInt64
    private var ring: Ring?
    private var foreign: Ring?

    public init(local: Member, seeds: [String], now: UInt64, settle: UInt64 = 1_000_000_000) {
        self.local = local
        self.seeds = Set(seeds).subtracting([local.clusterAddress])
        self.settle = settle
        lastChange = now
        known[local.name] = local
    }

    /// A fresh member spoke for itself (a hello or its reply), reached at `address` when we dialled it.
    public mutating func onFresh(_ member: Member, address: String?, reported: [Member], now: UInt64) {
        if let address { seedsAnswered.insert(address) }
        if known[member.name] == nil { lastChange = now }
        known[member.name] = member
        answered.insert(member.name)
        for other in reported where known[other.name] == nil {
            known[other.name] = other
            lastChange = now
        }
    }

    /// A member of a formed cluster answered with its ring.
    public mutating func onFormed(_ ring: Ring, address: String?) {
        if let address { seedsAnswered.insert(address) }
        if ring.member(named: local.name)?.clusterAddress == local.clusterAddress {
            if let current = self.ring, current.clusterID == ring.clusterID {
                self.ring = Ring.merge(current, ring)
            } else if self.ring == nil {
                self.ring = ring
            }
        } else {
            foreign = ring
        }
    }

    /// Every member heard of, this node included, by name.
    public var members: [Member] { known.values.sorted { $0.name < $1.name } }

    /// Addresses still worth a hello: the seeds and every member heard of.
    public var targets: [String] {
        (seeds.union(known.values.map(\.clusterAddress))).subtracting([local.clusterAddress]).sorted()
    }

    /// What to do now.
    public func decide(now: UInt64) -> Decision {
        if let ring { return .adopt(ring) }
        if let foreign {
            let names = foreign.members.map(\.name).joined(separator: ",")
            return .wait("the cluster of \(names) is formed without this node: join it with --join or dhrt-admin join")
        }
        // No seeds and nobody heard from: a one-node cluster is meant, and waiting would only make it late.
        if seeds.isEmpty, known.count == 1 { return .form([local]) }
        let missingSeeds = seeds.subtracting(seedsAnswered)
        if !missingSeeds.isEmpty { return .wait("waiting for seeds \(missingSeeds.sorted().joined(separator: ","))") }
        let silent = known.keys.filter { $0 != local.name && !answered.contains($0) }
        if !silent.isEmpty { return .wait("waiting for \(silent.sorted().joined(separator: ",")) to answer") }
        let lowest = known.keys.min()!
        guard lowest == local.name else { return .wait("waiting for \(lowest) to form the cluster") }
        guard now >= lastChange + settle else { return .wait("settling") }
        return .form(known.values.sorted { $0.name < $1.name })
    }
}
