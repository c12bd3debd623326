import Foundation
import Logging
import NIOCore
import Testing
import Wire

/// Ring changes need a majority of the voters, and replicas refuse requests their newer ring says are wrong.
@Suite(.serialized) struct ConsensusTests {
    /// Before the metadata log, a node cut off from the others was its own claimant and committed alone.
    @Test func aMemberWithoutAMajority_refusesRingChanges_whileTheMajorityCommitsItsOwn() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let (n1, n2, n3) = (cluster[0], cluster[1], cluster[2])
        let before = try await RingDoc.fetch(n1)

        // n1 alone: two of three voters frozen.
        n2.pause()
        n3.pause()
        try await Task.sleep(for: .milliseconds(1500))
        let leave = try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/leave?node=n3", timeout: .seconds(20))
        let commit = try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/commit", timeout: .seconds(20))
        let refused = [leave, commit].first { $0.status != 200 }
        let answer = try #require(refused, "a lone member must not change the ring: \(commit.text)")
        #expect(answer.status == 503, "\(answer.text)")
        #expect(["no_leader", "no_quorum"].contains(answer.object["error"] as? String), "\(answer.text)")
        n2.resume()
        n3.resume()
        #expect(try await RingDoc.fetch(n1).epoch == before.epoch, "nothing was committed")

        // n1 frozen: n2 and n3 are a majority and change the ring.
        try await Task.sleep(for: .seconds(1))
        n1.pause()
        // As an operator would: try again while the majority elects a leader (503 until then).
        let committed = try await poll(.seconds(60), "the majority did not commit") { () async throws -> HTTPReply? in
            let staged = try await HTTP.send(.POST, "\(n2.httpURL)/v1/cluster/leave?node=n3", timeout: .seconds(20))
            guard staged.status == 200 else { return nil }
            let commit = try await HTTP.send(.POST, "\(n2.httpURL)/v1/cluster/commit", timeout: .seconds(20))
            return commit.status == 200 ? commit : nil
        }
        #expect(committed.status == 200, "\(committed.text)")
        // Followers learn of a commit with the leader's next append (within a heartbeat).
        let planned = try await poll(.seconds(10), "n3 did not take the committed ring") {
            let ring = try await RingDoc.fetch(n3)
            return ring.epoch > before.epoch ? ring : nil
        }
        #expect(planned.state["n3"] == "leaving")
        n1.resume()
        // The frozen member catches up with the majority's ring, not the other way round.
        let caughtUp = try await poll(.seconds(30), "n1 did not take the committed ring") {
            let ring = try await RingDoc.fetch(n1)
            return ring.epoch >= planned.epoch ? ring : nil
        }
        #expect(caughtUp.state["n3"] != "up")
    }

    /// A replica on a newer ring refuses a write for a key it does not hold instead of storing it; one that
    /// holds the key, or a sender of the older layout without an epoch, is served.
    @Test func aReplicaOnANewerRing_refusesAStaleWriteForAKeyItDoesNotHold() async throws {
        let cluster = try await LocalCluster.start(size: 4)
        defer { cluster.stop() }
        let ring = try await RingDoc.fetch(cluster[0])
        let put = try await HTTP.send(
            .PUT, "\(cluster[0].httpURL)/v1/kv/fence/k", text: "v", headers: [("X-Dhrt-W", "all")])
        #expect(put.status == 204)
        let replicas = put.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",").map(String.init) ?? []
        #expect(replicas.count == 3)
        let outsider = try #require(cluster.nodes.first { !replicas.contains($0.name) })
        let holder = try #require(cluster.nodes.first { replicas.contains($0.name) })
        let object = try await storedObject(on: holder)

        let stale = UInt64(ring.epoch - 1)
        let refused = try await replicaPut(object, epoch: stale, to: outsider)
        #expect(refused.flags & FrameFlag.error != 0, "a stale write to a non-replica is refused")
        let reply = ErrorReply.decode(refused.payload)
        #expect(reply.code == "ring_moved")
        #expect(reply.detail == "\(ring.epoch)")
        #expect(try await storedObjectOrNil(on: outsider) == nil, "nothing was stored")

        let served = try await replicaPut(object, epoch: stale, to: holder)
        #expect(served.flags & FrameFlag.error == 0, "a replica that holds the key takes it")
        let current = try await replicaPut(object, epoch: UInt64(ring.epoch), to: outsider)
        #expect(current.flags & FrameFlag.error == 0, "a coordinator on the same ring is not fenced")

        let metrics = try await HTTP.send(.GET, "\(outsider.httpURL)/metrics")
        #expect(metrics.text.contains("dhrt_fenced_requests_total 1"), "\(metrics.text.prefix(400))")
    }

    private func client(_ node: NodeProcess) throws -> WireClient {
        WireClient(address: try WireAddress(parsing: node.clusterAddress), logger: Logger(label: "t"))
    }

    private func replicaPut(_ object: [UInt8], epoch: UInt64, to node: NodeProcess) async throws -> Frame {
        let client = try client(node)
        defer { Task { await client.shutdown() } }
        return try await client.request(
            type: MessageType.replicaPut.rawValue,
            payload: ReplicaPut(collection: "fence", key: Array("k".utf8), object: object, epoch: epoch).encoded(),
            timeout: .seconds(10))
    }

    private func storedObjectOrNil(on node: NodeProcess) async throws -> [UInt8]? {
        let client = try client(node)
        defer { Task { await client.shutdown() } }
        let got = try await client.request(
            type: MessageType.replicaGet.rawValue,
            payload: ReplicaGet(collection: "fence", key: Array("k".utf8)).encoded(), timeout: .seconds(10))
        return try ReplicaGetReply.decode(got.payload).object
    }

    private func storedObject(on node: NodeProcess) async throws -> [UInt8] {
        try #require(try await storedObjectOrNil(on: node))
    }
}
