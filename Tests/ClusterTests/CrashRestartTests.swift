import Foundation
import Synchronization
import Testing

extension FailureScenarios {
    /// kill -9 in the middle of a stream of writes, then a restart on the same data directory: every write the
    /// node acknowledged is there, under each policy that promises durability.
    @Suite(.serialized)
    struct CrashRestartTests {
        /// What a key must read as after the crash.
        enum Expected: Sendable {
            /// An acknowledged put.
            case value(String)
            /// An acknowledged put and a delete sent after it, unanswered: either outcome is right.
            case valueOrDeleted(String)
            /// An acknowledged delete.
            case deleted
        }

        /// What the node acknowledged, key by key.
        final class Ledger: Sendable {
            let entries = Mutex<[String: Expected]>([:])
            var count: Int { entries.withLock { $0.count } }
        }

        @Test(arguments: ["group", "always"])
        func everyAcknowledgedWriteSurvivesAKillDuringWrites(sync: String) async throws {
            let cluster = try await LocalCluster.start(size: 1, extra: ["--sync", sync])
            defer { cluster.stop() }
            let node = cluster[0]
            let ledger = Ledger()
            let base = "\(node.httpURL)/v1/kv/crash/"
            let writers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            for index in 0..<100_000 {
                                let key = "w\(writer)-\(index)"
                                do {
                                    let put = try await HTTP.send(
                                        .PUT, base + key, body: Array("v\(index)".utf8), timeout: .seconds(10))
                                    guard put.status == 204 else { return }
                                    ledger.entries.withLock { $0[key] = .value("v\(index)") }
                                    // Every seventh key is deleted again: an acknowledged delete must hold too.
                                    if index % 7 == 3 {
                                        ledger.entries.withLock { $0[key] = .valueOrDeleted("v\(index)") }
                                        let delete = try await HTTP.send(.DELETE, base + key, timeout: .seconds(10))
                                        guard delete.status == 204 else { return }
                                        ledger.entries.withLock { $0[key] = .deleted }
                                    }
                                } catch {
                                    return  // the node is gone
                                }
                            }
                        }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while ledger.count < 300, ContinuousClock.now < deadline, node.isRunning {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(ledger.count >= 300, "the writers did not get going:\n\(node.logTail())")
            node.kill()
            await writers.value
            let acknowledged = ledger.entries.withLock { $0 }

            let restarted = try node.restart()
            defer { restarted.kill() }
            try await Self.waitHealthy(restarted)
            var missing: [String] = []
            for (key, value) in acknowledged {
                let get = try await HTTP.send(.GET, base + key)
                let found = get.status == 200 ? get.text : get.status == 404 ? nil : "status \(get.status)"
                switch value {
                case .value(let text) where found != text: missing.append("\(key)=\(text), found \(found ?? "404")")
                case .valueOrDeleted(let text) where found != text && found != nil:
                    missing.append("\(key)=\(text) or deleted, found \(found!)")
                case .deleted where found != nil: missing.append("\(key) deleted, found \(found!)")
                default: break
                }
            }
            let lost = missing.count
            #expect(lost == 0, "\(lost) of \(acknowledged.count) acknowledged writes lost, e.g. \(missing.prefix(5))")
        }

        static func waitHealthy(_ node: NodeProcess) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                guard node.isRunning else { throw HarnessError("\(node.name) exited:\n\(node.logTail())") }
                if (try? await HTTP.send(.GET, "\(node.httpURL)/health", timeout: .seconds(2)))?.status == 200 {
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw HarnessError("\(node.name) did not come back:\n\(node.logTail())")
        }
    }
}
