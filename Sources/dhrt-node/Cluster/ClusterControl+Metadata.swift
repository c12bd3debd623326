import Coordinator
import Ring
import Storage
import Wire

/// The shell of the metadata log: stores its state before anything it sends, delivers its messages, applies the
/// rings it commits, and proposes ring changes on the leader.
/// Who votes is `RingVoters`' rule, read from the committed ring.
extension ClusterControl {
    /// Loads the stored log. A node with a ring but no readable log lost it (deleted, damaged, or never stored by
    /// a dhrt before the log): it starts one from the ring, abstaining from votes (`MetadataState.abstains`).
    func openMetadata() {
        var stored: MetadataState? = nil
        if let metadataPath {
            do {
                if let bytes = try DurableFile.read(metadataPath) { stored = try MetadataState.decode(bytes) }
            } catch {
                logger.error(
                    "ignoring the stored metadata log", metadata: ["path": "\(metadataPath)", "error": "\(error)"])
            }
        }
        if stored == nil, let ring = cluster.ring {
            // The same index on every member that holds this ring, so their logs agree from the start.
            let base = MetadataEntry(
                index: max(1, ring.epoch), term: 0, voters: RingVoters.of(ring), payload: ring.encoded())
            stored = MetadataState(entries: [base], abstains: true)
            persist(stored!)
            logger.error(
                """
                this node holds a ring but no metadata log: it may have voted or stored entries it no longer \
                knows of, so it stops voting in the metadata log (while there are 3 voters or more); to make it \
                vote again, remove it (dhrt-admin leave or force-remove) and join it back with an empty data \
                directory
                """,
                metadata: ["epoch": "\(ring.epoch)"])
        }
        guard let stored else { return }
        metadata.withLock { $0 = makeLog(stored) }
        if let entry = stored.entries.first { applyCommitted(entry) }
    }

    func makeLog(_ state: MetadataState) -> MetadataLog {
        let seed = UInt64(truncatingIfNeeded: cluster.local.name.hashValue) ^ Self.now()
        var log = MetadataLog(
            name: cluster.local.name, state: state, settings: metadataSettings, seed: seed, now: Self.now())
        if let ring = cluster.ring { log.setLearners(RingVoters.learners(of: ring, voters: log.voters)) }
        return log
    }

    /// The first ring of a cluster (formed here, or adopted from the member that formed it) starts the log.
    func bootstrapMetadata(from ring: Ring) {
        let created = metadata.withLock { log -> Bool in
            guard log == nil else { return false }
            let state = MetadataState(
                entries: [
                    MetadataEntry(
                        index: max(1, ring.epoch), term: 0, voters: RingVoters.of(ring), payload: ring.encoded())
                ])
            persist(state)
            log = makeLog(state)
            return true
        }
        if created { logger.info("metadata log started", metadata: ["epoch": "\(ring.epoch)"]) }
    }

    func persist(_ state: MetadataState) {
        guard let metadataPath else { return }
        do {
            try DurableFile.write(state.encoded(), to: metadataPath)
        } catch {
            logger.error(
                "could not store the metadata log", metadata: ["path": "\(metadataPath)", "error": "\(error)"])
        }
    }

    /// Carries out the log's actions in order (called with the log locked, so states are stored in the order
    /// they were reached); returns the reply to `requester`, if one was produced, and the committed entries.
    func carryOut(_ actions: [MetadataLog.Action], replyingTo requester: String? = nil) -> (
        reply: MetadataMessage?, committed: [MetadataEntry]
    ) {
        var reply: MetadataMessage? = nil
        var committed: [MetadataEntry] = []
        let clusterID = cluster.ring?.clusterID ?? 0
        for action in actions {
            switch action {
            case .persist(let state):
                persist(state)
            case .send(let to, let message):
                if message.isReply, to == requester, reply == nil {
                    reply = message
                } else {
                    outboxSink.yield(
                        (to, MetadataCall(sender: cluster.local.name, clusterID: clusterID, message: message)))
                }
            case .committed(let entry):
                committed.append(entry)
            case .leaderChanged(let leader):
                logger.info("metadata leader", metadata: ["leader": "\(leader ?? "none")"])
            }
        }
        return (reply, committed)
    }

