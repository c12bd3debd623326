import AsyncHTTPClient
import Foundation
import Testing

/// Plans that change while they run: a dead joiner is force-removed mid-plan, a plan is aborted, and writes to
/// the moving ranges keep their quorum while a receiver is dead.
@Suite(.serialized) struct PlanChangeTests {
    /// Small batches, one partition at a time: slow enough to be caught in the middle.
    static let slow = ["--transfer-batch-bytes", "1024", "--transfer-concurrency", "1"]

    @Test func aDeadJoiner_isForceRemovedMidPlan_withAReplicaDown_andWritesThenKeepTheirQuorum() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let (n1, n2, n3) = (cluster[0], cluster[1], cluster[2])
        try await Load.write(3_000, prefix: "d", to: cluster.nodes, value: String(repeating: "x", count: 200))
        let joiner = try await Self.joinSlowly(cluster, through: n1)
        defer { joiner.kill() }
        // The joiner dies with its data, and one more replica stops.
        joiner.kill()
        try? FileManager.default.removeItem(atPath: "\(cluster.directory)/n4")
        n3.kill()
        _ = try await Handoff.waitUntilSeen("n4", as: "down", by: [n1, n2])
        _ = try await Handoff.waitUntilSeen("n3", as: "down", by: [n1, n2])
        let before = try await RingDoc.fetch(n1)
        #expect(!before.pending.isEmpty, "the plan is still pending")

        // Force-removed while its plan is pending, the dead joiner's change folds into the plan: nothing is left
        // of it, so the ring goes back to its owners. n1 and n2 are a majority of the voters.
        let staged = try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/force-remove?node=n4")
        #expect(staged.status == 200, "\(staged.text)")
        let committed = try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/commit")
        #expect(committed.status == 200, "\(committed.text)")
        let settled = try await RingDoc.waitUntilSettled(on: n1, members: 3, after: before.epoch, timeout: .seconds(60))
        #expect(settled.state["n4"] == nil)
        #expect(Set(settled.owners) == ["n1", "n2", "n3"])

        // W=quorum with n3 still down: n1 and n2 suffice on every key again.
        var failed: [String] = []
        for index in 1...200 {
            let reply = try await HTTP.send(.PUT, "\(n1.httpURL)/v1/kv/load/w\(index)", text: "w\(index)")
            if reply.status != 204 { failed.append("w\(index): \(reply.status) \(reply.text.prefix(200))") }
        }
        #expect(failed.isEmpty, "\(failed.count) of 200 writes failed, e.g. \(failed.prefix(3))")
        let restarted = try n3.restart()
        defer { restarted.kill() }
        _ = try await Handoff.waitUntilSeenUp("n3", by: [n1, n2])
        try await Load.verify(3_000, prefix: "d", on: [n1, n2, restarted], value: String(repeating: "x", count: 200))
        try await Self.verifyWrites(200, on: [n1, n2, restarted])
    }

    @Test func planAbort_givesThePlanUp_andTheOwnersStay_andNothingIsLost() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let n1 = cluster[0]
        try await Load.write(2_000, prefix: "a", to: cluster.nodes, value: String(repeating: "y", count: 200))
        let original = try await RingDoc.fetch(n1)
        let joiner = try await Self.joinSlowly(cluster, through: n1)
        defer { joiner.kill() }
        let aborted = try await HTTP.send(.POST, "\(cluster[1].httpURL)/v1/cluster/abort")
        #expect(aborted.status == 200, "\(aborted.text)")
        let settled = try await RingDoc.waitUntilSettled(
            on: n1, members: 3, after: original.epoch, timeout: .seconds(60))
        #expect(settled.owners == original.owners)
        #expect(settled.state["n4"] == nil)
        // Nothing pending is left to abort.
        let again = try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/abort")
        #expect(again.status == 409, "\(again.text)")
        try await Load.verify(2_000, prefix: "a", on: cluster.nodes, value: String(repeating: "y", count: 200))
    }

    /// Starts n4 joining through `seed` with slow copies, and returns once it copied a tenth of its partitions.
    static func joinSlowly(_ cluster: LocalCluster, through seed: NodeProcess) async throws -> NodeProcess {
        let ports = try LocalPorts.free(2)
        let joiner = try NodeProcess(
            name: "n4", httpPort: ports[0], clusterPort: ports[1], seeds: [], directory: cluster.directory,
            extra: ["--join", seed.clusterAddress] + slow)
        do {
            _ = try await Transfers.waitForProgress(on: joiner, share: 0.1, timeout: .seconds(60))
        } catch {
            joiner.kill()
            throw error
        }
        return joiner
    }

    static func verifyWrites(_ count: Int, on nodes: [NodeProcess]) async throws {
        var wrong: [String] = []
        for index in 1...count {
            let node = nodes[index % nodes.count]
            let reply = try await HTTP.send(.GET, "\(node.httpURL)/v1/kv/load/w\(index)")
            if reply.text != "w\(index)" { wrong.append("w\(index) on \(node.name): \(reply.status)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of \(count) acknowledged writes unreadable, e.g. \(wrong.prefix(3))")
    }
}
