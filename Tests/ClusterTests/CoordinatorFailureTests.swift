import Foundation
import Synchronization
import Testing

extension FailureScenarios {
    /// A coordinator frozen (SIGSTOP) or killed with writes in flight: its clients fail within their bound,
    /// the other coordinators keep serving, and once it runs again every key reads the same on every replica.
    @Suite(.serialized)
    struct CoordinatorFailureTests {
        /// What the clients of the failing coordinator saw.
        final class Outcomes: Sendable {
            let attempted = Mutex<[String]>([])
            let acknowledged = Mutex<Set<String>>([])
            /// The slowest request, from its start to its answer or failure.
            let slowest = Mutex<Duration>(.zero)
            var acks: Int { acknowledged.withLock { $0.count } }
        }

        /// Six clients writing their own keys to `node` one after another (W=all, client timeout 2 s), each
        /// until its first failure: once they are going, six writes are always in flight.
        static func writes(to node: NodeProcess, prefix: String, into outcomes: Outcomes) -> Task<Void, Never> {
            Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<6 {
                        group.addTask {
                            for index in 0..<10_000 {
                                let key = "\(prefix)\(writer)-\(index)"
                                outcomes.attempted.withLock { $0.append(key) }
                                let started = ContinuousClock.now
                                let put = try? await HTTP.send(
                                    .PUT, "\(node.httpURL)/v1/kv/coord/\(key)", body: Array(key.utf8),
                                    headers: [("X-Dhrt-W", "all")], timeout: .seconds(2))
                                let took = ContinuousClock.now - started
                                outcomes.slowest.withLock { $0 = max($0, took) }
                                guard put?.status == 204 else { return }
                                outcomes.acknowledged.withLock { _ = $0.insert(key) }
                            }
                        }
                    }
                }
            }
        }

        /// Waits (bounded) until the writers are going.
        static func writersGoing(_ outcomes: Outcomes) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while outcomes.acks < 30, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(outcomes.acks >= 30, "the writers did not get going")
        }

        /// The other coordinators answer while `down` does not: quorum writes and reads through each of them.
        static func othersServe(_ cluster: LocalCluster, without down: NodeProcess) async throws {
            for node in cluster.nodes where node.name != down.name {
                let url = "\(node.httpURL)/v1/kv/coord/other-\(node.name)"
                let started = ContinuousClock.now
                let put = try await HTTP.send(.PUT, url, body: Array(node.name.utf8), timeout: .seconds(10))
                #expect(put.status == 204, "\(node.name): \(put.text)")
                let get = try await HTTP.send(.GET, url, timeout: .seconds(10))
                #expect(get.status == 200 && get.text == node.name, "\(node.name): \(get.status) \(get.text)")
                // A quorum does not wait on the missing node: well within one request timeout (1 s) plus slack.
                #expect(ContinuousClock.now - started < .seconds(5))
            }
        }

        /// Every key written reads the same through every coordinator with R=all (the acknowledged ones with
        /// their value, the others with theirs or not found), and no read repairs anything: the replicas agree.
        /// Polls, bounded.
        static func converge(_ nodes: [NodeProcess], keys: [String], acknowledged: Set<String>) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            var disagreement = ""
            repeat {
                disagreement = ""
                for key in keys {
                    var seen: Set<String> = []
                    var repaired = false
                    for node in nodes {
                        let get = try await HTTP.send(
                            .GET, "\(node.httpURL)/v1/kv/coord/\(key)", headers: [("X-Dhrt-R", "all")],
                            timeout: .seconds(10))
                        seen.insert(get.status == 200 ? "200 \(get.text)" : "\(get.status)")
                        repaired = repaired || get.headers.first(name: "X-Dhrt-Repaired").map { $0 != "0" } ?? false
                    }
                    let agreed = seen == ["200 \(key)"] || (seen == ["404"] && !acknowledged.contains(key))
                    if !agreed || repaired {
                        disagreement = "\(key): \(seen.sorted())\(repaired ? ", repaired" : "")"
                        break
                    }
                }
                if disagreement.isEmpty { return }
                try await Task.sleep(for: .milliseconds(200))
            } while ContinuousClock.now < deadline
            Issue.record("replicas did not converge within 30 s: \(disagreement)")
        }

        @Test func aFrozenCoordinator_failsItsClientsInTime_othersServe_andTheClusterConverges() async throws {
            let cluster = try await LocalCluster.start(size: 3, extra: ["--timeout-ms", "1000"])
            defer { cluster.stop() }
            let coordinator = cluster[0]
            let outcomes = Outcomes()
            let inFlight = Self.writes(to: coordinator, prefix: "frozen", into: outcomes)
            try await Self.writersGoing(outcomes)
            coordinator.pause()
            await inFlight.value
            #expect(outcomes.slowest.withLock { $0 } < .seconds(5), "a client of the frozen node was not released")
            do {
                try await Self.othersServe(cluster, without: coordinator)
            } catch {
                coordinator.resume()
                throw error
            }
            coordinator.resume()
            let keys = outcomes.attempted.withLock { $0 }
            try await Self.converge(cluster.nodes, keys: keys, acknowledged: outcomes.acknowledged.withLock { $0 })
        }

        @Test func aKilledCoordinator_failsItsClientsAtOnce_othersServe_andAfterARestartTheClusterConverges()
            async throws
        {
            let cluster = try await LocalCluster.start(size: 3, extra: ["--timeout-ms", "1000"])
            defer { cluster.stop() }
            let coordinator = cluster[0]
            let outcomes = Outcomes()
            let inFlight = Self.writes(to: coordinator, prefix: "killed", into: outcomes)
            try await Self.writersGoing(outcomes)
            coordinator.kill()
            await inFlight.value
            #expect(outcomes.slowest.withLock { $0 } < .seconds(5), "a client of the killed node was not released")
            try await Self.othersServe(cluster, without: coordinator)
            let restarted = try coordinator.restart()
            defer { restarted.kill() }
            try await CrashRestartTests.waitHealthy(restarted)
            let keys = outcomes.attempted.withLock { $0 }
            try await Self.converge(
                [restarted] + cluster.nodes.dropFirst(), keys: keys, acknowledged: outcomes.acknowledged.withLock { $0 }
            )
        }
    }
}
