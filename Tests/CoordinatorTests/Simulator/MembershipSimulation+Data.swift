import Ring

@testable import Coordinator

/// Data in the simulator: range copies, quorum writes with epoch fencing, dropping ranges no longer held, and
/// the invariants.
extension MembershipSimulation {
    func perform(_ actions: [IncomingTransfers.Action], at node: SimNode) {
        for action in actions {
            switch action {
            case .pull(let partition, let source, let after):
                pull(partition, from: source, after: after, by: node)
            case .reportDone(let planID):
                report(planID: planID, from: node)
            }
        }
    }

    /// A batch of up to 8 keys after the cursor, synced before it counts; a reply lost or a source down counts
    /// as a failure at 300 ms.
    func pull(_ partition: Int, from source: String, after: TransferCursor?, by receiver: SimNode) {
        let name = receiver.name
        let incarnation = receiver.incarnation
        var answered = false
        send(from: name, to: source) { [self] source in
            let all = source.store.keys.filter { partitionOf($0) == partition }.sorted()
            let start = after.map { cursor in all.firstIndex { $0 > Int(cursor.key[0]) } ?? all.count } ?? 0
            let batch = Array(all[start..<min(all.count, start + 8)])
            let records = batch.map { ($0, source.store[$0]!) }
            let finished = start + batch.count >= all.count
            send(from: source.name, to: name) { [self] receiver in
                guard !answered, receiver.incarnation == incarnation else { return }
                answered = true
                for (key, object) in records { merge(object, key: key, at: receiver) }
                let last = batch.last.map { TransferCursor(collection: "c", key: [UInt8($0)]) }
                whenSynced(receiver) { [self] in
                    perform(
                        receiver.transfers.onBatch(
                            partition: partition, last: last, finished: finished, keys: records.count, bytes: 0,
                            remaining: all.count - start - batch.count, now: clock(receiver)), at: receiver)
                }
            }
        }
        at(now + 300 * Self.ms) { [self] in
            guard !answered, let receiver = nodes[name], receiver.alive, receiver.incarnation == incarnation else {
                return
            }
            answered = true
            perform(receiver.transfers.onFailure(partition: partition, now: clock(receiver)), at: receiver)
        }
    }

    // MARK: Stores

    func merge(_ object: VersionedObject, key: Int, at node: SimNode) {
        guard let merged = ReplicaStore.merge(stored: node.store[key] ?? VersionedObject(), incoming: object) else {
            return
        }
        node.store[key] = merged
        node.dirty.insert(key)
    }

    /// Group commit: `body` runs once everything written so far is synced, 1-4 ms from the first waiter; a crash
    /// before then loses the writes and the waiters.
    func whenSynced(_ node: SimNode, _ body: @escaping () -> Void) {
        node.syncWaiters.append(body)
        guard !node.syncScheduled else { return }
        node.syncScheduled = true
        let incarnation = node.incarnation
        at(now + UInt64.random(in: 1...4, using: &random) * Self.ms) {
            guard node.alive, node.incarnation == incarnation else { return }
            for key in node.dirty { node.synced[key] = node.store[key] }
            node.dirty = []
            for hint in node.dirtyHints { node.syncedHints[hint] = node.hints[hint] }
            node.dirtyHints = []
            node.syncScheduled = false
            let waiters = node.syncWaiters
            node.syncWaiters = []
            for waiter in waiters { waiter() }
        }
    }

    /// Drops the keys of partitions the node no longer replicates once its ring stood 3 s without pending.
    func dropLostPartitions(_ node: SimNode) {
        guard let ring = node.ring else { return }
        let local = clock(node)
        if node.stableSince.epoch != ring.epoch { node.stableSince = (ring.epoch, local) }
        guard ring.pending.isEmpty, local >= node.stableSince.at + 3_000 * Self.ms else { return }
        for key in node.store.keys
        where !ring.preferenceList(partition: partitionOf(key)).contains(where: { $0.name == node.name }) {
            node.store[key] = nil
            node.synced[key] = nil
            node.dirty.remove(key)
        }
    }

    /// The key's preference list under `ring`, and the members a pending plan adds to it (its receivers).
    func lists(of key: Int, in ring: Ring) -> (current: [String], incoming: [String]) {
        let partition = partitionOf(key)
        let current = ring.preferenceList(partition: partition).map(\.name)
        guard !ring.pending.isEmpty else { return (current, []) }
        return (current, ring.future.preferenceList(partition: partition).map(\.name).filter { !current.contains($0) })
    }

