import Testing

@testable import Coordinator

/// Many concurrent clients against simulated replicas over a seeded network; invariants over many seeds.
/// Serialized: its cases are pure CPU, and run in parallel they would hold every cooperative thread for a
/// while, starving the cluster suites' bounded waits that run beside them.
@Suite(.serialized) struct SimulatorTests {
    static let seeds: [UInt64] = Array(1...40)

    func checkCommonInvariants(_ cluster: SimulatedCluster) {
        // Every request answered exactly once (timeouts included, the network drains).
        #expect(cluster.repliesPerRequest.count == Int(cluster.nextRequestID))
        #expect(cluster.repliesPerRequest.values.allSatisfy { $0 == 1 })
        // Nothing is left in flight.
        #expect(cluster.nodes.values.allSatisfy { $0.inFlight == 0 })
    }

    func checkNoAcknowledgedWriteLost(_ cluster: SimulatedCluster) {
        // The invariant means something only if writes were acknowledged and reads came after them.
        #expect(!cluster.ackedWrites.isEmpty, "no write was acknowledged")
        let checked = cluster.completedReads.filter { read in
            cluster.ackedWrites.contains { $0.key == read.key && $0.ackedAt <= read.startedAt }
        }
        #expect(!checked.isEmpty, "no read followed an acknowledged write of its key")
        for read in cluster.completedReads {
            for write in cluster.ackedWrites where write.key == read.key && write.ackedAt <= read.startedAt {
                #expect(read.result.object.context.contains(write.dot), "read of \(read.key) lost \(write.dot)")
            }
        }
    }

    func checkConverged(_ cluster: SimulatedCluster) {
        for key in cluster.keys {
            let replicas = cluster.preferenceList(key)
            let copies = replicas.map { cluster.nodes[$0]!.store[key] }
            #expect(Set(copies).count == 1, "replicas of \(key) diverge after repair")
            // Converged on the history, not merely equal: every acknowledged write of the key is covered.
            for write in cluster.ackedWrites where write.key == key {
                for (name, copy) in zip(replicas, copies) {
                    #expect(copy?.context.contains(write.dot) == true, "\(name) lost \(write.dot) of \(key)")
                }
            }
        }
    }

    @Test(arguments: seeds)
    func quorumsThatOverlapNeverLoseAnAcknowledgedWrite(seed: UInt64) {
        let cluster = SimulatedCluster(seed: seed)
        cluster.run()
        #expect(!cluster.ackedWrites.isEmpty)
        checkCommonInvariants(cluster)
        checkNoAcknowledgedWriteLost(cluster)
        cluster.healAndRepairEverything()
        checkConverged(cluster)
    }

    @Test(arguments: seeds)
    func aLossyNetworkFailsRequestsButNeverLosesAcknowledgedWrites(seed: UInt64) {
        let cluster = SimulatedCluster(
            seed: seed,
            network: NetworkConditions(dropRate: 0.1, delay: 1...60)
        )
        cluster.run()
        #expect(cluster.failedRequests > 0, "a lossy network should fail some requests")
        // Lost messages are never answered: only the machines' deadlines fail requests.
        #expect(cluster.failedByDeadline == cluster.failedRequests)
        checkCommonInvariants(cluster)
        checkNoAcknowledgedWriteLost(cluster)
        cluster.healAndRepairEverything()
        checkConverged(cluster)
    }

    @Test(arguments: seeds.prefix(20))
    func replicasAnsweringErrorsFailRequestsBeforeTheirDeadline_andNeverLoseAcknowledgedWrites(seed: UInt64) {
        // Nothing is lost and every round trip is far shorter than the deadline: only error replies, fed to the
        // machines as the node feeds them (`onFailure`, `onReply(.failure)`), can fail a request.
        let cluster = SimulatedCluster(seed: seed, network: NetworkConditions(delay: 1...20, errorRate: 0.3))
        cluster.run()
        #expect(cluster.failedByErrors > 0, "error replies should fail some requests")
        #expect(cluster.failedByDeadline == 0, "no request should wait for its deadline")
        checkCommonInvariants(cluster)
        checkNoAcknowledgedWriteLost(cluster)
        cluster.healAndRepairEverything()
        checkConverged(cluster)
    }