    /// Adopts the ring of a committed entry and keeps the learners and addresses in step with it.
    func applyCommitted(_ entry: MetadataEntry) {
        guard let ring = try? Ring.decode(entry.payload) else {
            logger.error("a committed metadata entry does not hold a ring", metadata: ["index": "\(entry.index)"])
            return
        }
        remember(ring)
        metadata.withLock { log in
            guard let voters = log?.voters else { return }
            log!.setLearners(RingVoters.learners(of: ring, voters: voters))
        }
        receive(ring, from: "metadata log", force: true)
    }

    func remember(_ ring: Ring) {
        addressBook.withLock { book in
            for member in ring.members where member.state != .left { book[member.name] = member.clusterAddress }
        }
    }

    func address(of name: String) -> String? {
        cluster.clusterAddress(of: name) ?? addressBook.withLock { $0[name] }
    }

    // MARK: Events

    /// A metadata request from a peer; returns the reply to send back.
    func answerMetadata(_ call: MetadataCall) throws(ErrorReply) -> MetadataCall {
        let myCluster = cluster.ring?.clusterID ?? 0
        if call.clusterID != myCluster, myCluster != 0 {
            guard isAlone, case .append = call.message else {
                throw ErrorReply(code: "wrong_cluster", detail: "\(cluster.local.name) belongs to another cluster")
            }
            // A node alone in a cluster of its own is being joined to this one: its own log is forgotten.
            logger.info("joining another cluster's metadata log", metadata: ["leader": "\(call.sender)"])
            metadata.withLock { $0 = makeLog(MetadataState()) }
        }
        let (reply, committed) = metadata.withLock { log -> (MetadataMessage?, [MetadataEntry]) in
            if log == nil { log = makeLog(MetadataState()) }
            let actions = log!.onMessage(call.message, from: call.sender, now: Self.now())
            return carryOut(actions, replyingTo: call.sender)
        }
        for entry in committed { applyCommitted(entry) }
        guard let reply else { throw ErrorReply(code: "no_reply", detail: "the metadata message needs no reply") }
        return MetadataCall(sender: cluster.local.name, clusterID: cluster.ring?.clusterID ?? 0, message: reply)
    }

    /// A node whose ring lists only itself.
    var isAlone: Bool {
        guard let ring = cluster.ring else { return true }
        return ring.members.count == 1 && ring.members[0].name == cluster.local.name
    }

    /// A reply to a message this node sent.
    func receiveMetadata(_ call: MetadataCall) {
        let committed = metadata.withLock { log -> [MetadataEntry] in
            guard log != nil else { return [] }
            return carryOut(log!.onMessage(call.message, from: call.sender, now: Self.now())).committed
        }
        for entry in committed { applyCommitted(entry) }
    }

    func metadataUnreachable(_ peer: String) {
        metadata.withLock { $0?.onUnreachable(peer) }
    }

    /// Elections, heartbeats, and on the leader the voter set brought in line with the ring, one voter at a time.
    func metadataTick() {
        let committed = metadata.withLock { log -> [MetadataEntry] in
            guard log != nil else { return [] }
            var outcome = carryOut(log!.onTick(now: Self.now())).committed
            outcome += reconcileVoters(&log!)
            return outcome
        }
        for entry in committed { applyCommitted(entry) }
    }

    private func reconcileVoters(_ log: inout MetadataLog) -> [MetadataEntry] {
        guard log.isLeader, log.isSettled, let entry = log.committedEntry else { return [] }
        // Once per committed entry and term: decoding the ring every tick would cost the leader for nothing.
        let checked = (term: log.term, index: entry.index)
        guard votersChecked.withLock({ $0 != checked }), let ring = try? Ring.decode(entry.payload) else { return [] }
        guard let next = RingVoters.nextStep(from: log.voters, towards: ring) else {
            votersChecked.withLock { $0 = checked }
            return []
        }
        guard let (_, actions) = try? log.propose(payload: entry.payload, voters: next, now: Self.now()) else {
            return []
        }
        logger.info("voter set change proposed", metadata: ["voters": "\(next.joined(separator: ","))"])
        return carryOut(actions).committed
    }

    /// The metadata leader this node knows of.
    var leaderName: String? { metadata.withLock { $0?.leader } }

    /// Whether this node lost its metadata log and so does not vote in it (`MetadataLog.mayVote`).
    var abstainsFromVoting: Bool { metadata.withLock { $0.map { !$0.mayVote } ?? false } }
}
