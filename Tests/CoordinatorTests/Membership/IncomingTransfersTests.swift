import Ring
import Testing

@testable import Coordinator

@Suite struct IncomingTransfersTests {
    static let second: UInt64 = 1_000_000_000

    private func member(_ name: String) -> Member { Member(name: name, clusterAddress: "\(name):9", httpAddress: "") }

    /// A 3-node ring with `n4` joining: n4 gains some partitions.
    private func plan() throws -> Ring {
        let ring = try Ring.formed(
            clusterID: 3, partitionCount: 32, replicas: 3, members: ["n1", "n2", "n3"].map(member))
        return try ring.planning([.join(member("n4"))])
    }

    private func pulls(_ actions: [IncomingTransfers.Action]) -> [(Int, String, TransferCursor?)] {
        actions.compactMap { if case .pull(let p, let from, let after) = $0 { (p, from, after) } else { nil } }
    }

    @Test func copiesEveryGainedPartition_withinTheConcurrencyLimit_thenReportsOnce() throws {
        let ring = try plan()
        var transfers = IncomingTransfers(name: "n4", concurrency: 2)
        var active = pulls(transfers.onRing(ring, down: [], now: 0))
        #expect(active.count == 2)
        #expect(Set(transfers.partitions.keys) == Set(ring.gains(of: "n4")))
        var copied: Set<Int> = []
        var reports = 0
        var step: UInt64 = 0
        while let (partition, source, after) = active.first {
            active.removeFirst()
            #expect(ring.sources(partition: partition, for: "n4").contains(source))
            // Two batches per partition: the second resumes after the first's last key.
            let cursor = TransferCursor(collection: "c", key: [UInt8(partition)])
            if after == nil {
                let next = transfers.onBatch(
                    partition: partition, last: cursor, finished: false, keys: 10, bytes: 100, remaining: 5,
                    now: step)
                #expect(pulls(next).first.map { $0.0 == partition && $0.2 == cursor } == true)
                active.append(contentsOf: pulls(next))
            } else {
                let next = transfers.onBatch(
                    partition: partition, last: nil, finished: true, keys: 5, bytes: 50, remaining: 0, now: step)
                copied.insert(partition)
                active.append(contentsOf: pulls(next))
                reports += next.filter { $0 == .reportDone(planID: ring.planID) }.count
            }
            step += 1
        }
        #expect(copied == Set(ring.gains(of: "n4")))
        #expect(transfers.isDone)
        #expect(reports == 1)
        #expect(transfers.partitions.values.allSatisfy { $0.keys == 15 && $0.bytes == 150 })
        // Until the ring shows the receiver done, ticks repeat the report; then they stop.
        #expect(transfers.onTick(now: step) == [.reportDone(planID: ring.planID)])
        let marked = try #require(ring.markingTransferred("n4"))
        _ = transfers.onRing(marked, down: [], now: step)
        #expect(transfers.onTick(now: step + 1).isEmpty)
    }

    @Test func aFailedPull_backsOff_thenTriesTheNextSource() throws {
        let ring = try plan()
        var transfers = IncomingTransfers(name: "n4", concurrency: 64, retryDelay: Self.second)
        let (partition, first, _) = try #require(pulls(transfers.onRing(ring, down: [], now: 0)).first)
        #expect(transfers.onFailure(partition: partition, now: 10).isEmpty, "the failed partition waits")
        #expect(transfers.partitions[partition]?.phase == .waiting(retryAt: 10 + Self.second))
        #expect(pulls(transfers.onTick(now: 11)).isEmpty)
        let retried = try #require(pulls(transfers.onTick(now: 10 + Self.second)).first { $0.0 == partition })
        let sources = ring.sources(partition: partition, for: "n4")
        #expect(sources.count > 1)
        #expect(retried.1 != first)
        #expect(transfers.partitions[partition]?.failures == 1)
    }

    @Test func aCheckpoint_resumesFromTheLastDurableCursor_andSkipsCopiedPartitions() throws {
        let ring = try plan()
        let gains = ring.gains(of: "n4")
        let cursor = TransferCursor(collection: "c", key: [9])
        let source = ring.sources(partition: gains[1], for: "n4")[0]
        let checkpoint = IncomingTransfers.Checkpoint(
            planID: ring.planID, done: [gains[0]],
            positions: [gains[1]: .init(sources: [source], sourceIndex: 0, cursor: cursor)])
        var transfers = IncomingTransfers(name: "n4", concurrency: 8, checkpoint: checkpoint)
        let started = pulls(transfers.onRing(ring, down: [], now: 0))
        #expect(!started.contains { $0.0 == gains[0] })
        #expect(started.first { $0.0 == gains[1] }.map { $0.1 == source && $0.2 == cursor } == true)
        #expect(transfers.checkpoint.done == [gains[0]])
        // A checkpoint of another plan is ignored.
        var other = IncomingTransfers(
            name: "n4", checkpoint: .init(planID: ring.planID &+ 1, done: gains, positions: [:]))
        #expect(!pulls(other.onRing(ring, down: [], now: 0)).isEmpty)
    }

