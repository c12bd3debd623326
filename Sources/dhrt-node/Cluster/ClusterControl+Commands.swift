import Coordinator
import Ring
import Wire

/// Membership commands: run on the metadata log's leader (forwarded there from any member), each ring change a
/// log entry that answers only once a majority of the voters stored it.
extension ClusterControl {
    /// How long a command waits for a leader to be known, and a change to be committed.
    static let commandPatience: Duration = .seconds(8)

    /// The member acting as claimant: the metadata log's leader as this node knows it.
    var claimantName: String? { leaderName }

    /// Runs `command` on the leader: here if this node leads, else sent on (a bounded number of hops).
    func command(_ command: ClusterCommand) async throws(ErrorReply) -> ClusterCommandReply {
        guard cluster.ring != nil else {
            throw ErrorReply(code: "not_formed", detail: "this node is not part of a formed cluster yet")
        }
        let leader = await waitForLeader()
        guard let leader else {
            throw ErrorReply(
                code: "no_leader",
                detail: "no metadata leader is reachable from \(cluster.local.name): ring changes need a majority of "
                    + "the voters (\(votersText)) and this node's side of the cluster does not have one")
        }
        if leader == cluster.local.name { return try await execute(command) }
        guard command.hops < 3, let address = address(of: leader) else {
            throw ErrorReply(code: "no_leader", detail: "the leader \(leader) cannot be reached")
        }
        var forwarded = command
        forwarded.hops += 1
        do {
            return try await peers.call(
                forwarded, to: address, expecting: ClusterCommandReply.self, timeout: Self.commandPatience + .seconds(2)
            )
        } catch {
            if case .remote(let reply) = error { throw reply }
            throw ErrorReply(code: "no_leader", detail: "the leader \(leader) did not answer: \(error)")
        }
    }

    private var votersText: String { metadata.withLock { $0?.voters.joined(separator: ", ") ?? "" } }

