import Coordinator
import Logging
import NIOCore
import ServiceLifecycle
import Storage
import Synchronization
import Wire

/// Replays the hints this node holds to their owners, as replica merges, while the failure detector sees them
/// up: a tick every 200 ms asks the `HintQueue` what to send (it throttles), each answer goes back to the queue,
/// and a hint's record is deleted only once every target acknowledged it durably. A hint whose owner no longer
/// holds the key's partition goes to the key's current replicas. Closes the hint records when the node stops.
struct HintReplayService: Service {
    let node: Node
    static let tick: Duration = .milliseconds(200)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                step()
                try? await Task.sleep(for: Self.tick)
            }
        }
        do {
            try await node.hints.engine.close()
        } catch {
            node.logger.error("closing the hint store failed", metadata: ["error": "\(error)"])
        }
    }

    /// One tick: expire old hints, start replays to owners seen up, refresh the rate figure.
    func step() {
        let now = HintStore.wallClock()
        let (owners, replayed) = node.hints.withQueue { ($0.ownerNames, $0.replayed) }
        node.hintRate.sample(replayed: replayed, at: now)
        guard !owners.isEmpty else { return }
        let snapshot = node.cluster.snapshot
        let up = Set(
            owners.filter { owner in
                // An owner that left the ring is replayed to the key's current replicas.
                guard snapshot.ring.member(named: owner).map({ $0.state != .left }) ?? false else { return true }
                return node.cluster.liveness(of: owner) == .up
            })
        perform(node.hints.withQueue { $0.onTick(now: now, up: up) })
    }

    private func perform(_ actions: [HintQueue.Action]) {
        for action in actions {
            switch action {
            case .replay(let hint, let generation):
                replay(hint, generation: generation)
            case .delete(let hint):
                node.hints.delete(hint, ifHolding: nil)
            case .drop(let hint, let reason):
                node.hints.delete(hint, ifHolding: nil)
                node.logger.warning(
                    "hint dropped unreplayed; anti-entropy must repair the key",
                    metadata: ["owner": "\(hint.owner)", "collection": "\(hint.collection)", "reason": "\(reason)"])
            }
        }
    }

    private func replay(_ hint: HintKey, generation: UInt64) {
        guard let bytes = node.hints.bytes(of: hint) else {
            // Gone already (dropped, or deleted before a restart finished the count): nothing to send.
            finish(hint, generation: generation, bytes: nil, ok: true)
            return
        }
        let snapshot = node.cluster.snapshot
        let targets = HintQueue.replayTargets(
            owner: hint.owner, replicas: snapshot.replicas(collection: hint.collection, key: hint.key),
            incoming: snapshot.incoming(collection: hint.collection, key: hint.key))
        // Fenced as any replica write: a target that no longer holds the key refuses rather than storing what it
        // will drop, and the replay runs again on the target's newer ring.
        let payload = ReplicaPut(collection: hint.collection, key: hint.key, object: bytes, epoch: snapshot.ring.epoch)
            .encoded()
        let remaining = Mutex((count: targets.count, ok: true))
        let done: @Sendable (Bool) -> Void = { ok in
            let last = remaining.withLock { state -> Bool? in
                state.count -= 1
                state.ok = state.ok && ok
                return state.count == 0 ? state.ok : nil
            }
            if let last { self.finish(hint, generation: generation, bytes: bytes, ok: last) }
        }
        let deadline = NIODeadline.now() + TimeAmount(node.config.requestTimeout)
        for target in targets {
            if target == node.config.name {
                mergeLocally(hint, bytes: bytes, done)
                continue
            }
            guard let client = snapshot.clients[target] else {
                done(false)
                continue
            }
            client.submit(type: ReplicaPut.type.rawValue, payload: payload, deadline: deadline).whenComplete {
                result in
                switch Peers.decode(result, as: ReplicaPutReply.self) {
                case .success: done(true)
                case .failure(let error):
                    if error.isRingMoved { Task { await self.node.control.refreshRing(from: target) } }
                    done(false)
                }
            }
        }
    }

    private func mergeLocally(_ hint: HintKey, bytes: [UInt8], _ done: @escaping @Sendable (Bool) -> Void) {
        do {
            let object = try VersionedObject.decode(bytes)
            let point = try node.replica.applyMerge(
                collection: hint.collection, key: hint.key, object, encoded: bytes)
            node.storage.whenDurable(point, on: nil) { result in
                if case .success = result { done(true) } else { done(false) }
            }
        } catch {
            done(false)
        }
    }

    private func finish(_ hint: HintKey, generation: UInt64, bytes: [UInt8]?, ok: Bool) {
        let now = HintStore.wallClock()
        guard ok else {
            node.hints.withQueue { $0.onReplayFailed(hint, generation: generation, now: now) }
            return
        }
        let actions = node.hints.withQueue { $0.onReplayAcked(hint, generation: generation, now: now) }
        for action in actions {
            if case .delete(let gone) = action {
                node.hints.delete(gone, ifHolding: bytes)
                node.metrics.recordHintReplayed(bytes: bytes?.count ?? 0)
            }
        }
        perform(actions.filter { if case .delete = $0 { false } else { true } })
    }
}

/// Hints replayed per second over the last ten seconds, for `/v1/status` and `/metrics`, and the targets that
/// ever had hints (so that their gauges return to 0).
final class HintRate: Sendable {
    private let samples = Mutex<[(at: UInt64, replayed: Int)]>([])
    private let seen = Mutex<Set<String>>([])

    /// Records the targets holding hints now; returns those that held some before but none now.
    func emptied(now holding: [String]) -> [String] {
        seen.withLock { seen in
            let gone = seen.subtracting(holding).sorted()
            seen.formUnion(holding)
            return gone
        }
    }

    func sample(replayed: Int, at now: UInt64) {
        samples.withLock { samples in
            samples.append((now, replayed))
            samples.removeAll { now - $0.at > 10_000_000_000 }
        }
    }

    /// Hints per second over the window sampled.
    var perSecond: Double {
        samples.withLock { samples in
            guard let first = samples.first, let last = samples.last, last.at > first.at else { return 0 }
            return Double(last.replayed - first.replayed) / (Double(last.at - first.at) / 1e9)
        }
    }
}
