import Coordinator
import Logging
import NIOCore
import Ring
import Synchronization
import Wire

/// The membership shell of a node: runs the failure detector, the formation of a new cluster, gossip of the
/// ring, the metadata log that commits every ring change by a majority, and, on the log's leader, staged
/// changes. The decisions are the pure state machines' (`FailureDetector`, `Formation`, `MetadataLog`,
/// `Claimant`, the ring's plan functions); this type only carries them over the wire and to disk.
final class ClusterControl: Sendable {
    let cluster: ClusterState
    let peers: Peers
    let logger: Logger
    let gossipTimeout: Duration
    private let detector: Mutex<FailureDetector>
    let claimant = Mutex(Claimant())
    /// Set while a command runs on the leader: one at a time, so each builds on the ring the previous one produced.
    let serial = Mutex(false)
    private let formation: Mutex<Formation?>
    /// The last epoch a peer's gossip showed to be the same as ours, and when (monotonic nanoseconds).
    private let confirmed = Mutex<(epoch: UInt64, at: UInt64)>((0, 0))
    /// The metadata log; nil until this node holds a ring or a leader sends it entries.
    let metadata: Mutex<MetadataLog?>
    /// The leader term and committed index whose voter set was last checked against its ring.
    let votersChecked = Mutex<(term: UInt64, index: UInt64)>((0, 0))
    /// Where the log's state is kept; nil in memory mode.
    let metadataPath: String?
    let metadataSettings: MetadataLog.Settings
    /// Metadata messages to send, carried out by `MetadataService`.
    let outbox: AsyncStream<(to: String, call: MetadataCall)>
    let outboxSink: AsyncStream<(to: String, call: MetadataCall)>.Continuation
    /// Cluster addresses of every member a committed ring named, for members the current ring may not list yet.
    let addressBook = Mutex<[String: String]>([:])

