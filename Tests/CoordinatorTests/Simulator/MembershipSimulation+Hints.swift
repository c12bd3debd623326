import Ring

@testable import Coordinator

/// Hinted handoff in the membership simulator: a write short of live primaries is stored as a hint on a
/// fallback (sloppy quorum), and each node's `HintQueue` replays its hints to their owners, or to the key's
/// current replicas and receivers once the owner no longer holds it (`HintQueue.replayTargets`), as the node's
/// `HintReplayService` does. Hints are synced by the node's group commit; a crash keeps only the synced ones.
extension MembershipSimulation {
    static let hintLimits = HintQueue.Limits(maxInFlight: 4, rate: 1_000, retryDelay: 300 * ms)

    /// A fallback stores the hint (merged into the one it holds for that owner and key).
    func storeHint(_ object: VersionedObject, owner: String, key: Int, at node: SimNode) {
        let hint = HintKey(owner: owner, collection: "c", key: [UInt8(key)])
        let held = node.hints[hint] ?? VersionedObject()
        node.hints[hint] = ReplicaStore.merge(stored: held, incoming: object) ?? held
        node.dirtyHints.insert(hint)
        node.hintQueue.onStored(hint, bytes: 1, createdAt: clock(node))
        hintsStored += 1
    }

    /// What a restart finds: the synced hints, queued again.
    func reloadHints(_ node: SimNode) {
        node.hints = node.syncedHints
        node.dirtyHints = []
        node.hintQueue = HintQueue(limits: Self.hintLimits)
        let local = clock(node)
        for hint in node.hints.keys.sorted(by: { ($0.owner, $0.key[0]) < ($1.owner, $1.key[0]) }) {
            node.hintQueue.onStored(hint, bytes: 1, createdAt: local)
        }
    }

    /// The replay service's tick: owners seen up (or no longer in the ring) get their hints.
    func tickHints(_ node: SimNode) {
        guard let ring = node.ring else { return }
        let owners = node.hintQueue.ownerNames
        guard !owners.isEmpty else { return }
        let up = Set(
            owners.filter { owner in
                guard ring.member(named: owner).map({ $0.state != .left }) ?? false else { return true }
                return node.detector.liveness(of: owner) == .up
            })
        performHints(node.hintQueue.onTick(now: clock(node), up: up), at: node)
    }

    func performHints(_ actions: [HintQueue.Action], at node: SimNode) {
        for action in actions {
            switch action {
            case .replay(let hint, let generation): replay(hint, generation: generation, from: node)
            case .delete(let hint), .drop(let hint, _): forget(hint, at: node)
            }
        }
    }

    func forget(_ hint: HintKey, at node: SimNode) {
        node.hints[hint] = nil
        node.syncedHints[hint] = nil
        node.dirtyHints.remove(hint)
    }

    /// Sends the hint to every target as a replica merge under the node's ring epoch; it counts as replayed
    /// once every target stored it durably, and as failed at the first refusal or after 500 ms.
    func replay(_ hint: HintKey, generation: UInt64, from node: SimNode) {
        guard let object = node.hints[hint], let ring = node.ring else {
            finishReplay(hint, generation: generation, object: nil, ok: true, at: node)
            return
        }
        let key = Int(hint.key[0])
        let (current, incoming) = lists(of: key, in: ring)
        let targets = HintQueue.replayTargets(owner: hint.owner, replicas: current, incoming: incoming)
        let incarnation = node.incarnation
        let epoch = ring.epoch
        var remaining = targets.count
        var finished = false
        let answer: (Bool) -> Void = { [self] ok in
            guard !finished, node.alive, node.incarnation == incarnation else { return }
            remaining -= 1
            guard !ok || remaining == 0 else { return }
            finished = true
            finishReplay(hint, generation: generation, object: object, ok: ok, at: node)
        }
        for target in targets {
            if target == node.name {
                merge(object, key: key, at: node)
                whenSynced(node) { answer(true) }
                continue
            }
            send(from: node.name, to: target) { [self] receiver in
                let refused = fencesHintReplay && refusesWrite(key: key, epoch: epoch, at: receiver)
                if !refused { merge(object, key: key, at: receiver) }
                let reply = { [self] in send(from: receiver.name, to: node.name) { _ in answer(!refused) } }
                if refused { reply() } else { whenSynced(receiver, reply) }
            }
        }
        at(now + 500 * Self.ms) { answer(false) }
    }

    func finishReplay(_ hint: HintKey, generation: UInt64, object: VersionedObject?, ok: Bool, at node: SimNode) {
        guard ok else {
            node.hintQueue.onReplayFailed(hint, generation: generation, now: clock(node))
            return
        }
        let actions = node.hintQueue.onReplayAcked(hint, generation: generation, now: clock(node))
        // A hint stored again while in flight holds more than was replayed: only the replayed bytes go.
        for case .delete(let gone) in actions where object == nil || node.hints[gone] == object {
            forget(gone, at: node)
        }
        performHints(actions.filter { if case .delete = $0 { false } else { true } }, at: node)
    }

    /// Hints every node still holds: none once the cluster is whole and quiet.
    var hintsLeft: Int { nodes.values.reduce(0) { $0 + $1.hints.count } }
}
