import Foundation
import Synchronization
import Testing

extension FailureScenarios {
    /// SIGTERM while writers keep a node busy: it drains and exits 0 within a bound, every write it answered
    /// with 204 is there after a restart, and no request hangs.
    @Suite(.serialized)
    struct DrainOnTerminateTests {
        final class Ledger: Sendable {
            let acknowledged = Mutex<[String]>([])
            /// Requests sent before SIGTERM that got neither an answer nor a clean failure within their bound.
            let hung = Atomic<Int>(0)
            /// Set just before SIGTERM. Later requests find the port closed, and the HTTP client retries
            /// refused connections until its own timeout: that is the client's doing, not the node's.
            let terminating = Atomic<Bool>(false)
            /// Set once the node exited: the writers stop.
            let exited = Atomic<Bool>(false)
            let failed = Atomic<Int>(0)
            var count: Int { acknowledged.withLock { $0.count } }
        }

        @Test func sigtermUnderLoadDrainsInFlightWritesAndExitsCleanly() async throws {
            let cluster = try await LocalCluster.start(size: 1, extra: ["--sync", "group"])
            defer { cluster.stop() }
            let node = cluster[0]
            let base = "\(node.httpURL)/v1/kv/drain/"
            let ledger = Ledger()
            let writers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            for index in 0..<100_000 where !ledger.exited.load(ordering: .acquiring) {
                                let key = "w\(writer)-\(index)"
                                let started = ContinuousClock.now
                                let beforeSignal = !ledger.terminating.load(ordering: .acquiring)
                                do {
                                    let put = try await HTTP.send(
                                        .PUT, base + key, body: Array(key.utf8), timeout: .seconds(5))
                                    guard put.status == 204 else {
                                        // Refused while shutting down: a clean failure.
                                        ledger.failed.add(1, ordering: .relaxed)
                                        return
                                    }
                                    ledger.acknowledged.withLock { $0.append(key) }
                                } catch {
                                    if beforeSignal, ContinuousClock.now - started >= .seconds(5) {
                                        ledger.hung.add(1, ordering: .relaxed)
                                    }
                                    ledger.failed.add(1, ordering: .relaxed)
                                    return
                                }
                            }
                        }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while ledger.count < 200, ContinuousClock.now < deadline, node.isRunning {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(ledger.count >= 200, "the writers did not get going:\n\(node.logTail())")

            ledger.terminating.store(true, ordering: .releasing)
            let signalled = ContinuousClock.now
            let exited = await node.terminate(within: .seconds(15))
            let exitedAfter = ContinuousClock.now - signalled
            ledger.exited.store(true, ordering: .releasing)
            #expect(exited, "the node did not exit within 15 s of SIGTERM:\n\(node.logTail())")
            #expect(node.exitStatus == 0, "exit status \(String(describing: node.exitStatus)):\n\(node.logTail())")
            // Writers stop at their first failure; every in-flight request must have ended by now or soon.
            let writersDone = Task {
                await writers.value
                return ContinuousClock.now - signalled
            }
            let drained = try await withThrowingTaskGroup(of: Duration?.self) { group in
                group.addTask { await writersDone.value }
                group.addTask {
                    try await Task.sleep(for: .seconds(20))
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            #expect(drained != nil, "client requests were still open 20 s after SIGTERM")
            #expect(
                ledger.hung.load(ordering: .relaxed) == 0,
                "requests sent before SIGTERM ran into their 5 s timeout; the node exited after \(exitedAfter)")
            node.kill()

            let acknowledged = ledger.acknowledged.withLock { $0 }
            let restarted = try node.restart()
            defer { restarted.kill() }
            try await CrashRestartTests.waitHealthy(restarted)
            var lost: [String] = []
            for key in acknowledged {
                let get = try await HTTP.send(.GET, base + key)
                if get.status != 200 || get.text != key { lost.append("\(key): \(get.status)") }
            }
            #expect(lost.isEmpty, "\(lost.count) of \(acknowledged.count) acknowledged writes lost: \(lost.prefix(5))")
        }
    }
}