    init(
        cluster: ClusterState, peers: Peers, seeds: [String], logger: Logger,
        detector settings: FailureDetector.Settings = .init(), gossipTimeout: Duration = .seconds(1),
        metadataPath: String? = nil, metadataSettings: MetadataLog.Settings = .init()
    ) {
        self.cluster = cluster
        self.peers = peers
        self.logger = logger
        self.gossipTimeout = gossipTimeout
        detector = Mutex(FailureDetector(settings: settings))
        let local = cluster.local
        formation = Mutex(
            cluster.ring == nil
                ? Formation(local: Member(local), seeds: seeds, now: Self.now()) : nil)
        self.metadataPath = metadataPath
        self.metadataSettings = metadataSettings
        (outbox, outboxSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        metadata = Mutex(nil)
        openMetadata()
    }

    /// Monotonic nanoseconds, the pure state machines' clock.
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    // MARK: Detector

    /// An answer from `name` (a gossip reply or a gossip it sent us).
    func heartbeat(from name: String) {
        let changes = detector.withLock { $0.onHeartbeat(from: name, now: Self.now()) }
        apply(changes)
    }

    /// Re-judges every member; watches members new to the ring, forgets those gone.
    func judge() {
        let names = Set(cluster.peers.map(\.name))
        let changes = detector.withLock { detector in
            let now = Self.now()
            detector.retain(names)
            for name in names { detector.watch(name, now: now) }
            return detector.onTick(now: now)
        }
        apply(changes)
    }

    private func apply(_ changes: [FailureDetector.Change]) {
        for change in changes {
            cluster.setLiveness(change.liveness, of: change.member)
            let level: Logger.Level = change.liveness == .up ? .info : .warning
            logger.log(level: level, "member is \(change.liveness.rawValue)", metadata: ["member": "\(change.member)"])
        }
    }

    /// φ of a member now, for `/v1/status`.
    func phi(of name: String) -> Double { detector.withLock { $0.phi(of: name, now: Self.now()) } }

    // MARK: Gossip

    /// Adopts a ring a peer sent; logs what changed. Returns true when the ring held here changed.
    @discardableResult
    func receive(ringBytes: [UInt8], from sender: String) -> Bool {
        // The usual gossip: the ring held here, byte for byte. Nothing to decode or merge.
        let held = cluster.snapshot
        if held.isFormed, ringBytes == held.encoding {
            confirmed.withLock { $0 = (held.ring.epoch, Self.now()) }
            return false
        }
        let incoming: Ring
        do {
            incoming = try Ring.decode(ringBytes)
        } catch {
            logger.warning("ignoring a malformed ring", metadata: ["from": "\(sender)", "error": "\(error)"])
            return false
        }
        return receive(incoming, from: sender)
    }

    @discardableResult
    func receive(_ incoming: Ring, from sender: String, force: Bool = false) -> Bool {
        switch cluster.adopt(incoming, force: force) {
        case .unchanged:
            if incoming.epoch == cluster.ring?.epoch { confirmed.withLock { $0 = (incoming.epoch, Self.now()) } }
            return false
        case .adopted(let previous):
            if previous == nil { formation.withLock { $0 = nil } }
            remember(incoming)
            logger.info(
                "ring adopted",
                metadata: [
                    "epoch": "\(incoming.epoch)", "from": "\(sender)", "pending": "\(incoming.pending.count)",
                    "members": "\(incoming.members.map { "\($0.name):\($0.state.rawValue)" }.joined(separator: ","))",
                ])
            return true
        case .refused(let why):
            logger.debug("ring refused", metadata: ["from": "\(sender)", "why": "\(why)"])
            return false
        }
    }

    /// The epoch some peer agreed with since it was adopted, and when.
    var lastConfirmation: (epoch: UInt64, at: UInt64) { confirmed.withLock { $0 } }

    /// One gossip exchange with every peer (the exchange is the detector's heartbeat), then a judgement.
    func gossipRound() async {
        let held = cluster.snapshot
        guard held.isFormed else { return }
        let message = Gossip(sender: cluster.local.name, ring: held.encoding)
        await withTaskGroup(of: Void.self) { group in
            for peer in cluster.peers {
                group.addTask {
                    guard
                        let reply = try? await self.peers.call(
                            message, to: peer.clusterAddress, expecting: Gossip.self, timeout: self.gossipTimeout)
                    else { return }
                    self.heartbeat(from: peer.name)
                    self.receive(ringBytes: reply.ring, from: peer.name)
                }
            }
        }
        judge()
    }

    /// Takes `name`'s ring now (a replica refused a request as `ring_moved`): one gossip exchange with it.
    func refreshRing(from name: String) async {
        guard let address = cluster.clusterAddress(of: name) else { return }
        let message = Gossip(sender: cluster.local.name, ring: cluster.snapshot.encoding)
        guard
            let reply = try? await peers.call(message, to: address, expecting: Gossip.self, timeout: gossipTimeout)
        else { return }
        receive(ringBytes: reply.ring, from: name)
    }

    /// Answers a peer's gossip: merges its ring and returns ours.
    func answer(_ gossip: Gossip) throws(ErrorReply) -> Gossip {
        heartbeat(from: gossip.sender)
        receive(ringBytes: gossip.ring, from: gossip.sender)
        let held = cluster.snapshot
        guard held.isFormed else { throw ErrorReply(code: "not_formed", detail: "no ring yet") }
        return Gossip(sender: cluster.local.name, ring: held.encoding)
    }

    // MARK: Formation

    /// A fresh node's hello was heard (it dialled us).
    func heardHello(from member: MemberInfo) {
        formation.withLock { $0?.onFresh(Member(member), address: nil, reported: [], now: Self.now()) }
    }

    /// Members a forming node heard of, for its hello replies.
    var formationMembers: [MemberInfo] {
        formation.withLock { $0?.members ?? [] }.map {
            MemberInfo(name: $0.name, clusterAddress: $0.clusterAddress, httpAddress: $0.httpAddress)
        }
    }

    /// Addresses a forming node says hello to; empty once formed.
    var formationTargets: [String] { formation.withLock { $0?.targets ?? [] } }

    /// A hello reply from `address`: a fresh node's members, or a formed node's ring.
    func heardReply(_ reply: HelloReply, from address: String) {
        guard let replier = reply.members.first else { return }
        if let bytes = reply.ring, let ring = try? Ring.decode(bytes) {
            formation.withLock { $0?.onFormed(ring, address: address) }
        } else {
            formation.withLock {
                $0?.onFresh(
                    Member(replier), address: address, reported: reply.members.dropFirst().map(Member.init),
                    now: Self.now())
            }
        }
    }

    /// Forms, adopts or keeps waiting, as the formation rule decides; returns the reason while waiting.
    func advanceFormation() -> String? {
        guard let decision = formation.withLock({ $0?.decide(now: Self.now()) }) else { return nil }
        switch decision {
        case .wait(let why):
            return why
        case .adopt(let ring):
            // The log before the ring: a node that stops between the two must not look as if it lost its log.
            bootstrapMetadata(from: ring)
            receive(ring, from: "formation")
            return nil
        case .form(let members):
            do {
                let ring = try Ring.formed(
                    clusterID: UInt64.random(in: 1...UInt64.max), partitionCount: cluster.partitions,
                    replicas: cluster.replicas, members: members)
                logger.info(
                    "formed the cluster", metadata: ["members": "\(members.map(\.name).joined(separator: ","))"])
                bootstrapMetadata(from: ring)
                receive(ring, from: "formation", force: true)
            } catch {
                return "cannot form: \(error)"
            }
            return nil
        }
    }
}

extension RingChange {
    /// How `plan` lists the change.
    var sentence: String {
        switch self {
        case .join(let member): "join \(member.name) (\(member.clusterAddress))"
        case .leave(let name): "leave \(name)"
        case .forceRemove(let name): "force-remove \(name)"
        case .replace(let old, let new): "replace \(old) with \(new.name) (\(new.clusterAddress))"
        }
    }
}

extension Member {
    init(_ info: MemberInfo) {
        self.init(name: info.name, clusterAddress: info.clusterAddress, httpAddress: info.httpAddress)
    }
}
