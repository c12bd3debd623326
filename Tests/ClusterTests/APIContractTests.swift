import Foundation
import NIOHTTP1
import Testing

/// The original design's routes and every error path of the HTTP API.
@Suite(.cluster, .serialized)
struct APIContractTests {
    var cluster: LocalCluster { LocalCluster.current! }

    @Test func originalDesignRoutesAnswerWithKeyAndValue() async throws {
        let n1 = cluster[0].httpURL
        let n2 = cluster[1].httpURL
        let set = try await HTTP.send(.POST, "\(n1)/colour/blue")
        #expect(set.status == 200)
        #expect(set.object["Key"] as? String == "colour")
        #expect(set.object["Value"] as? String == "blue")
        #expect(try await HTTP.send(.GET, "\(n2)/colour").object["Value"] as? String == "blue")
        // Setting again overwrites rather than creating siblings.
        #expect(try await HTTP.send(.POST, "\(n2)/colour/green").status == 200)
        #expect(try await HTTP.send(.GET, "\(n1)/colour").object["Value"] as? String == "green")
        #expect(try await HTTP.send(.GET, "\(n1)/default/colour").object["Value"] as? String == "green")

        #expect(try await HTTP.send(.POST, "\(n1)/fruit/apple/red").status == 200)
        #expect(try await HTTP.send(.POST, "\(n2)/fruit/lime/green").status == 200)
        let one = try await HTTP.send(.GET, "\(n2)/fruit/apple")
        #expect(one.object["Key"] as? String == "apple")
        #expect(one.object["Value"] as? String == "red")
        let all = try await HTTP.send(.GET, "\(cluster[2].httpURL)/fruit/")
        #expect(all.status == 200)
        let pairs = (all.json as? [[String: Any]] ?? []).compactMap { pair -> String? in
            guard let key = pair["Key"] as? String, let value = pair["Value"] as? String else { return nil }
            return "\(key)=\(value)"
        }
        #expect(pairs == ["apple=red", "lime=green"])

        #expect(try await HTTP.send(.DELETE, "\(n1)/fruit/apple").status == 200)
        #expect(try await HTTP.send(.GET, "\(n2)/fruit/apple").status == 404)
        #expect(try await HTTP.send(.DELETE, "\(n1)/colour").status == 200)
        #expect(try await HTTP.send(.GET, "\(n2)/colour").status == 404)
        #expect(try await HTTP.send(.DELETE, "\(n2)/fruit/").status == 200)
        #expect(try await HTTP.send(.GET, "\(n1)/fruit/lime").status == 404)
        let stats = try await HTTP.send(.GET, "\(n1)/")
        #expect(stats.status == 200)
        #expect(stats.object["Node"] as? String == "n1")
    }

    @Test(arguments: [
        ("X-Dhrt-R", "4"), ("X-Dhrt-R", "0"), ("X-Dhrt-R", "most"), ("X-Dhrt-Consistency", "-1"),
    ])
    func badReadQuorumsAreRejected(header: String, value: String) async throws {
        let reply = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/kv/errors/k", headers: [(header, value)])
        #expect(reply.status == 400)
        #expect(reply.object["error"] as? String == "bad_consistency")
        #expect((reply.object["detail"] as? String)?.contains(header) == true)
    }

    @Test func badWriteQuorumIsRejected() async throws {
        let reply = try await HTTP.send(
            .PUT, "\(cluster[1].httpURL)/v1/kv/errors/k", text: "v", headers: [("X-Dhrt-W", "7")])
        #expect(reply.status == 400)
    }

    @Test func oversizedKeysAndValuesAreRejected() async throws {
        let longKey = String(repeating: "k", count: 1025)
        let key = try await HTTP.send(.PUT, "\(cluster[0].httpURL)/v1/kv/errors/\(longKey)", text: "v")
        #expect(key.status == 400)
        #expect(key.object["error"] as? String == "key_too_large")
        // Raw sockets: the 413 comes from the head, before the upload ends, which AsyncHTTPClient reports as
        // a closed channel rather than as the answer.
        let value = try Self.upload("PUT /v1/kv/errors/big", bytes: (8 << 20) + 1, port: cluster[0].httpPort)
        #expect(value.status == 413)
        #expect((value.json["detail"] as? String)?.contains(String(8 << 20)) == true)
        let batch = try Self.upload("POST /v1/kv/errors/_batch", bytes: (16 << 20) + 1, port: cluster[0].httpPort)
        #expect(batch.status == 413)
        #expect(batch.json["error"] as? String == "too_large")
        #expect((batch.json["detail"] as? String)?.contains(String(16 << 20)) == true)
    }

