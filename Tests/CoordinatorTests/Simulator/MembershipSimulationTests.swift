import Ring
import Testing

@testable import Coordinator

/// Joins and a leave under writes, crashes, restarts and message loss, over many seeds.
@Suite struct MembershipSimulationTests {
    @Test(arguments: Array(UInt64(1)...24))
    func plansComplete_ringsConverge_andNoAcknowledgedWriteLosesItsQuorum(seed: UInt64) {
        let simulation = MembershipSimulation(seed: seed)
        simulation.start()
        simulation.run(until: 45_000 * MembershipSimulation.ms)
        simulation.writesEnabled = false
        simulation.crashesEnabled = false
        // Whoever is down comes back; the plans finish and gossip settles.
        simulation.run(until: 120_000 * MembershipSimulation.ms)

        #expect(simulation.acked.count > 500, "the run must acknowledge writes for the invariants to mean anything")
        #expect(Set(simulation.rings).count == 1, "rings did not converge to one")
        let ring = try! #require(simulation.nodes["n1"]?.ring)
        #expect(ring.pending.isEmpty, "transfers did not complete")
        #expect(ring.member(named: "n4")?.state == .up)
        #expect(ring.member(named: "n5")?.state == .up)
        #expect(ring.member(named: "n2")?.state == .left)
        for partition in 0..<ring.partitionCount {
            #expect(ring.owner(ofPartition: partition).state == .up, "partition \(partition) has no live owner")
        }
        let lost = simulation.underReplicated()
        #expect(lost.isEmpty, "\(lost.count) acknowledged writes on fewer than 2 replicas, e.g. \(lost.prefix(3))")
    }
}
