import Foundation
import Testing

/// Reads ask R replicas; a sampled share (`--read-repair-chance`) asks all and repairs the stale ones.
@Suite(.serialized)
struct ReadRepairTests {
    /// n3 misses a write while it is down. An R=1 read at n1 then repairs n3 only if it asked every replica.
    @Test(arguments: ["0", "1"])
    func anROneRead_repairsAReplicaItDidNotNeed_onlyWhenSampled(chance: String) async throws {
        let cluster = try await LocalCluster.start(size: 3, extra: ["--read-repair-chance", chance])
        defer { cluster.stop() }
        let (n1, n2, n3) = (cluster[0], cluster[1], cluster[2])
        let url = "/v1/kv/repair/"
        #expect(
            try await HTTP.send(.PUT, n1.httpURL + url + "probe", text: "p", headers: [("X-Dhrt-W", "all")]).status
                == 204)
        n3.kill()
        #expect(
            try await HTTP.send(.PUT, n1.httpURL + url + "k", text: "v", headers: [("X-Dhrt-W", "quorum")]).status
                == 204)

        let restarted = try NodeProcess(
            name: n3.name, httpPort: n3.httpPort, clusterPort: n3.clusterPort, seeds: [n1.clusterAddress],
            directory: cluster.directory, extra: ["--read-repair-chance", chance])
        defer { restarted.kill() }
        // Until n1 reaches the restarted n3 again (its reconnect pause ends), R=all cannot succeed.
        let deadline = ContinuousClock.now + .seconds(60)
        var reachable = false
        while !reachable, ContinuousClock.now < deadline {
            let probe = try? await HTTP.send(.GET, n1.httpURL + url + "probe", headers: [("X-Dhrt-R", "all")])
            reachable = probe?.status == 200
            if !reachable { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(reachable, "n1 never reached the restarted n3:\n\(restarted.logTail())")

        let read = try await HTTP.send(.GET, n1.httpURL + url + "k", headers: [("X-Dhrt-R", "1")])
        #expect(read.status == 200)
        // The repair is sent after the reply; give it a moment, then ask n3 alone.
        try await Task.sleep(for: .milliseconds(500))
        n1.kill()
        n2.kill()
        let alone = try await HTTP.send(.GET, restarted.httpURL + url + "k", headers: [("X-Dhrt-R", "1")])
        if chance == "1" {
            #expect(alone.status == 200, "the sampled full read should have repaired n3: \(alone.text)")
            #expect(alone.text == "v")
        } else {
            #expect(alone.status == 404, "an R=1 read must not have asked n3: \(alone.text)")
        }
    }
}