    /// Sends a head declaring `bytes` and as much of the body as the node takes; returns its answer.
    static func upload(_ requestLine: String, bytes: Int, port: Int) throws -> RawResponse {
        let socket = try RawSocket(port: port, timeout: .seconds(10))
        socket.write("\(requestLine) HTTP/1.1\r\nHost: x\r\nContent-Length: \(bytes)\r\n\r\n")
        socket.write([UInt8](repeating: 0x20, count: bytes))
        return try #require(RawResponse(socket.readToClose()), "\(requestLine): no answer")
    }

    @Test func missingKeysAndUnknownPathsAre404() async throws {
        let missing = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/kv/errors/never-written")
        #expect(missing.status == 404)
        #expect(missing.object["error"] as? String == "not_found")
        #expect(try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/nothing/here").status == 404)
    }

    @Test func wrongMethodsAre405() async throws {
        let reply = try await HTTP.send(.POST, "\(cluster[0].httpURL)/v1/kv/errors/k", text: "v")
        #expect(reply.status == 405)
        #expect(reply.headers.first(name: "Allow") != nil)
        #expect(try await HTTP.send(.PUT, "\(cluster[0].httpURL)/health").status == 405)
    }

    @Test func conditionalWritesFailWith412() async throws {
        let url = "\(cluster[0].httpURL)/v1/kv/errors/conditional"
        #expect(try await HTTP.send(.PUT, url, text: "first", headers: [("If-None-Match", "*")]).status == 204)
        let exists = try await HTTP.send(.PUT, url, text: "again", headers: [("If-None-Match", "*")])
        #expect(exists.status == 412)

        let read = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
        let context = try #require(read.headers.first(name: "X-Dhrt-Context"))
        let swap = try await HTTP.send(
            .PUT, url, text: "second", headers: [("If-Match", context), ("X-Dhrt-W", "all")])
        #expect(swap.status == 204)
        // The compare-and-swap replaced what it matched: one value, not the old one beside the new.
        let after = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
        #expect(after.status == 200, "\(after.text)")
        #expect(after.text == "second")
        let stale = try await HTTP.send(.PUT, url, text: "third", headers: [("If-Match", context)])
        #expect(stale.status == 412)
        #expect(stale.object["error"] as? String == "precondition_failed")
        #expect(try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")]).text == "second")

        let current = try #require(after.headers.first(name: "X-Dhrt-Context"))
        let disagreeing = try await HTTP.send(
            .PUT, url, text: "fourth", headers: [("If-Match", current), ("X-Dhrt-Context", context)])
        #expect(disagreeing.status == 400)
        #expect(disagreeing.object["error"] as? String == "bad_precondition")
        let agreeing = try await HTTP.send(
            .PUT, url, text: "fourth",
            headers: [("If-Match", current), ("X-Dhrt-Context", current), ("X-Dhrt-W", "all")])
        #expect(agreeing.status == 204)
        let fourth = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
        #expect(fourth.status == 200)
        #expect(fourth.text == "fourth")

        // A conditional delete removes the key rather than leaving a tombstone beside the value.
        let latest = try #require(fourth.headers.first(name: "X-Dhrt-Context"))
        #expect(
            try await HTTP.send(.DELETE, url, headers: [("If-Match", latest), ("X-Dhrt-W", "all")]).status == 204)
        #expect(try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")]).status == 404)
    }

    @Test(arguments: [("GET", "X-Dhrt-R", "quorum"), ("PUT", "X-Dhrt-W", "1"), ("DELETE", "X-Dhrt-W", "all")])
    func anOverriddenConsistencyHeaderIsValidatedToo(method: String, header: String, value: String) async throws {
        let url = "\(cluster[0].httpURL)/v1/kv/errors/overridden"
        for bad in ["bogus", "9", "0"] {
            let reply = try await HTTP.send(
                HTTPMethod(rawValue: method), url, body: method == "PUT" ? Array("v".utf8) : nil,
                headers: [(header, value), ("X-Dhrt-Consistency", bad)])
            #expect(reply.status == 400, "\(method) with X-Dhrt-Consistency: \(bad): \(reply.text)")
            #expect(reply.object["error"] as? String == "bad_consistency")
            #expect((reply.object["detail"] as? String)?.contains("X-Dhrt-Consistency") == true)
        }
        if method == "PUT" {
            let batch = try await HTTP.send(
                .POST, "\(cluster[0].httpURL)/v1/kv/errors/_batch", text: #"[{"op":"put","key":"k","value":"v"}]"#,
                headers: [(header, value), ("X-Dhrt-Consistency", "bogus")])
            #expect(batch.status == 400, "a batch validates the overridden header too: \(batch.text)")
            let primaries = try await HTTP.send(
                .POST, "\(cluster[0].httpURL)/v1/kv/errors/_batch", text: #"[{"op":"put","key":"k","value":"v"}]"#,
                headers: [("X-Dhrt-PW", "bogus")])
            #expect(primaries.status == 400, "a batch validates X-Dhrt-PW: \(primaries.text)")
            #expect((primaries.object["detail"] as? String)?.contains("X-Dhrt-PW") == true)
        }
    }

    @Test func anObjectThatWouldOutgrowAFrameIsRefusedWith413() async throws {
        let url = "\(cluster[0].httpURL)/v1/kv/errors/huge"
        let first = [UInt8](repeating: 1, count: 8 << 20)
        #expect(try await HTTP.send(.PUT, url, body: first).status == 204)
        // A blind write keeps the first value as a sibling: two 8 MiB siblings cannot travel between nodes.
        let second = try await HTTP.send(.PUT, url, body: [UInt8](repeating: 2, count: 8 << 20))
        #expect(second.status == 413, "\(second.text)")
        #expect(second.object["error"] as? String == "object_too_large")
        let limit = String((16 << 20) - (64 << 10))
        #expect((second.object["detail"] as? String)?.contains(limit) == true, "\(second.text)")
        // The key stays readable everywhere, with the first value alone.
        for node in cluster.nodes {
            let get = try await HTTP.send(.GET, "\(node.httpURL)/v1/kv/errors/huge", headers: [("X-Dhrt-R", "all")])
            #expect(get.status == 200)
            #expect(get.body == first)
        }
    }

    @Test func malformedContextsAre400() async throws {
        let reply = try await HTTP.send(
            .PUT, "\(cluster[0].httpURL)/v1/kv/errors/k", text: "v", headers: [("X-Dhrt-Context", "!!not-base64!!")])
        #expect(reply.status == 400)
    }

    @Test(arguments: ["v1", "metrics", "health"])
    func reservedNamesCannotBeCollections(name: String) async throws {
        let canonical = try await HTTP.send(.PUT, "\(cluster[0].httpURL)/v1/kv/\(name)/k", text: "v")
        #expect(canonical.status == 400)
        #expect(canonical.object["error"] as? String == "reserved_collection")
        let seed = try await HTTP.send(.POST, "\(cluster[0].httpURL)/\(name)/k/v")
        #expect(seed.status == 400 || seed.status == 404)
    }

    @Test func malformedInterNodeFramesDoNotHurtTheNode() async throws {
        let target = cluster[1]
        // Bytes that break the framing close the connection; a well-framed request the node cannot serve gets
        // an error frame answering its request id.
        let unframed: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
            // A frame claiming a 4 GiB payload.
            [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ]
        let unanswerable: [[UInt8]] = [
            // A well-framed request of an unknown message type.
            RawFrame.frame(type: 0xEE, payload: [1, 2, 3]),
            // A replica get whose key length points past the payload.
            RawFrame.frame(type: 2, payload: [0, 1, 0x61, 0xFF, 0xFF, 0xFF, 0x00]),
            // A hello with a truncated member.
            RawFrame.frame(type: 1, payload: [0, 9, 0x6E]),
        ]
        for bytes in unframed {
            let answer = try RawFrame.talk(bytes, port: target.clusterPort)
            #expect(answer.closedByPeer, "the node should close a connection whose framing is broken")
        }
        for bytes in unanswerable {
            let answer = try RawFrame.talk(bytes, port: target.clusterPort).received
            try #require(answer.count >= 15, "expected an error frame, got \(answer.count) bytes")
            #expect(answer[5] == bytes[5], "the reply answers the request's type")
            #expect(answer[6] & 0b10 != 0, "expected the error flag")
            #expect(Array(answer[7..<15]) == Array(bytes[7..<15]), "the reply carries the request id")
        }
        #expect(target.isRunning)
        #expect(try await HTTP.send(.GET, "\(target.httpURL)/health").status == 200)
        #expect(try await HTTP.send(.PUT, "\(target.httpURL)/v1/kv/after/garbage", text: "ok").status == 204)
        #expect(try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/kv/after/garbage").text == "ok")
    }
}
