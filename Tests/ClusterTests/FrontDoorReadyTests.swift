import Foundation
import Testing

/// `GET /v1/ready` answers 200 only when data requests can succeed; `/health` stays liveness.
@Suite(.serialized)
struct FrontDoorReadyTests {
    /// Starts one node in a fresh directory, runs `body`, then kills every process started and removes the directory.
    func withNode(seeds: [String] = [], _ body: (NodeProcess) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("dhrt-ready-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ports = try LocalPorts.free(2)
        let node = try NodeProcess(
            name: "n1", httpPort: ports[0], clusterPort: ports[1], seeds: seeds, directory: directory)
        defer { node.kill() }
        try await body(node)
    }

    /// Polls `path` (bounded) until it answers 200; fails with the node's log otherwise.
    @discardableResult
    func waitFor(_ path: String, on node: NodeProcess, within limit: Duration = .seconds(60)) async throws
        -> HTTPReply
    {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard node.isRunning else { throw HarnessError("\(node.name) exited:\n\(node.logTail())") }
            if let reply = try? await HTTP.send(.GET, node.httpURL + path, timeout: .seconds(2)), reply.status == 200 {
                return reply
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("\(path) never answered 200 within \(limit):\n\(node.logTail())")
    }

    /// The script: wait for readiness, then write at once. No write may meet a 503.
    @Test func aLoneNodeIsReadyOnlyWhenItsFirstWritesSucceed() async throws {
        try await withNode { node in
            let ready = try await waitFor("/v1/ready", on: node)
            #expect(ready.object["status"] as? String == "ready", "\(ready.text)")
            for index in 0..<3 {
                let put = try await HTTP.send(.PUT, "\(node.httpURL)/v1/kv/first/k\(index)", text: "v")
                #expect(put.status == 204, "PUT \(index) right after ready: \(put.status) \(put.text)")
            }
        }
    }

    /// A node restarted on a data directory that holds its ring serves as soon as it listens.
    @Test func aNodeRestartedOnItsRingServesAsSoonAsItListens() async throws {
        try await withNode { node in
            try await waitFor("/v1/ready", on: node)
            #expect(try await HTTP.send(.PUT, "\(node.httpURL)/v1/kv/kept/k", text: "v").status == 204)
            #expect(await node.terminate())
            let restarted = try node.restart()
            defer { restarted.kill() }
            try await waitFor("/health", on: restarted)
            let ready = try await HTTP.send(.GET, "\(restarted.httpURL)/v1/ready")
            #expect(ready.status == 200, "\(ready.text)")
            let read = try await HTTP.send(.GET, "\(restarted.httpURL)/v1/kv/kept/k")
            #expect(read.status == 200, "\(read.text)")
            #expect(read.text == "v")
        }
    }

    /// Alive but waiting for its seeds: `/health` is 200, `/v1/ready` a 503 naming why, as data requests are.
    @Test func aNodeWaitingForItsSeedsIsAliveButNotReady() async throws {
        let silent = try LocalPorts.free(1)[0]
        try await withNode(seeds: ["127.0.0.1:\(silent)"]) { node in
            try await waitFor("/health", on: node)
            let ready = try await HTTP.send(.GET, "\(node.httpURL)/v1/ready")
            #expect(ready.status == 503, "\(ready.text)")
            #expect(ready.object["error"] as? String == "not_ready", "\(ready.text)")
            #expect((ready.object["detail"] as? String)?.contains("not in a cluster yet") == true, "\(ready.text)")
            let put = try await HTTP.send(.PUT, "\(node.httpURL)/v1/kv/early/k", text: "v")
            #expect(put.status == 503)
        }
    }
}
