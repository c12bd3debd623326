import Foundation
import Testing

/// Behaviour when nodes are missing: a killed replica, and a node started alone.
@Suite(.serialized)
struct FailureTests {
    @Test func quorumSurvivesAKilledNodeButAllDoesNot() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let url = "/v1/kv/failover/k"
        #expect(try await HTTP.send(.PUT, cluster[0].httpURL + url, text: "before").status == 204)

        cluster[2].kill()

        let read = try await HTTP.send(.GET, cluster[0].httpURL + url)
        let context = try #require(read.headers.first(name: "X-Dhrt-Context"))
        let put = try await HTTP.send(
            .PUT, cluster[0].httpURL + url, text: "after",
            headers: [("X-Dhrt-W", "quorum"), ("X-Dhrt-Context", context)])
        #expect(put.status == 204)
        let get = try await HTTP.send(.GET, cluster[1].httpURL + url, headers: [("X-Dhrt-R", "quorum")])
        #expect(get.status == 200)
        #expect(get.text == "after")

        let readAll = try await HTTP.send(.GET, cluster[0].httpURL + url, headers: [("X-Dhrt-Consistency", "all")])
        #expect(readAll.status == 503)
        #expect(readAll.object["error"] as? String == "unavailable")
        #expect((readAll.object["detail"] as? String)?.contains("n3") == true, "\(readAll.text)")
        let writeAll = try await HTTP.send(
            .PUT, cluster[1].httpURL + url, text: "all", headers: [("X-Dhrt-Consistency", "all")])
        #expect(writeAll.status == 503)
    }

    @Test func aNodeStartedAloneServesAndWarnsAboutReplication() async throws {
        let cluster = try await LocalCluster.start(size: 1)
        defer { cluster.stop() }
        let node = cluster[0]
        let put = try await HTTP.send(.PUT, "\(node.httpURL)/v1/kv/solo/k", text: "v", headers: [("X-Dhrt-W", "all")])
        #expect(put.status == 204)
        #expect(put.headers.first(name: "X-Dhrt-Replicas") == "n1")
        #expect(try await HTTP.send(.GET, "\(node.httpURL)/v1/kv/solo/k").text == "v")
        let status = try await HTTP.send(.GET, "\(node.httpURL)/v1/status")
        #expect((status.object["warnings"] as? [String])?.first?.contains("below N") == true)
    }

    @Test func nodesOutsideThePreferenceListForwardWritesAndStillRead() async throws {
        let cluster = try await LocalCluster.start(size: 3, extra: ["--n", "2"])
        defer { cluster.stop() }
        var forwarded = 0
        for index in 0..<12 {
            let writer = cluster[index % 3]
            let put = try await HTTP.send(
                .PUT, "\(writer.httpURL)/v1/kv/narrow/key\(index)", text: "v\(index)", headers: [("X-Dhrt-W", "all")])
            #expect(put.status == 204)
            let replicas = put.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",").map(String.init) ?? []
            #expect(replicas.count == 2)
            if !replicas.contains(writer.name) { forwarded += 1 }
            for reader in cluster.nodes {
                let get = try await HTTP.send(.GET, "\(reader.httpURL)/v1/kv/narrow/key\(index)")
                #expect(get.text == "v\(index)")
            }
        }
        #expect(forwarded > 0, "some writes should have been coordinated by another node")
    }

    @Test func aPeerWithOtherRingParametersIsRefused() async throws {
        let cluster = try await LocalCluster.start(size: 1)
        defer { cluster.stop() }
        let ports = try LocalPorts.free(2)
        let stranger = try NodeProcess(
            name: "odd", httpPort: ports[0], clusterPort: ports[1], seeds: [cluster[0].clusterAddress],
            directory: cluster.directory, extra: ["--partitions", "64"])
        defer { stranger.kill() }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !stranger.logTail(50).contains("ring parameters differ") {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(stranger.logTail(50).contains("ring parameters differ"))
        let status = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/status")
        #expect((status.object["members"] as? [Any])?.count == 1)
    }
}
