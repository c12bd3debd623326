import Ring

@testable import Coordinator

/// The metadata log's shell in the simulator, as `ClusterControl` is on a node: persist before sending, apply
/// committed rings, and on the leader propose the ring changes (voter steps, owner switches, receivers done,
/// the operator's changes, one abort).
extension MembershipSimulation {
    func carryOut(_ actions: [MetadataLog.Action], at node: SimNode) {
        for action in actions {
            switch action {
            case .persist(let state):
                node.disk = state
            case .send(let to, let message):
                let from = node.name
                send(from: from, to: to) { [self] receiver in
                    if receiver.log == nil { receiver.log = makeLog(receiver.name, state: MetadataState()) }
                    carryOut(receiver.log!.onMessage(message, from: from, now: clock(receiver)), at: receiver)
                }
            case .committed(let entry):
                apply(entry, at: node)
            case .leaderChanged:
                break
            }
        }
        if let log = node.log, log.isLeader { leadersByTerm[log.term, default: []].insert(node.name) }
    }

    /// Adopts a committed entry's ring; checks that no other ring was committed at its epoch.
    func apply(_ entry: MetadataEntry, at node: SimNode) {
        guard let ring = decodedRing(entry.payload) else {
            violations.append("entry \(entry.index) does not hold a ring")
            return
        }
        if let known = committedByEpoch[ring.epoch], known != entry.payload {
            violations.append("two rings committed at epoch \(ring.epoch)")
        }
        committedByEpoch[ring.epoch] = entry.payload
        if let voters = node.log?.voters { node.log!.setLearners(RingVoters.learners(of: ring, voters: voters)) }
        if node.ring == nil || ring.epoch > node.ring!.epoch { node.ring = ring }
    }

    /// On the leader, once its last entry is committed: one change at a time, in the node's order of duties.
    func lead(_ node: SimNode) {
        guard let log = node.log, log.isLeader, log.isSettled, let entry = log.committedEntry,
            let ring = decodedRing(entry.payload)
        else { return }
        if let voters = RingVoters.nextStep(from: log.voters, towards: ring) {
            propose(entry.payload, voters: voters, at: node)
        } else if let switched = ring.switchingOwners() {
            propose(switched.encoded(), voters: log.voters, at: node)
        } else if let done = node.reports[ring.planID]?.sorted().first(where: { ring.markingTransferred($0) != nil }) {
            propose(ring.markingTransferred(done)!.encoded(), voters: log.voters, at: node)
        } else if !aborted, now >= abortAt, !ring.pending.isEmpty, let back = try? ring.aborting() {
            aborted = true
            propose(back.encoded(), voters: log.voters, at: node)
        } else if ring.pending.isEmpty, let change = nextWanted(ring), let next = try? ring.planning([change]) {
            propose(next.encoded(), voters: log.voters, at: node)
        }
    }

    /// Decodes a ring once per distinct encoding: the leader looks at its committed ring on every tick.
    func decodedRing(_ payload: [UInt8]) -> Ring? {
        if let ring = ringCache[payload] { return ring }
        guard let ring = try? Ring.decode(payload) else { return nil }
        ringCache[payload] = ring
        return ring
    }

    func propose(_ payload: [UInt8], voters: [String], at node: SimNode) {
        guard let (_, actions) = try? node.log!.propose(payload: payload, voters: voters, now: clock(node)) else {
            return
        }
        carryOut(actions, at: node)
    }

    /// The first change asked for that the ring does not show yet (they are carried out in order).
    func nextWanted(_ ring: Ring) -> RingChange? {
        for wish in wanted {
            let done: Bool
            switch wish.change {
            case .join(let member): done = ring.member(named: member.name).map { $0.state != .left } ?? false
            case .leave(let name): done = ring.member(named: name).map { $0.state != .up } ?? true
            case .forceRemove(let name): done = ring.member(named: name).map { $0.state == .left } ?? true
            case .replace(let old, _): done = ring.member(named: old).map { $0.state != .up } ?? true
            }
            if done { continue }
            return now >= wish.after ? wish.change : nil
        }
        return nil
    }

    /// A receiver's report reaches the leader it knows of (or every member it knows, when it knows none).
    func report(planID: UInt64, from node: SimNode) {
        let leader = node.log?.leader
        let targets = leader.map { [$0] } ?? (node.ring?.members.map(\.name) ?? [])
        for target in targets where target != node.name {
            send(from: node.name, to: target) { receiver in receiver.reports[planID, default: []].insert(node.name) }
        }
        if leader == node.name || targets.isEmpty { node.reports[planID, default: []].insert(node.name) }
    }
}
