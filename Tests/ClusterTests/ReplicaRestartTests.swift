import Foundation
import Testing

extension FailureScenarios {
    /// A replica that was down while the others took writes and deletes is brought in line by reads.
    @Suite(.serialized)
    struct ReplicaRestartTests {
        @Test func aReplicaBackFromDowntimeIsRepairedByReads_andDeletedKeysStayDeleted() async throws {
            let cluster = try await LocalCluster.start(size: 3)
            defer { cluster.stop() }
            let (n1, n2, n3) = (cluster[0], cluster[1], cluster[2])
            let url = "\(n1.httpURL)/v1/kv/downtime/"
            for key in ["probe", "gone", "changed"] {
                #expect(
                    try await HTTP.send(.PUT, url + key, text: "before", headers: [("X-Dhrt-W", "all")]).status == 204)
            }
            n3.kill()
            #expect(try await HTTP.send(.PUT, url + "fresh", text: "new").status == 204)
            #expect(try await HTTP.send(.DELETE, url + "gone").status == 204)
            let read = try await HTTP.send(.GET, url + "changed")
            let context = try #require(read.headers.first(name: "X-Dhrt-Context"))
            #expect(
                try await HTTP.send(.PUT, url + "changed", text: "after", headers: [("X-Dhrt-Context", context)]).status
                    == 204)

            let back = try n3.restart()
            defer { back.kill() }
            // n1 reaches n3 again once its reconnect pause is over; until then R=all is a 503.
            try await Self.until("n1 reaches the restarted n3") {
                (try? await HTTP.send(.GET, url + "probe", headers: [("X-Dhrt-R", "all")]))?.status == 200
            }
            let expected: [(key: String, status: Int, text: String?)] = [
                ("fresh", 200, "new"), ("gone", 404, nil), ("changed", 200, "after"),
            ]
            for (key, status, text) in expected {
                let first = try await HTTP.send(.GET, url + key, headers: [("X-Dhrt-R", "all")])
                #expect(first.status == status, "\(key): \(first.text)")
                if let text { #expect(first.text == text) }
                #expect(Int(first.headers.first(name: "X-Dhrt-Repaired") ?? "") ?? 0 >= 1, "\(key): n3 was stale")
                // The repair goes out after the reply; once it landed, every replica agrees.
                try await Self.until("the repair of \(key) lands") {
                    let again = try? await HTTP.send(.GET, url + key, headers: [("X-Dhrt-R", "all")])
                    return again?.status == status && again?.headers.first(name: "X-Dhrt-Repaired") == "0"
                }
            }
            // n3 alone now answers like the cluster did.
            n1.kill()
            n2.kill()
            for (key, status, text) in expected {
                let alone = try await HTTP.send(
                    .GET, "\(back.httpURL)/v1/kv/downtime/\(key)", headers: [("X-Dhrt-R", "1")])
                #expect(alone.status == status, "\(key) on n3 alone: \(alone.text)")
                if let text { #expect(alone.text == text) }
            }
        }

        static func until(_ what: String, within limit: Duration = .seconds(60), _ condition: () async -> Bool)
            async throws
        {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if await condition() { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw HarnessError("\(what): not within \(limit)")
        }
    }
}

/// The failure scenarios start and kill whole clusters; one at a time, so that they do not all start nodes at
/// once on a loaded machine and starve the timing-sensitive suites that run beside them.
@Suite(.serialized) enum FailureScenarios {}
