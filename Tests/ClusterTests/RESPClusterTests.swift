import Foundation
import Testing

/// The Redis protocol front door of real `dhrt-node` processes, spoken through a raw socket (and redis-cli when
/// it is installed).
@Suite(.serialized)
struct RESPClusterTests {
    /// Runs `body` with a cluster whose nodes each serve RESP on their own port (passed to `body` in node order).
    func withCluster(
        size: Int = 3, _ extra: [String] = [], token: String? = nil,
        _ body: (LocalCluster, [Int]) async throws -> Void
    ) async throws {
        let ports = try LocalPorts.free(size)
        let cluster = try await LocalCluster.start(size: size, extra: extra, token: token) { index in
            ["--resp", "127.0.0.1:\(ports[index])"]
        }
        defer { cluster.stop() }
        try await body(cluster, ports)
    }

    @Test func dataCommands_goThroughTheQuorumPath_onEveryNode() async throws {
        try await withCluster { cluster, ports in
            let first = try await RESPClient(port: ports[0])
            let second = try await RESPClient(port: ports[1])
            #expect(first.call("PING") == .simple("PONG"))
            #expect(first.call("SET", "greeting", "hello") == .simple("OK"))
            #expect(second.call("GET", "greeting") == .text("hello"))
            #expect(second.call("GET", "missing") == .bulk(nil))

            // The same key over HTTP: the front doors share the store.
            let http = try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/default/greeting")
            #expect(http.text == "hello")

            #expect(first.call("MSET", "a", "1", "b", "2", "a", "3") == .simple("OK"))
            #expect(second.call("MGET", "a", "b", "missing") == .array([.text("3"), .text("2"), .bulk(nil)]))
            #expect(second.call("EXISTS", "a", "b", "missing", "a") == .integer(3))
            #expect(first.call("DEL", "a", "missing") == .integer(1))
            #expect(second.call("EXISTS", "a") == .integer(0))

            // NX and XX are the store's conditional writes; expiry is refused by name.
            #expect(first.call("SET", "once", "1", "NX") == .simple("OK"))
            #expect(first.call("SET", "once", "2", "NX") == .bulk(nil))
            #expect(first.call("SET", "never", "1", "XX") == .bulk(nil))
            #expect(first.call("SET", "once", "3", "XX") == .simple("OK"))
            #expect(second.call("GET", "once") == .text("3"))
            let expiry = first.call("SET", "k", "v", "EX", "10")
            #expect(expiry?.description.contains("EX is not supported") == true, "\(String(describing: expiry))")

            // Collections and consistency are per connection.
            #expect(first.call("COLLECTION", "other") == .simple("OK"))
            #expect(first.call("GET", "greeting") == .bulk(nil))
            #expect(first.call("CONSISTENCY", "all", "all") == .simple("OK"))
            #expect(first.call("SET", "strict", "x") == .simple("OK"))
            #expect(first.call("CONSISTENCY", "4", "1")?.description.hasPrefix("-ERR") == true)
            #expect(first.call("COLLECTION", "bad/name")?.description.hasPrefix("-ERR") == true)

            // RESP3 after HELLO 3: a map, and `_` for null.
            let hello = first.call("HELLO", "3")
            #expect(hello?.elements.contains(.text("proto")) == true)
            #expect(first.call("GET", "missing") == .bulk(nil))
            #expect(first.call("SELECT", "0") == .simple("OK"))
            #expect(first.call("CLIENT", "SETNAME", "tests") == .simple("OK"))
            #expect(
                first.call("COMMAND", "COUNT").map { if case .integer(let n) = $0 { n > 10 } else { false } } == true)
            #expect(first.call("INFO")?.string?.contains("redis_version:") == true)
            #expect(first.call("QUIT") == .simple("OK"))
            #expect(first.socket.isClosedByPeer())
        }
    }

    @Test func scanPages_pipelining_siblings_andGarbage() async throws {
        try await withCluster { cluster, ports in
            let client = try await RESPClient(port: ports[0])
            #expect(client.call("COLLECTION", "scanned") == .simple("OK"))
            let keys = Set((0..<57).map { "key:\($0)" })
            for key in keys { client.send(["SET", key, "v"]) }
            for _ in keys { #expect(client.read() == .simple("OK")) }

            // SCAN pages through every key once, on another node, its cursor handed back as is.
            let other = try await RESPClient(port: ports[2])
            #expect(other.call("COLLECTION", "scanned") == .simple("OK"))
            var seen: [String] = []
            var cursor = "0"
            for _ in 0..<100 {
                let page = try #require(other.call("SCAN", cursor, "COUNT", "10"))
                let parts = page.elements
                try #require(parts.count == 2, "\(page)")
                cursor = try #require(parts[0].string)
                seen += parts[1].elements.compactMap(\.string)
                if cursor == "0" { break }
            }
            #expect(cursor == "0")
            #expect(seen.count == keys.count)
            #expect(Set(seen) == keys)
            let matched = other.call("SCAN", "0", "MATCH", "key:1*", "COUNT", "1000")
            #expect(
                Set(matched?.elements.last?.elements.compactMap(\.string) ?? [])
                    == keys.filter { $0.hasPrefix("key:1") })
            #expect(other.call("SCAN", "12345")?.description.hasPrefix("-ERR invalid cursor") == true)

            // Pipelined commands, sent in one write, are answered in order; an error in the middle stays in place.
            var batch: [UInt8] = []
            for index in 0..<150 {
                batch +=
                    RESPClient.encode(["SET", "p:\(index)", "\(index)"]) + RESPClient.encode(["GET", "p:\(index)"])
                if index == 75 { batch += RESPClient.encode(["NOSUCH"]) }
                // Answered at once, without a quorum, in the middle of ones that wait for it.
                if index == 30 { for _ in 0..<300 { batch += RESPClient.encode(["SET", "e", "v", "PX", "1"]) } }
            }
            client.socket.write(batch)
            for index in 0..<150 {
                #expect(client.read() == .simple("OK"), "SET \(index)")
                #expect(client.read() == .text("\(index)"), "GET \(index)")
                if index == 75 { #expect(client.read()?.description.hasPrefix("-ERR unknown command") == true) }
                if index == 30 {
                    for _ in 0..<300 { #expect(client.read()?.description.contains("PX is not supported") == true) }
                }
            }

            // Concurrent writes are siblings: an error naming the count, or all of them on request.
            for (node, value) in [(0, "left"), (1, "right")] {
                let put = try await HTTP.send(
                    .PUT, "\(cluster[node].httpURL)/v1/kv/scanned/both", text: value, headers: [("X-Dhrt-W", "all")])
                #expect(put.status == 204)
            }
            #expect(client.call("CONSISTENCY", "all", "all") == .simple("OK"))
            #expect(client.call("GET", "both")?.description.hasPrefix("-SIBLINGS 2 ") == true)
            #expect(client.call("SIBLINGS", "array") == .simple("OK"))
            let both = client.call("GET", "both")?.elements.compactMap(\.string)
            #expect(Set(both ?? []) == ["left", "right"])
            // A SET replaces what its coordinator holds: the siblings with it.
            #expect(client.call("SET", "both", "merged") == .simple("OK"))
            #expect(client.call("GET", "both") == .text("merged"))

            // An inline command, then a frame that is not RESP: an error, and the connection closes.
            let raw = try await RESPClient(port: ports[1])
            raw.socket.write("PING\r\n*2\r\n$3\r\nGET\r\n$x\r\n")
            #expect(raw.read() == .simple("PONG"))
            #expect(raw.read()?.description.hasPrefix("-ERR protocol error") == true)
            #expect(raw.socket.isClosedByPeer())
            let huge = try await RESPClient(port: ports[1])
            huge.socket.write("*2\r\n$3\r\nSET\r\n$999999999\r\n")
            #expect(huge.read()?.description.contains("exceeds the limit") == true)
            #expect(huge.socket.isClosedByPeer())

            try await redisCLI(ports)
        }
    }

    @Test func aClientToken_isRequired_byAUTHorHELLO() async throws {
        let token = "resp-token-0123456789"
        try await withCluster(size: 1, ["--client-token", token], token: token) { _, ports in
            let client = try await RESPClient(port: ports[0])
            #expect(client.call("GET", "k")?.description.hasPrefix("-NOAUTH") == true)
            #expect(client.call("PING")?.description.hasPrefix("-NOAUTH") == true)
            #expect(client.call("AUTH", "wrong-token-0123456789")?.description.hasPrefix("-WRONGPASS") == true)
            #expect(client.call("AUTH", "default", token) == .simple("OK"))
            #expect(client.call("SET", "k", "v") == .simple("OK"))
            let fresh = try await RESPClient(port: ports[0])
            #expect(fresh.call("HELLO", "3")?.description.hasPrefix("-NOAUTH") == true)
            #expect(fresh.call("HELLO", "3", "AUTH", "default", token)?.elements.contains(.text("proto")) == true)
            #expect(fresh.call("GET", "k") == .text("v"))
        }
    }

    /// redis-cli against the cluster, when it is installed (`apt-get install redis-tools`); skipped otherwise.
    private func redisCLI(_ ports: [Int]) async throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .map { "\($0)/redis-cli" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { return }
        #expect(try await run(path, ["-p", "\(ports[0])", "SET", "cli:key", "from redis-cli"]) == "OK")
        #expect(try await run(path, ["-p", "\(ports[1])", "GET", "cli:key"]) == "from redis-cli")
        #expect(try await run(path, ["-p", "\(ports[2])", "-3", "GET", "cli:key"]) == "from redis-cli")
        #expect(try await run(path, ["-p", "\(ports[2])", "--scan", "--pattern", "cli:*"]) == "cli:key")
    }

    /// The trimmed output of `tool`, killed after 20 s.
    private func run(_ tool: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