    func partitionOf(_ key: Int) -> Int { Int((UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 60) % partitions }

    // MARK: Clients

    func writeLoop() {
        at(now + 15 * Self.ms) { [self] in
            guard writesEnabled else { return }
            let clients = nodes.values.filter { $0.alive && $0.ring != nil }.map(\.name).sorted()
            if let name = clients.randomElement(using: &random) {
                write(key: Int.random(in: 0..<keys, using: &random), via: nodes[name]!)
            }
            writeLoop()
        }
    }

    /// The client's node forwards to the first replica it does not judge down, which coordinates with the node's
    /// `WriteCoordination`: W=2 in the current list and in the list after a pending plan.
    func write(key: Int, via client: SimNode) {
        guard let ring = client.ring else { return }
        let down = down(client)
        guard
            let first = ring.preferenceList(partition: partitionOf(key)).map(\.name).first(where: { !down.contains($0) }
            )
        else { return }
        nextValue += 1
        let value = nextValue
        send(from: client.name, to: first) { [self] coordinator in coordinate(key: key, value: value, at: coordinator) }
    }

    func coordinate(key: Int, value: Int, at coordinator: SimNode) {
        guard let ring = coordinator.ring else { return }
        let partition = partitionOf(key)
        let current = ring.preferenceList(partition: partition).map(\.name)
        guard current.contains(coordinator.name) else { return }
        let next = ring.pending.isEmpty ? current : ring.future.preferenceList(partition: partition).map(\.name)
        let incoming = next.filter { !current.contains($0) }
        // Sloppy quorum, as the node's: fallbacks after the list (not the receivers), primaries judged down.
        let fallbacks = ring.fallbacks(partition: partition).map(\.name).filter { !incoming.contains($0) }
        let machine = QuorumWrite(
            requestID: UInt64(value), coordinator: coordinator.name, replicas: current + incoming, w: 2,
            deadline: now + 2_000 * Self.ms, fallbacks: fallbacks, down: down(coordinator),
            handoffAt: now + 1_000 * Self.ms, incoming: Set(incoming),
            leaving: Set(current.filter { !next.contains($0) }))
        let io = SimWriteIO(simulation: self, node: coordinator, key: key, value: value, epoch: ring.epoch)
        let run = WriteCoordination(machine, io: io)
        run.start { [self] answer in
            guard case .success(.success(let acks, let object)) = answer else { return }
            let actor = io.actor
            let sloppy = acks.contains { !current.contains($0) && !incoming.contains($0) }
            acked.append((key, Dot(actor: actor, counter: object.context[actor]), value, now, sloppy))
        }
    }

    /// A replica write or read repair, fenced by `EpochFence` as on a node.
    func refusesWrite(key: Int, epoch: UInt64, at replica: SimNode) -> Bool {
        fences(key: key, epoch: epoch, at: replica, writing: true)
    }

    func fences(key: Int, epoch: UInt64, at replica: SimNode, writing: Bool) -> Bool {
        guard let ring = replica.ring, ring.epoch > epoch else { return false }
        let (current, incoming) = lists(of: key, in: ring)
        let refused = EpochFence.refuses(
            requestEpoch: epoch, localEpoch: ring.epoch, me: replica.name, replicas: current, incoming: incoming,
            writing: writing)
        if refused { fenced += 1 }
        return refused
    }

    func readLoop() {
        at(now + 20 * Self.ms) { [self] in
            guard writesEnabled else { return }
            let clients = nodes.values.filter { $0.alive && $0.ring != nil }.map(\.name).sorted()
            if let name = clients.randomElement(using: &random) {
                read(key: Int.random(in: 0..<keys, using: &random), at: nodes[name]!)
            }
            readLoop()
        }
    }

    /// A client read at R=2 from the key's current list, coordinated where the client connected, with read
    /// repair to stale replicas and to a pending plan's receivers.
    func read(key: Int, at coordinator: SimNode) {
        guard let ring = coordinator.ring else { return }
        let replicas = ring.preferenceList(partition: partitionOf(key)).map(\.name)
        let startedAt = now
        let machine = QuorumRead(
            requestID: 0, replicas: replicas, r: 2, deadline: now + 2_000 * Self.ms, fanout: 2,
            speculationDelay: 40 * Self.ms)
        let io = SimReadIO(simulation: self, node: coordinator, key: key, ring: ring)
        ReadCoordination(machine, io: io).start { [self] outcome in
            guard case .success(let result) = outcome else { return }
            reads.append((key, startedAt, result.object))
        }
    }

    // MARK: Invariants

    /// Rings of every node, as encodings (equal when converged).
    var rings: [[UInt8]] { nodes.values.compactMap { $0.ring?.encoded() } }

    /// Terms in which more than one node acted as leader.
    var termsWithTwoLeaders: [UInt64] { leadersByTerm.filter { $0.value.count > 1 }.keys.sorted() }

    /// Acknowledged writes held (or superseded by a write that saw them) by fewer than a quorum (2) of the final
    /// preference list.
    func underReplicated() -> [(key: Int, dot: Dot)] {
        guard let ring = nodes["n1"]?.ring else { return acked.map { ($0.key, $0.dot) } }
        return acked.filter { write in
            let replicas = ring.preferenceList(partition: partitionOf(write.key)).map(\.name)
            return replicas.filter { Self.holds(nodes[$0]!.store[write.key], write.dot, write.value) }.count < 2
        }.map { ($0.key, $0.dot) }
    }

    /// Whether `object` holds the write of `value` that made `dot`, or a write that saw it. A sibling with the dot
    /// but another value is a different write that reused the dot: the acknowledged one is lost.
    static func holds(_ object: VersionedObject?, _ dot: Dot, _ value: Int) -> Bool {
        guard let object, object.context.contains(dot) else { return false }
        return object.siblings.first { $0.dot == dot }.map { $0.value == bytes(value) } ?? true
    }

    static func bytes(_ value: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(value).littleEndian) { Array($0) } }

    /// Reads that missed a write acknowledged before they started: R + W > N promises they see it, for writes that
    /// the replicas acknowledged (one acknowledged by a fallback's hint promises it only once the hint is replayed).
    func staleReads() -> [(key: Int, missed: Dot)] {
        var stale: [(key: Int, missed: Dot)] = []
        let strict = Dictionary(grouping: acked.filter { !$0.sloppy }, by: \.key)
        for read in reads {
            for write in strict[read.key] ?? [] where write.at <= read.startedAt {
                if !Self.holds(read.object, write.dot, write.value) { stale.append((read.key, write.dot)) }
            }
        }
        return stale
    }
}
