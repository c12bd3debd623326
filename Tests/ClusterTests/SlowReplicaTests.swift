import Foundation
import Testing

/// A replica that stops answering without closing its connections (SIGSTOP) must neither fail nor stall
/// reads and writes that need fewer replicas than remain: reads ask only R replicas and speculate on the
/// next one; writes need W acknowledgements, not all.
@Suite(.serialized)
struct SlowReplicaTests {
    static let keys = (0..<12).map { "k\($0)" }

    @Test func aFrozenReplica_stallsNoReadOrWriteThatTheOthersCanServe() async throws {
        // Nodes wait 5 s for a replica; anything near that means the read waited for the frozen one.
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let url = "/v1/kv/frozen/"
        for key in Self.keys {
            let put = try await HTTP.send(
                .PUT, cluster[0].httpURL + url + key, text: key, headers: [("X-Dhrt-W", "all")])
            #expect(put.status == 204)
        }
        // Every node learns every peer's usual latency first.
        for node in cluster.nodes {
            for key in Self.keys {
                _ = try await HTTP.send(.GET, node.httpURL + url + key, headers: [("X-Dhrt-R", "all")])
            }
        }

        let frozen = cluster[2]
        frozen.pause()
        defer { frozen.resume() }
        for reader in cluster.nodes.prefix(2) {
            for level in ["1", "quorum"] {
                for key in Self.keys {
                    let started = ContinuousClock.now
                    let get = try await HTTP.send(.GET, reader.httpURL + url + key, headers: [("X-Dhrt-R", level)])
                    let took = ContinuousClock.now - started
                    #expect(get.status == 200, "R=\(level) \(key) via \(reader.name): \(get.text)")
                    #expect(get.text == key)
                    #expect(took < .milliseconds(2500), "R=\(level) \(key) via \(reader.name) took \(took)")
                }
            }
        }
        let started = ContinuousClock.now
        let put = try await HTTP.send(
            .PUT, cluster[0].httpURL + url + "new", text: "v", headers: [("X-Dhrt-W", "quorum")])
        #expect(put.status == 204)
        #expect(ContinuousClock.now - started < .milliseconds(2500))
        let all = try await HTTP.send(.GET, cluster[0].httpURL + url + "k0", headers: [("X-Dhrt-R", "all")])
        #expect(all.status == 503, "R=all cannot be met while a replica is frozen")
    }

    /// The two ways a request fails, in the node as in the simulator: a silent replica by the machine's deadline
    /// (`onTimeout`, "timed out"), a replica that answers with an error (here a refused connection) by the
    /// machine's failure event, naming the replica, without waiting for the deadline.
    @Test func aSilentReplicaFailsARequestAtItsDeadline_aRefusingOneByItsError() async throws {
        let cluster = try await LocalCluster.start(size: 3, extra: ["--timeout-ms", "1000"])
        defer { cluster.stop() }
        let url = cluster[0].httpURL + "/v1/kv/deadline/k"
        let first = try await HTTP.send(.PUT, url, text: "v", headers: [("X-Dhrt-W", "all")])
        #expect(first.status == 204, "\(first.text)")
        let victim = cluster[2]
        victim.pause()
        for attempt in 0..<3 {
            let put = try await HTTP.send(.PUT, url, text: "w\(attempt)", headers: [("X-Dhrt-W", "all")])
            #expect(put.status == 503, "\(put.text)")
            #expect((put.object["detail"] as? String ?? "").hasPrefix("write timed out"), "\(put.text)")
            let get = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
            #expect(get.status == 503, "\(get.text)")
            #expect((get.object["detail"] as? String ?? "").hasPrefix("read timed out"), "\(get.text)")
        }
        victim.resume()
        victim.kill()
        let put = try await HTTP.send(.PUT, url, text: "x", headers: [("X-Dhrt-W", "all")])
        #expect(put.status == 503, "\(put.text)")
        let putDetail = put.object["detail"] as? String ?? ""
        #expect(putDetail.hasPrefix("write needs 3 of 3 replicas"), "\(put.text)")
        #expect(putDetail.contains("\(victim.name): "), "the failure names the replica: \(putDetail)")
        let get = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
        #expect(get.status == 503, "\(get.text)")
        let getDetail = get.object["detail"] as? String ?? ""
        #expect(getDetail.hasPrefix("read needs 3 of 3 replicas"), "\(get.text)")
        #expect(getDetail.contains("\(victim.name): "), "the failure names the replica: \(getDetail)")
    }
}
