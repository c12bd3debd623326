import Coordinator
import Logging
import NIOCore
import Ring
import Synchronization
import Wire

/// The membership shell of a node: runs the failure detector, the formation of a new cluster, gossip of the
/// ring and, on the claimant, staged changes. The decisions are the pure state machines' (`FailureDetector`,
/// `Formation`, `Claimant`, the ring's plan functions); this type only carries them over the wire.
final class ClusterControl: Sendable {
    let cluster: ClusterState
    let peers: Peers
    let logger: Logger
    let gossipTimeout: Duration
    private let detector: Mutex<FailureDetector>
    private let claimant = Mutex(Claimant())
    /// Commands run one at a time on the claimant, so each builds on the ring the previous one produced.
    private let serial = Mutex(())
    private let formation: Mutex<Formation?>
    /// The last epoch a peer's gossip showed to be the same as ours, and when (monotonic nanoseconds).
    private let confirmed = Mutex<(epoch: UInt64, at: UInt64)>((0, 0))

    init(
        cluster: ClusterState, peers: Peers, seeds: [String], logger: Logger,
        detector settings: FailureDetector.Settings = .init(), gossipTimeout: Duration = .seconds(1)
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
            receive(ring, from: "formation")
            return nil
        case .form(let members):
            do {
                let ring = try Ring.formed(
                    clusterID: UInt64.random(in: 1...UInt64.max), partitionCount: cluster.partitions,
                    replicas: cluster.replicas, members: members)
                logger.info(
                    "formed the cluster", metadata: ["members": "\(members.map(\.name).joined(separator: ","))"])
                receive(ring, from: "formation", force: true)
            } catch {
                return "cannot form: \(error)"
            }
            return nil
        }
    }

    // MARK: Claimant

    /// The member acting as claimant, by this node's ring and detector.
    var claimantName: String? {
        guard let ring = cluster.ring else { return nil }
        return Claimant.of(ring) { cluster.liveness(of: $0) }
    }

    /// Runs `command` on the claimant: here if this node is the claimant, else sent on (a bounded number of hops).
    func command(_ command: ClusterCommand) async throws(ErrorReply) -> ClusterCommandReply {
        guard let claimant = claimantName else {
            throw ErrorReply(code: "not_formed", detail: "this node is not part of a formed cluster yet")
        }
        if claimant == cluster.local.name { return try execute(command) }
        guard command.hops < 3, let address = cluster.clusterAddress(of: claimant) else {
            throw ErrorReply(code: "no_claimant", detail: "the claimant \(claimant) cannot be reached")
        }
        var forwarded = command
        forwarded.hops += 1
        do {
            return try await peers.call(
                forwarded, to: address, expecting: ClusterCommandReply.self, timeout: .seconds(10))
        } catch {
            if case .remote(let reply) = error { throw reply }
            throw ErrorReply(code: "no_claimant", detail: "the claimant \(claimant) did not answer: \(error)")
        }
    }

    /// Carries out a command on this node as claimant.
    private func execute(_ command: ClusterCommand) throws(ErrorReply) -> ClusterCommandReply {
        try serial.withLock { _ throws(ErrorReply) in try executeAlone(command) }
    }

    private func executeAlone(_ command: ClusterCommand) throws(ErrorReply) -> ClusterCommandReply {
        guard let ring = cluster.ring else { throw ErrorReply(code: "not_formed", detail: "no ring") }
        do {
            switch command.operation {
            case .join, .replace, .joinNow:
                guard let info = command.member else { throw ErrorReply(code: "bad_request", detail: "no member") }
                let member = Member(info)
                if command.operation == .joinNow {
                    try joinNow(member, ring: ring)
                } else {
                    let change: RingChange =
                        command.operation == .join ? .join(member) : .replace(old: command.name, new: member)
                    try claimant.withLock { claimant throws(RingError) in try claimant.stage(change, on: ring) }
                }
            case .leave:
                try claimant.withLock { claimant throws(RingError) in try claimant.stage(.leave(command.name), on: ring)
                }
            case .forceRemove:
                try claimant.withLock { claimant throws(RingError) in
                    try claimant.stage(.forceRemove(command.name), on: ring)
                }
            case .clear:
                claimant.withLock { $0.clear() }
            case .plan:
                break
            case .commit:
                let next = try claimant.withLock { claimant throws(RingError) in try claimant.commit(on: ring) }
                receive(next, from: cluster.local.name)
                logger.info(
                    "plan committed", metadata: ["epoch": "\(next.epoch)", "transfers": "\(next.pending.count)"])
            case .abort:
                let next = try ring.aborting()
                receive(next, from: cluster.local.name)
                logger.info("plan aborted", metadata: ["epoch": "\(next.epoch)"])
            case .transferred:
                guard command.planID == ring.planID, let next = ring.markingTransferred(command.name) else { break }
                receive(next, from: command.name)
                switchOwnersIfReady()
            }
        } catch let error as RingError {
            throw ErrorReply(code: "bad_change", detail: error.description)
        } catch let error as ErrorReply {
            throw error
        } catch {
            throw ErrorReply(code: "failed", detail: "\(error)")
        }
        return reply()
    }

    private func joinNow(_ member: Member, ring: Ring) throws {
        if let known = ring.member(named: member.name), known.state != .left {
            guard known.clusterAddress == member.clusterAddress else {
                throw ErrorReply(
                    code: "duplicate_name", detail: "\(member.name) is a member at \(known.clusterAddress)")
            }
            return
        }
        let next = try ring.planning([.join(member)])
        receive(next, from: cluster.local.name)
        logger.info("join committed", metadata: ["member": "\(member.name)", "transfers": "\(next.pending.count)"])
    }

    /// On the claimant: switches owners once every receiver has its data.
    func switchOwnersIfReady() {
        guard claimantName == cluster.local.name, let ring = cluster.ring, let next = ring.switchingOwners() else {
            return
        }
        receive(next, from: cluster.local.name)
        logger.info("transfers complete: owners switched", metadata: ["epoch": "\(next.epoch)"])
    }

    private func reply() -> ClusterCommandReply {
        let ring = cluster.ring
        let staged = claimant.withLock { $0.staged }
        let planned = ring.flatMap { ring in try? claimant.withLock { try $0.plan(on: ring) } }
        return ClusterCommandReply(
            claimant: cluster.local.name, ring: ring?.encoded() ?? [], planned: planned?.encoded(),
            staged: staged.map(\.sentence))
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
