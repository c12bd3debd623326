import Foundation
import NIOHTTP1
import Testing
import Wire

/// Timeouts, connection limits and tokens, through real `dhrt-node` processes.
@Suite(.serialized)
struct FrontDoorTests {
    /// Runs `body` with a fresh cluster started with `extra` flags, killed afterwards.
    func withCluster(
        size: Int = 1, _ extra: [String], token: String? = nil, _ body: (LocalCluster) async throws -> Void
    ) async throws {
        let cluster = try await LocalCluster.start(size: size, extra: extra, token: token)
        defer { cluster.stop() }
        try await body(cluster)
    }

    // MARK: Slow clients

    @Test func slowClientsAreCutOffAndNormalOnesAreNot() async throws {
        // Loose bounds: the node may be starved of CPU by the rest of the suite.
        let flags = ["--header-timeout-ms", "1000", "--body-timeout-ms", "1500", "--idle-timeout-ms", "4000"]
        try await withCluster(flags) { cluster in
            let port = cluster[0].httpPort
            // Slowloris: a head trickled a byte at a time never completes; the header clock does not restart.
            let loris = try RawSocket(port: port, timeout: .seconds(10))
            let started = ContinuousClock.now
            loris.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            for _ in 0..<60 where loris.write([UInt8(ascii: "a")]) {
                try await Task.sleep(for: .milliseconds(100))
            }
            let answer = try #require(RawResponse(loris.readToClose()), "the slow head got no answer")
            #expect(answer.status == 408)
            #expect(answer.json["error"] as? String == "timeout")
            #expect(ContinuousClock.now - started < .seconds(8))

            // An upload stalled halfway through its body.
            let stalled = try RawSocket(port: port, timeout: .seconds(10))
            stalled.write("PUT /v1/kv/slow/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a part")
            let cut = try #require(RawResponse(stalled.readToClose()), "the stalled body got no answer")
            #expect(cut.status == 408)

            // A keep-alive connection that says nothing is closed without a word.
            let idle = try RawSocket(port: port, timeout: .seconds(15))
            #expect(idle.isClosedByPeer())

            // A client that keeps making requests keeps its connection for longer than any of the timeouts.
            let normal = try RawSocket(port: port)
            for round in 0..<10 {
                normal.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                var reply: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while RawResponse(reply).map({ $0.body.count < Int($0.headers["content-length"] ?? "0")! }) ?? true {
                    let count = buffer.withUnsafeMutableBytes { recv(normal.fd, $0.baseAddress, $0.count, 0) }
                    guard count > 0 else { break }
                    reply += buffer[0..<count]
                }
                #expect(RawResponse(reply)?.status == 200, "round \(round)")
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func connectionsOverTheLimitGet503() async throws {
        try await withCluster(["--max-connections", "4"]) { cluster in
            var open: [RawSocket] = []
            var refused: RawResponse?
            // The harness's own client may hold a connection, so count up to the first refusal.
            for _ in 0..<8 {
                let socket = try RawSocket(port: cluster[0].httpPort, timeout: .milliseconds(500))
                let bytes = socket.readToClose()
                if let response = RawResponse(bytes) {
                    refused = response
                    break
                }
                socket.setTimeout(.seconds(5))
                open.append(socket)
            }
            let answer = try #require(refused, "no connection was refused")
            #expect(answer.status == 503)
            #expect(answer.json["error"] as? String == "unavailable")
            #expect(open.count <= 4 && !open.isEmpty)
            open.removeAll()
            // Slots free up as connections close.
            var healthy = false
            for _ in 0..<50 where !healthy {
                healthy =
                    (try? await HTTP.send(.GET, "\(cluster[0].httpURL)/health", timeout: .seconds(2)))?.status
                    == 200
                if !healthy { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(healthy)
        }
    }

    @Test func silentAndSurplusInterNodeConnectionsAreClosed() async throws {
        try await withCluster(["--handshake-timeout-ms", "500", "--max-cluster-connections", "2"]) { cluster in
            let silent = try RawSocket(port: cluster[0].clusterPort)
            let started = ContinuousClock.now
            #expect(silent.isClosedByPeer())
            #expect(ContinuousClock.now - started < .seconds(3))

            let held = try (0..<2).map { _ in try RawSocket(port: cluster[0].clusterPort) }
            let surplus = try RawSocket(port: cluster[0].clusterPort)
            #expect(surplus.isClosedByPeer())
            #expect(held.count == 2)
            #expect(cluster[0].logTail(50).contains("too many open"))
        }
    }

    // MARK: Tokens

    static let client = "client-token-0123456789"
    static let admin = "admin-token-0123456789ab"

    @Test func tokensGuardDataAndAdminRoutes() async throws {
        let flags = ["--client-token", Self.client, "--admin-token", Self.admin]
        try await withCluster(flags, token: Self.admin) { cluster in
            let url = cluster[0].httpURL
            func call(_ method: HTTPMethodName, _ path: String, _ token: String?, body: String? = nil) async throws
                -> HTTPReply
            {
                let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
                return try await HTTP.send(
                    method.nio, url + path, body: body.map { Array($0.utf8) }, headers: headers)
            }
            #expect(try await call(.get, "/health", nil).status == 200)
            for token in [nil, "wrong-token-0123456789"] {
                for (method, path) in [(HTTPMethodName.get, "/v1/kv/t/k"), (.put, "/v1/kv/t/k"), (.get, "/v1/kv/t")] {
                    let denied = try await call(method, path, token, body: method == .put ? "v" : nil)
                    #expect(denied.status == 401, "\(method) \(path) token \(token ?? "none")")
                    #expect(denied.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
                    #expect(denied.object["error"] as? String == "unauthorized")
                }
            }
            #expect(try await call(.put, "/v1/kv/t/k", Self.client, body: "v").status == 204)
            #expect(try await call(.get, "/v1/kv/t/k", Self.client).text == "v")
            #expect(try await call(.get, "/v1/kv/t/k", Self.admin).text == "v")
            #expect(try await call(.get, "/v1/status", nil).status == 401)
            #expect(try await call(.get, "/v1/status", Self.client).status == 403)
            #expect(try await call(.get, "/v1/status", Self.admin).status == 200)
            #expect(try await call(.delete, "/v1/kv/t", Self.client).status == 403)
            #expect(try await call(.delete, "/v1/kv/t", Self.admin).status == 204)
        }
    }

    // MARK: Cluster secret

    static let secret = "cluster-secret-0123456789abcdef"

    @Test func peersWithoutTheSecretAreRefused() async throws {
        try await withCluster(size: 2, ["--cluster-secret", Self.secret]) { cluster in
            let put = try await HTTP.send(
                .PUT, "\(cluster[0].httpURL)/v1/kv/s/k", text: "v", headers: [("X-Dhrt-W", "all")])
            #expect(put.status == 204)

            // A raw hello claiming to be a member, at a dead address, without the handshake.
            let impostor = try RawSocket(port: cluster[0].clusterPort, timeout: .seconds(15))
            let hello = Hello(
                member: MemberInfo(name: "n2", clusterAddress: "127.0.0.1:1", httpAddress: "127.0.0.1:1"),
                partitions: 256, replicas: 3)
            impostor.write(RawFrame.frame(type: 1, payload: Array(hello.encoded().readableBytesView)))
            // It gets the server's opening of the handshake and then a close, never a reply frame.
            let received = impostor.readToClose()
            #expect(received.count <= 41 && received.starts(with: Array("DHRTAUTH".utf8)), "\(received)")

            // A node with the wrong secret.
            let ports = try LocalPorts.free(2)
            let stranger = try NodeProcess(
                name: "n3", httpPort: ports[0], clusterPort: ports[1], seeds: [cluster[0].clusterAddress],
                directory: cluster.directory, extra: ["--cluster-secret", "not-the-secret-0123456789"])
            defer { stranger.kill() }
            var refusedLogged = false
            for _ in 0..<100 where !refusedLogged {
                refusedLogged = cluster[0].logTail(200).contains("does not know the cluster secret")
                if !refusedLogged { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(refusedLogged)
            let status = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/status")
            #expect((status.object["members"] as? [Any])?.count == 2)
            let after = try await HTTP.send(
                .PUT, "\(cluster[1].httpURL)/v1/kv/s/k2", text: "v", headers: [("X-Dhrt-W", "all")])
            #expect(after.status == 204)
        }
    }
}

/// The few methods these tests use, mapped to NIO's.
enum HTTPMethodName {
    case get, put, delete
    var nio: NIOHTTP1.HTTPMethod {
        switch self {
        case .get: .GET
        case .put: .PUT
        case .delete: .DELETE
        }
    }
}