    /// The leader, waiting a little while an election is under way; a leader the failure detector judges down
    /// is waited out rather than asked (its followers elect another within an election timeout).
    private func waitForLeader() async -> String? {
        let deadline = ContinuousClock.now + Self.commandPatience
        while ContinuousClock.now < deadline {
            if let leader = leaderName, leader == cluster.local.name || cluster.liveness(of: leader) != .down {
                return leader
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Carries out a command on this node as leader; one at a time.
    private func execute(_ command: ClusterCommand) async throws(ErrorReply) -> ClusterCommandReply {
        // Commands wait their turn without holding a lock across the wait for a commit.
        while !serialTurn() { try? await Task.sleep(for: .milliseconds(5)) }
        defer { endSerialTurn() }
        try await executeAlone(command)
        return reply()
    }

    private func serialTurn() -> Bool {
        serial.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
    }

    private func endSerialTurn() { serial.withLock { $0 = false } }

    private func executeAlone(_ command: ClusterCommand) async throws(ErrorReply) {
        switch command.operation {
        case .join, .replace:
            guard let info = command.member else { throw ErrorReply(code: "bad_request", detail: "no member") }
            let member = Member(info)
            let change: RingChange =
                command.operation == .join ? .join(member) : .replace(old: command.name, new: member)
            let ring = try committedRing()
            try staging { claimant throws(RingError) in try claimant.stage(change, on: ring) }
        case .joinNow:
            guard let info = command.member else { throw ErrorReply(code: "bad_request", detail: "no member") }
            try await joinNow(Member(info))
        case .leave:
            let ring = try committedRing()
            try staging { claimant throws(RingError) in try claimant.stage(.leave(command.name), on: ring) }
        case .forceRemove:
            let ring = try committedRing()
            try staging { claimant throws(RingError) in try claimant.stage(.forceRemove(command.name), on: ring) }
        case .clear:
            claimant.withLock { $0.clear() }
        case .plan:
            break
        case .commit:
            let staged = claimant.withLock { $0.staged }
            let next = try await proposeRing { ring throws(RingError) in try ring.planning(staged) }
            claimant.withLock { $0.clear() }
            logger.info("plan committed", metadata: ["epoch": "\(next.epoch)", "transfers": "\(next.pending.count)"])
        case .abort:
            let next = try await proposeRing { ring throws(RingError) in try ring.aborting() }
            claimant.withLock { $0.clear() }
            logger.info("plan aborted", metadata: ["epoch": "\(next.epoch)"])
        case .transferred:
            _ = try await proposeRing { ring in
                guard command.planID == ring.planID else { return nil }
                return ring.markingTransferred(command.name)
            }
            await switchOwnersIfReady()
        case .updateAddress:
            guard let info = command.member else { throw ErrorReply(code: "bad_request", detail: "no member") }
            _ = try await proposeRing { ring in ring.updatingAddresses(of: Member(info)) }
        }
    }

    private func staging(_ body: (inout Claimant) throws(RingError) -> Void) throws(ErrorReply) {
        do {
            try claimant.withLock { claimant throws(RingError) in try body(&claimant) }
        } catch {
            throw ErrorReply(code: "bad_change", detail: error.description)
        }
    }

    private func joinNow(_ member: Member) async throws(ErrorReply) {
        let ring = try committedRing()
        if let known = ring.member(named: member.name), known.state != .left {
            guard known.clusterAddress == member.clusterAddress else {
                throw ErrorReply(
                    code: "duplicate_name", detail: "\(member.name) is a member at \(known.clusterAddress)")
            }
            return
        }
        let next = try await proposeRing { ring throws(RingError) in try ring.planning([.join(member)]) }
        logger.info("join committed", metadata: ["member": "\(member.name)", "transfers": "\(next.pending.count)"])
    }

    /// The ring of the log's last committed entry: what the next change builds on.
    func committedRing() throws(ErrorReply) -> Ring {
        let payload = metadata.withLock { $0?.committedEntry?.payload }
        guard let payload, let ring = try? Ring.decode(payload) else {
            throw ErrorReply(code: "not_formed", detail: "no committed ring")
        }
        return ring
    }

    /// On the leader: appends the ring `change` makes of the committed one and waits until a majority stored it.
    /// A nil change proposes nothing and returns the committed ring.
    @discardableResult
    func proposeRing(_ change: (Ring) throws(RingError) -> Ring?) async throws(ErrorReply) -> Ring {
        let now = Self.now()
        let proposal: Result<(index: UInt64, ring: Ring, committed: [MetadataEntry])?, ErrorReply> =
            metadata.withLock { log in
                guard log != nil else { return .failure(ErrorReply(code: "not_formed", detail: "no metadata log")) }
                guard log!.isLeader else {
                    return .failure(ErrorReply(code: "no_leader", detail: "\(cluster.local.name) no longer leads"))
                }
                // A leader that has not heard from a majority for three heartbeats is probably cut off: refuse
                // before appending, rather than leave an entry that may or may not commit later.
                guard log!.hasQuorumContact(within: 3 * metadataSettings.heartbeatInterval, now: now) else {
                    return .failure(
                        ErrorReply(
                            code: "no_quorum",
                            detail: "a majority of the voters (\(log!.voters.joined(separator: ", "))) is not "
                                + "reachable from \(cluster.local.name): the ring cannot change on this side"))
                }
                guard let entry = log!.committedEntry, let base = try? Ring.decode(entry.payload) else {
                    return .failure(ErrorReply(code: "not_formed", detail: "no committed ring"))
                }
                let next: Ring?
                do {
                    next = try change(base)
                } catch {
                    return .failure(ErrorReply(code: "bad_change", detail: "\(error)"))
                }
                guard let next else { return .success(nil) }
                do {
                    let (index, actions) = try log!.propose(payload: next.encoded(), voters: log!.voters, now: now)
                    return .success((index, next, carryOut(actions).committed))
                } catch {
                    return .failure(
                        ErrorReply(code: "busy", detail: "another ring change is being committed: \(error)"))
                }
            }
        guard let proposed = try proposal.get() else { return try committedRing() }
        for entry in proposed.committed { applyCommitted(entry) }
        try await waitForCommit(proposed.index)
        receive(proposed.ring, from: cluster.local.name, force: true)
        return proposed.ring
    }

    private func waitForCommit(_ index: UInt64) async throws(ErrorReply) {
        let deadline = ContinuousClock.now + Self.commandPatience
        while ContinuousClock.now < deadline {
            let (committed, leading) = metadata.withLock { ($0?.commitIndex ?? 0 >= index, $0?.isLeader ?? false) }
            if committed { return }
            if !leading {
                throw ErrorReply(
                    code: "indeterminate",
                    detail: "leadership was lost before a majority confirmed the change; it may or may not commit")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw ErrorReply(
            code: "indeterminate", detail: "a majority did not confirm the change in time; it may still commit")
    }

    /// On the leader: switches owners once every receiver has its data.
    func switchOwnersIfReady() async {
        guard metadata.withLock({ $0?.isLeader ?? false }), let ring = cluster.ring, ring.switchingOwners() != nil
        else { return }
        do {
            let next = try await proposeRing { ring in ring.switchingOwners() }
            if next.pending.isEmpty, next.epoch > ring.epoch {
                logger.info("transfers complete: owners switched", metadata: ["epoch": "\(next.epoch)"])
            }
        } catch {
            logger.warning("switching owners failed", metadata: ["error": "\(error.code): \(error.detail)"])
        }
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
