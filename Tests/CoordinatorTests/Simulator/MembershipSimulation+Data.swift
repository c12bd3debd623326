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

    /// A batch of up to 8 keys after the cursor; a reply lost or a source down counts as a failure at 300 ms.
    func pull(_ partition: Int, from source: String, after: TransferCursor?, by receiver: SimNode) {
        let name = receiver.name
        var answered = false
        send(from: name, to: source) { [self] source in
            let all = source.store.keys.filter { partitionOf($0) == partition }.sorted()
            let start = after.map { cursor in all.firstIndex { $0 > Int(cursor.key[0]) } ?? all.count } ?? 0
            let batch = Array(all[start..<min(all.count, start + 8)])
            let records = batch.map { ($0, source.store[$0]!) }
            let finished = start + batch.count >= all.count
            send(from: source.name, to: name) { [self] receiver in
                guard !answered else { return }
                answered = true
                for (key, ids) in records { receiver.store[key, default: []].formUnion(ids) }
                let last = batch.last.map { TransferCursor(collection: "c", key: [UInt8($0)]) }
                perform(
                    receiver.transfers.onBatch(
                        partition: partition, last: last, finished: finished, keys: records.count, bytes: 0,
                        remaining: all.count - start - batch.count, now: now), at: receiver)
            }
        }
        at(now + 300 * Self.ms) { [self] in
            guard !answered, let receiver = nodes[name], receiver.alive else { return }
            answered = true
            perform(receiver.transfers.onFailure(partition: partition, now: now), at: receiver)
        }
    }

    /// Drops the keys of partitions the node no longer replicates once its ring stood 3 s without pending.
    func dropLostPartitions(_ node: SimNode) {
        guard let ring = node.ring else { return }
        if node.stableSince.epoch != ring.epoch { node.stableSince = (ring.epoch, now) }
        guard ring.pending.isEmpty, now >= node.stableSince.at + 3_000 * Self.ms else { return }
        for key in node.store.keys
        where !ring.preferenceList(partition: partitionOf(key)).contains(where: { $0.name == node.name }) {
            node.store[key] = nil
        }
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

    /// The client's node forwards to the first replica it does not judge down, which coordinates with
    /// `QuorumWrite`: W=2 in the current list and in the list after a pending plan.
    func write(key: Int, via client: SimNode) {
        guard let ring = client.ring else { return }
        let down = down(client)
        guard
            let first = ring.preferenceList(partition: partitionOf(key)).map(\.name).first(where: { !down.contains($0) }
            )
        else { return }
        nextWrite += 1
        let id = nextWrite
        send(from: client.name, to: first) { [self] coordinator in coordinate(key: key, id: id, at: coordinator) }
    }

    final class WriteCell {
        var machine: QuorumWrite
        init(_ machine: QuorumWrite) { self.machine = machine }
    }

    func coordinate(key: Int, id: Int, at coordinator: SimNode) {
        guard let ring = coordinator.ring else { return }
        let partition = partitionOf(key)
        let current = ring.preferenceList(partition: partition).map(\.name)
        guard current.contains(coordinator.name) else { return }
        let next = ring.pending.isEmpty ? current : ring.future.preferenceList(partition: partition).map(\.name)
        let incoming = next.filter { !current.contains($0) }
        let machine = QuorumWrite(
            requestID: UInt64(id), coordinator: coordinator.name, replicas: current + incoming, w: 2,
            deadline: now + 2_000 * Self.ms, incoming: Set(incoming),
            leaving: Set(current.filter { !next.contains($0) }))
        let cell = WriteCell(machine)
        drive(cell, cell.machine.start(), key: key, id: id, epoch: ring.epoch, at: coordinator)
    }

    private func drive(
        _ cell: WriteCell, _ actions: [QuorumWrite.Action], key: Int, id: Int, epoch: UInt64, at coordinator: SimNode
    ) {
        for action in actions {
            switch action {
            case .storeLocally:
                coordinator.store[key, default: []].insert(id)
                drive(
                    cell, cell.machine.onLocalStored(VersionedObject()), key: key, id: id, epoch: epoch, at: coordinator
                )
            case .scheduleTimeout(let deadline):
                at(deadline) { [self] in
                    drive(cell, cell.machine.onTimeout(now: now), key: key, id: id, epoch: epoch, at: coordinator)
                }
            case .send(let names, _):
                for name in names {
                    send(from: coordinator.name, to: name) { [self] replica in
                        let stored = storeFenced(key: key, id: id, epoch: epoch, at: replica)
                        send(from: replica.name, to: coordinator.name) { [self] coordinator in
                            let answer =
                                stored
                                ? cell.machine.onAck(from: replica.name)
                                : cell.machine.onFailure(from: replica.name, reason: "ring_moved")
                            drive(cell, answer, key: key, id: id, epoch: epoch, at: coordinator)
                        }
                    }
                }
            case .reply(.success):
                acked.append((key, id))
            case .reply(.failure), .scheduleHandoff, .sendHint:
                break
            }
        }
    }

    /// A replica write, fenced by `EpochFence` as on a node.
    func storeFenced(key: Int, id: Int, epoch: UInt64, at replica: SimNode) -> Bool {
        if let ring = replica.ring, ring.epoch > epoch {
            let partition = partitionOf(key)
            let current = ring.preferenceList(partition: partition).map(\.name)
            let incoming =
                ring.pending.isEmpty
                ? [] : ring.future.preferenceList(partition: partition).map(\.name).filter { !current.contains($0) }
            if EpochFence.refuses(
                requestEpoch: epoch, localEpoch: ring.epoch, me: replica.name, replicas: current, incoming: incoming,
                writing: true)
            {
                fenced += 1
                return false
            }
        }
        replica.store[key, default: []].insert(id)
        return true
    }

    // MARK: Invariants

    /// Rings of every node, as encodings (equal when converged).
    var rings: [[UInt8]] { nodes.values.compactMap { $0.ring?.encoded() } }

    /// Terms in which more than one node acted as leader.
    var termsWithTwoLeaders: [UInt64] { leadersByTerm.filter { $0.value.count > 1 }.keys.sorted() }

    /// Acknowledged writes held by fewer than a quorum (2) of the final preference list.
    func underReplicated() -> [(key: Int, id: Int)] {
        guard let ring = nodes["n1"]?.ring else { return acked }
        return acked.filter { write in
            let replicas = ring.preferenceList(partition: partitionOf(write.key)).map(\.name)
            return replicas.filter { nodes[$0]!.store[write.key]?.contains(write.id) == true }.count < 2
        }
    }
}
