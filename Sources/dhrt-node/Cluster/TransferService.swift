import Coordinator
import Logging
import NIOPosix
import Ring
import ServiceLifecycle
import Storage
import Synchronization
import Wire

/// Carries out range transfer on the receiving side (`IncomingTransfers`): pulls batches of each partition this
/// node gains, merges them, checkpoints the cursor once the batch is durable, and tells the claimant when all
/// are in. Also drops the partitions this node no longer replicates once a plan is complete.
final class TransferService: Service, Sendable {
    let name: String
    let storage: StorageEngine
    let replica: LocalReplica
    let cluster: ClusterState
    let control: ClusterControl
    let logger: Logger
    let checkpointPath: String?
    let maxBatchBytes: Int
    /// How long a ring without pending transfers must stand before partitions it no longer gives us are dropped.
    let dropGrace: UInt64
    private let machine: Mutex<IncomingTransfers>
    private let queued = Mutex<[IncomingTransfers.Action]>([])
    private let timing = Mutex(Timing())
    private let checkpointWrite = Mutex(())
    /// Record bytes and keys received since start, for `/v1/transfers` and the benchmark.
    let totals = Mutex((keys: 0, bytes: 0, batches: 0))

    private struct Timing {
        var lastReport: UInt64 = 0
        var lastCheckpoint: UInt64 = 0
        var stableEpoch: UInt64 = 0
        var stableSince: UInt64 = 0
    }

    init(
        storage: StorageEngine, control: ClusterControl, checkpointPath: String?, concurrency: Int,
        maxBatchBytes: Int = 1 << 20, dropGrace: Duration
    ) {
        self.storage = storage
        replica = LocalReplica(storage: storage)
        self.control = control
        cluster = control.cluster
        logger = control.logger
        name = control.cluster.local.name
        self.checkpointPath = checkpointPath
        self.maxBatchBytes = maxBatchBytes
        self.dropGrace =
            UInt64(dropGrace.components.seconds) * 1_000_000_000
            + UInt64(dropGrace.components.attoseconds / 1_000_000_000)
        let restored = checkpointPath.flatMap { TransferCheckpointFile.load($0, logger: control.logger) }
        machine = Mutex(
            IncomingTransfers(
                name: name, concurrency: concurrency, startDelay: 2_000_000_000, checkpoint: restored))
    }