    @Test(arguments: seeds.prefix(20))
    func errorRepliesAndLostMessagesTogether_failBothWays_andNeverLoseAcknowledgedWrites(seed: UInt64) {
        let cluster = SimulatedCluster(
            seed: seed, operationsPerClient: 40,
            network: NetworkConditions(dropRate: 0.05, delay: 1...40, isolations: 2, errorRate: 0.1))
        cluster.run()
        #expect(cluster.failedByErrors + cluster.failedByDeadline == cluster.failedRequests)
        checkCommonInvariants(cluster)
        checkNoAcknowledgedWriteLost(cluster)
        cluster.healAndRepairEverything()
        checkConverged(cluster)
    }

    @Test(arguments: seeds)
    func isolatedNodesFailRequestsButNeverLoseAcknowledgedWrites(seed: UInt64) {
        let cluster = SimulatedCluster(
            seed: seed,
            operationsPerClient: 40,
            network: NetworkConditions(dropRate: 0.02, delay: 1...30, isolations: 3)
        )
        cluster.run()
        checkCommonInvariants(cluster)
        checkNoAcknowledgedWriteLost(cluster)
        cluster.healAndRepairEverything()
        checkConverged(cluster)
    }

    @Test(arguments: [(1, 1), (1, 3), (3, 1), (3, 3)], Array(seeds.prefix(10)))
    func everyQuorumChoiceConvergesAfterRepair(rw: (Int, Int), seed: UInt64) {
        let cluster = SimulatedCluster(
            seed: seed,
            r: rw.0,
            w: rw.1,
            network: NetworkConditions(dropRate: 0.05, delay: 1...40)
        )
        cluster.run()
        checkCommonInvariants(cluster)
        if rw.0 + rw.1 > cluster.n { checkNoAcknowledgedWriteLost(cluster) }
        cluster.healAndRepairEverything()
        checkConverged(cluster)
    }

    @Test(arguments: seeds)
    func clientsThatWriteWithTheirContextKeepSiblingsBounded(seed: UInt64) {
        let cluster = SimulatedCluster(seed: seed, clients: 3, blindWrites: false)
        cluster.run()
        cluster.healAndRepairEverything()
        // Each client supersedes what it read, so at most one live sibling per client survives.
        #expect(cluster.maxLiveSiblings <= 3)
        checkConverged(cluster)
    }
}

@Suite struct HandoffSimulationTests {
    /// A replica down for a seeded stretch: every write acknowledged meanwhile reaches it once it is back, through
    /// hints alone (nothing reads), and no hint is left behind.
    @Test(arguments: 1...40)
    func everyAcknowledgedWriteReachesAReplicaThatWasDown_withoutAnyRead(seed: UInt64) {
        let simulation = HandoffSimulation(seed: seed)
        simulation.run()
        #expect(simulation.replies == simulation.started, "one reply per write")
        #expect(simulation.acked.count > simulation.started / 2, "most writes succeed at W=2 with one node down")
        let victim = simulation.victim
        var missing: [String] = []
        for (key, dot) in simulation.acked where simulation.replicas(key).contains(victim) {
            let stored = simulation.nodes[victim]!.store[key] ?? VersionedObject()
            if stored.context[dot.actor] < dot.counter { missing.append("\(key) \(dot)") }
        }
        #expect(
            missing.isEmpty,
            "seed \(seed): \(victim) lacks \(missing.count) acknowledged writes, e.g. \(missing.prefix(3))")
        for name in simulation.names {
            #expect(simulation.nodes[name]!.hints.isEmpty, "seed \(seed): \(name) still holds hints")
        }
    }
}
