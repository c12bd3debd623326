import Foundation
import Testing

extension FailureScenarios {
    /// Concurrent compare-and-swaps on one key. Through one coordinator, its key lock lets exactly one win.
    /// Through different coordinators each checks its own copy, so several may win: then every winner is kept as
    /// a sibling and no loser is stored (Docs/API.md, Consistency notes).
    @Suite(.cluster, .serialized)
    struct ConditionalWriteTests {
        var cluster: LocalCluster { LocalCluster.current! }

        /// Writes `initial`, then races one `If-Match` PUT per writer; returns the statuses and the values stored.
        func race(key: String, writers: [NodeProcess]) async throws -> (winners: Set<String>, stored: Set<String>) {
            let url = "/v1/kv/cas/\(key)"
            #expect(
                try await HTTP.send(.PUT, cluster[0].httpURL + url, text: "initial", headers: [("X-Dhrt-W", "all")])
                    .status
                    == 204)
            let read = try await HTTP.send(.GET, cluster[0].httpURL + url, headers: [("X-Dhrt-R", "all")])
            let context = try #require(read.headers.first(name: "X-Dhrt-Context"))
            let outcomes = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for (index, writer) in writers.enumerated() {
                    let value = "from \(writer.name) #\(index)"
                    group.addTask {
                        let put = try await HTTP.send(
                            .PUT, writer.httpURL + url, text: value,
                            headers: [("If-Match", context), ("X-Dhrt-W", "all")])
                        return (value, put.status)
                    }
                }
                var outcomes: [(String, Int)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            for (value, status) in outcomes { #expect(status == 204 || status == 412, "\(value): \(status)") }
            let after = try await HTTP.send(.GET, cluster[1].httpURL + url, headers: [("X-Dhrt-R", "all")])
            var stored: Set<String> = []
            if after.status == 200 { stored = [after.text] }
            if after.status == 300 {
                for sibling in after.object["siblings"] as? [[String: Any]] ?? [] {
                    if let data = (sibling["value"] as? String).flatMap({ Data(base64Encoded: $0) }) {
                        stored.insert(String(decoding: data, as: UTF8.self))
                    }
                }
            }
            return (Set(outcomes.filter { $0.1 == 204 }.map(\.0)), stored)
        }

        @Test func throughOneCoordinator_exactlyOneCompareAndSwapWins() async throws {
            for round in 0..<5 {
                let (winners, stored) = try await race(
                    key: "one-\(round)", writers: Array(repeating: cluster[0], count: 4))
                #expect(winners.count == 1, "round \(round): \(winners)")
                #expect(stored == winners, "round \(round)")
            }
        }

        @Test func throughDifferentCoordinators_everyWinnerIsKeptAndNoLoserStored() async throws {
            for round in 0..<5 {
                let (winners, stored) = try await race(key: "many-\(round)", writers: cluster.nodes)
                #expect(!winners.isEmpty, "round \(round)")
                #expect(stored == winners, "round \(round): the initial value is superseded, winners kept")
            }
        }
    }
}