    /// The copies as they stand, for `/v1/transfers`.
    var progress: (planID: UInt64, partitions: [IncomingTransfers.Progress]) {
        machine.withLock { ($0.planID, $0.partitions.values.sorted { $0.partition < $1.partition }) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    for action in self.tick() {
                        switch action {
                        case .pull: group.addTask { await self.work(action) }
                        case .reportDone(let planID): group.addTask { await self.report(planID) }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }

    private func tick() -> [IncomingTransfers.Action] {
        guard let ring = cluster.ring else { return [] }
        let now = ClusterControl.now()
        let down = cluster.down
        var actions = machine.withLock { machine in
            machine.onRing(ring, down: down, now: now) + machine.onTick(now: now)
        }
        actions += queued.withLock { queued in
            defer { queued = [] }
            return queued
        }
        dropLostPartitions(ring, now: now)
        // One report per second at most; the claimant may be busy or changing.
        var result: [IncomingTransfers.Action] = []
        var reported = false
        for action in actions {
            if case .reportDone = action {
                guard !reported else { continue }
                reported = true
                let due = timing.withLock { timing in
                    guard now >= timing.lastReport + 1_000_000_000 else { return false }
                    timing.lastReport = now
                    return true
                }
                if !due { continue }
            }
            result.append(action)
        }
        return result
    }

    /// Copies partitions one after another, starting with `first`, until no pull is left for this worker.
    private func work(_ first: IncomingTransfers.Action) async {
        var next: IncomingTransfers.Action? = first
        while case .pull(let partition, let source, let after) = next, !Task.isCancelled {
            let actions: [IncomingTransfers.Action]
            do {
                let batch = try await pull(partition: partition, from: source, after: after)
                let (bytes, last) = try await merge(batch.records)
                let now = ClusterControl.now()
                actions = machine.withLock {
                    $0.onBatch(
                        partition: partition, last: last, finished: batch.finished, keys: batch.records.count,
                        bytes: bytes, remaining: Int(batch.remaining), now: now)
                }
                totals.withLock {
                    $0.keys += batch.records.count
                    $0.bytes += bytes
                    $0.batches += 1
                }
                await saveCheckpoint(force: machine.withLock { $0.isDone })
            } catch {
                logger.warning(
                    "transfer pull failed",
                    metadata: ["partition": "\(partition)", "from": "\(source)", "error": "\(error)"])
                let now = ClusterControl.now()
                actions = machine.withLock { $0.onFailure(partition: partition, now: now) }
            }
            next = nil
            var rest: [IncomingTransfers.Action] = []
            for action in actions {
                if next == nil, case .pull = action { next = action } else { rest.append(action) }
            }
            if !rest.isEmpty { queued.withLock { $0 += rest } }
        }
    }

    private func pull(partition: Int, from source: String, after: TransferCursor?) async throws -> TransferBatch {
        guard let address = cluster.clusterAddress(of: source) else {
            throw PeerError.transport(KVService.UnknownMember())
        }
        let message = TransferPull(
            partition: UInt16(partition), afterCollection: after?.collection, afterKey: after?.key ?? [],
            maxBytes: UInt32(maxBatchBytes))
        return try await control.peers.call(message, to: address, expecting: TransferBatch.self, timeout: .seconds(30))
    }

    /// Merges a batch and waits until it is durable; returns its record bytes and last cursor.
    private func merge(_ records: [TransferRecord]) async throws -> (Int, TransferCursor?) {
        var points: [String: DurablePoint] = [:]
        var bytes = 0
        for record in records {
            points[record.collection] = try replica.applyTransferred(
                collection: record.collection, key: record.key, isTombstone: record.isTombstone, meta: record.meta,
                value: record.value)
            bytes += record.key.count + record.meta.count + record.value.count
        }
        for point in points.values {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                storage.whenDurable(point, on: nil) { continuation.resume(with: $0) }
            }
        }
        return (bytes, records.last.map { TransferCursor(collection: $0.collection, key: $0.key) })
    }

    /// Stores the checkpoint at most twice a second, and once when every partition is in. A checkpoint that
    /// lags only makes a restarted receiver copy a few batches again (merging is idempotent).
    private func saveCheckpoint(force: Bool) async {
        guard let checkpointPath else { return }
        let now = ClusterControl.now()
        let due = timing.withLock { timing in
            guard force || now >= timing.lastCheckpoint + 500_000_000 else { return false }
            timing.lastCheckpoint = now
            return true
        }
        guard due else { return }
        // Written on the blocking-I/O pool, not an event loop (two fsyncs). Taken and written under one lock:
        // workers finish batches concurrently, and the file must only move forward.
        do {
            try await NIOThreadPool.singleton.runIfActive { [self] in
                try checkpointWrite.withLock { _ in
                    try DurableFile.write(
                        TransferCheckpointFile.encode(machine.withLock { $0.checkpoint }), to: checkpointPath)
                }
            }
        } catch {
            logger.error("could not store the transfer checkpoint", metadata: ["error": "\(error)"])
        }
    }

    private func report(_ planID: UInt64) async {
        do {
            _ = try await control.command(ClusterCommand(.transferred, name: name, planID: planID))
            logger.info("all partitions received", metadata: ["plan": "\(planID)"])
        } catch {
            logger.warning("could not report the finished transfer", metadata: ["error": "\(error)"])
        }
    }

    /// Once a ring without pending transfers has stood for the grace period and a peer agreed with it, drops
    /// the partitions this node holds but no longer replicates (the engine's durable partition drop).
    private func dropLostPartitions(_ ring: Ring, now: UInt64) {
        let stable = timing.withLock { timing -> Bool in
            if timing.stableEpoch != ring.epoch {
                timing.stableEpoch = ring.epoch
                timing.stableSince = now
            }
            return now >= timing.stableSince + dropGrace
        }
        let alone = cluster.peers.isEmpty
        guard stable, ring.pending.isEmpty, ring.clusterID != 0,
            alone || control.lastConfirmation.epoch == ring.epoch
        else { return }
        let me = name
        let snapshot = cluster.snapshot
        for partition in 0..<ring.partitionCount where !snapshot.replicaNames[partition].contains(me) {
            for collection in storage.collections() {
                let count = storage.keyCount(collection: collection, partition: partition)
                guard count > 0 else { continue }
                do {
                    try storage.dropPartitionNow(collection: collection, partition: partition)
                    logger.info(
                        "dropped a partition this node no longer replicates",
                        metadata: ["collection": "\(collection)", "partition": "\(partition)", "keys": "\(count)"])
                } catch {
                    logger.error("partition drop failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