    @Test func aDownLoser_isReplacedByTheKeepers_andNoLiveSourceMeansWaiting() throws {
        let ring = try plan()
        var transfers = IncomingTransfers(name: "n4", concurrency: 64)
        let started = pulls(transfers.onRing(ring, down: ["n1", "n2", "n3"], now: 0))
        #expect(started.isEmpty)
        #expect(transfers.partitions.values.allSatisfy { if case .waiting = $0.phase { true } else { false } })
        let resumed = pulls(transfers.onRing(ring, down: ["n1"], now: 2 * Self.second))
        #expect(!resumed.isEmpty)
        #expect(resumed.allSatisfy { $0.1 != "n1" })
    }

    @Test func aStartDelay_holdsTheCopiesWhileThePlanSpreads() throws {
        let ring = try plan()
        var transfers = IncomingTransfers(name: "n4", startDelay: 2 * Self.second)
        #expect(pulls(transfers.onRing(ring, down: [], now: 0)).isEmpty)
        #expect(pulls(transfers.onTick(now: Self.second)).isEmpty)
        #expect(!pulls(transfers.onTick(now: 2 * Self.second)).isEmpty)
    }

    @Test func theLosingReplicaHandsOverAlone_butWhenItIsDownEveryKeepingReplicaIsCopied() throws {
        let ring = try plan()
        let partition = ring.gains(of: "n4")[0]
        let current = Set(ring.preferenceList(partition: partition).map(\.name))
        let keeping = current.intersection(ring.future.preferenceList(partition: partition).map(\.name))
        let loser = try #require(current.subtracting(keeping).first)

        var handover = IncomingTransfers(name: "n4", concurrency: 64)
        let first = pulls(handover.onRing(ring, down: [], now: 0)).first { $0.0 == partition }
        #expect(first?.1 == loser)
        #expect(handover.partitions[partition]?.sources == [loser])

        var degraded = IncomingTransfers(name: "n4", concurrency: 64)
        let started = pulls(degraded.onRing(ring, down: [loser], now: 0))
        let source = try #require(started.first { $0.0 == partition }?.1)
        #expect(keeping.contains(source))
        #expect(Set(degraded.partitions[partition]?.sources ?? []) == keeping)
        // The first keeping replica done, the copy goes on with the next before the partition counts as done.
        let next = pulls(
            degraded.onBatch(partition: partition, last: nil, finished: true, keys: 1, bytes: 1, remaining: 0, now: 1))
        let second = try #require(next.first { $0.0 == partition })
        #expect(second.1 != source && keeping.contains(second.1) && second.2 == nil)
        #expect(degraded.partitions[partition]?.phase != .done)
        _ = degraded.onBatch(partition: partition, last: nil, finished: true, keys: 1, bytes: 1, remaining: 0, now: 2)
        #expect(degraded.partitions[partition]?.phase == .done)
    }

    /// A partition whose list loses two of its replicas to `n4` and `n5` joining at once.
    private func twoLosers() throws -> (Ring, partition: Int, receiver: String, losers: Set<String>) {
        let ring = try Ring.formed(
            clusterID: 3, partitionCount: 64, replicas: 3, members: ["n1", "n2", "n3"].map(member))
        let plan = try ring.planning([.join(member("n4")), .join(member("n5"))])
        for partition in 0..<plan.partitionCount {
            let current = Set(plan.preferenceList(partition: partition).map(\.name))
            let next = Set(plan.future.preferenceList(partition: partition).map(\.name))
            let losers = current.subtracting(next)
            if losers.count == 2, let receiver = next.subtracting(current).sorted().first {
                return (plan, partition, receiver, losers)
            }
        }
        throw RingError.nothingStaged
    }

    @Test func twoLosersOfOneList_bothReceiversCopyFromEveryCurrentReplica() throws {
        let (ring, partition, receiver, losers) = try twoLosers()
        var transfers = IncomingTransfers(name: receiver, concurrency: 64)
        _ = transfers.onRing(ring, down: [], now: 0)
        let sources = try #require(transfers.partitions[partition]?.sources)
        #expect(Set(sources) == Set(ring.preferenceList(partition: partition).map(\.name)))
        #expect(Set(sources.prefix(2)) == losers, "the losers first")
    }

    /// Without the loser, a write acknowledged by two replicas may be on one keeper alone: a copy from several
    /// replicas waits for a down one and says so, and goes on from it when it returns.
    @Test func aDownSourceAmongSeveral_isWaitedFor_andReported() throws {
        let (ring, partition, receiver, _) = try twoLosers()
        let sources = ring.sources(partition: partition, for: receiver)
        var transfers = IncomingTransfers(name: receiver, concurrency: 64)
        #expect(pulls(transfers.onRing(ring, down: [sources[1]], now: 0)).first { $0.0 == partition }?.1 == sources[0])
        let next = pulls(
            transfers.onBatch(partition: partition, last: nil, finished: true, keys: 1, bytes: 1, remaining: 0, now: 1))
        #expect(!next.contains { $0.0 == partition }, "the second source is down: no pull")
        #expect(transfers.partitions[partition]?.waitingFor == sources[1])
        #expect(transfers.partitions[partition]?.phase != .done)
        let resumed = pulls(transfers.onRing(ring, down: [], now: 2 * Self.second))
        #expect(resumed.first { $0.0 == partition }.map { $0.1 == sources[1] && $0.2 == nil } == true)
        #expect(transfers.partitions[partition]?.waitingFor == nil)
    }
}
