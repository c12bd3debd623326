import Foundation
import Logging
import NIOCore
import Testing
import Wire

/// Requests that once got a wrong answer: each case here failed before its fix.
@Suite(.cluster, .serialized)
struct FrontDoorBugTests {
    var cluster: LocalCluster { LocalCluster.current! }

    // MARK: Key listing cursors

    /// Keys whose bytes look like escapes, or are not UTF-8, page one at a time: each listed once, no loop.
    @Test func listingPagesEveryKeyOnceWhateverItsBytes() async throws {
        let paths = ["%2Bplus%2B", "a%25b", "a%252Fb", "a%2Fb", "%FF%01", "%FF%02", "plain"]
        for path in paths {
            // A raw request: URL libraries normalise escapes such as %FF.
            let socket = try RawSocket(port: cluster[0].httpPort)
            socket.write(
                "PUT /v1/kv/cursors/\(path) HTTP/1.1\r\nHost: x\r\nX-Dhrt-W: all\r\nContent-Length: 1\r\n"
                    + "Connection: close\r\n\r\nv")
            #expect(RawResponse(socket.readToClose())?.status == 204, "PUT \(path)")
        }
        var after: String?
        var seen: [[UInt8]] = []
        var listed = 0
        for _ in 0..<(paths.count + 3) {
            var url = "\(cluster[1].httpURL)/v1/kv/cursors?limit=1"
            if let after { url += "&after=\(after)" }
            let page = try await HTTP.send(.GET, url)
            #expect(page.status == 200, "\(url): \(page.text)")
            listed += (page.object["keys"] as? [Any])?.count ?? 0
            guard let next = page.object["next"] as? String else { break }
            // `next` is percent-encoded, so it round-trips bytes that are not UTF-8.
            let bytes = try #require(Self.percentDecode(next), "next \(next) is not percent-encoded")
            if let last = seen.last { #expect(last.lexicographicallyPrecedes(bytes), "cursor went back: \(next)") }
            seen.append(bytes)
            after = next
        }
        #expect(listed == paths.count)
        let expected = paths.map { Self.percentDecode($0)! }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(Array(seen.prefix(expected.count)) == expected)
    }

    static func percentDecode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard bytes.count >= 2, let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            else { return nil }
            out.append(value)
            bytes = bytes.dropFirst(2)
        }
        return out
    }

    // MARK: Batch

    @Test func batchWithABadWriteQuorumIsARequestLevel400() async throws {
        let reply = try await HTTP.send(
            .POST, "\(cluster[0].httpURL)/v1/kv/batches/_batch", text: #"[{"op":"put","key":"k","value":"v"}]"#,
            headers: [("X-Dhrt-W", "-1")])
        #expect(reply.status == 400)
        #expect(reply.object["error"] as? String == "bad_consistency")
    }

    @Test func batchRouteAllowsPost() async throws {
        let reply = try await HTTP.send(.OPTIONS, "\(cluster[0].httpURL)/v1/kv/batches/_batch")
        #expect(reply.status == 405)
        let allow = reply.headers.first(name: "Allow") ?? ""
        #expect(allow.contains("POST"), "Allow: \(allow)")
        #expect(allow.contains("GET") && allow.contains("PUT") && allow.contains("DELETE"))
    }

    // MARK: Malformed HTTP

    static let badChunks = ["zz\r\nabc\r\n0\r\n\r\n", "-5\r\nabc\r\n0\r\n\r\n", "3\r\nabcdefgh\r\n0\r\n\r\n"]

    /// A broken chunked body is the client's fault: 400 with the JSON error, on the fast path and on Hummingbird's.
    @Test(arguments: badChunks)
    func malformedChunkedBodiesAre400(chunks: String) throws {
        for (method, path) in [("PUT", "/v1/kv/chunks/k"), ("POST", "/v1/kv/chunks/_batch")] {
            let socket = try RawSocket(port: cluster[0].httpPort)
            socket.write(
                "\(method) \(path) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(chunks)")
            let response = try #require(RawResponse(socket.readToClose()), "\(method) \(path): no response")
            #expect(response.status == 400, "\(method) \(path)")
            #expect(response.json["error"] as? String == "bad_request", "\(method) \(path)")
            #expect(response.headers["x-dhrt-node"] == "n1")
        }
    }

    static let malformedHeads: [String] = [
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "PUT /v1/kv/heads/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "GET /v1/kv/heads/k HTTP/1.1\r\nHost: x\r\nX-Long: \(String(repeating: "a", count: 1 << 20))\r\n\r\n",
        "GET /v1/kv/heads/k HTTP/1.1\r\nHost: x\r\n"
            + (0..<10_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n",
        "GET /health HTTP/1.1\nHost: x\n\n",
    ]

    /// What the HTTP parser itself rejects gets the API's JSON error and `X-Dhrt-Node`, then the connection closes.
    @Test(arguments: 0..<malformedHeads.count)
    func parserErrorsAnswerJSONThenClose(index: Int) throws {
        let socket = try RawSocket(port: cluster[1].httpPort)
        socket.write(Self.malformedHeads[index])
        let bytes = socket.readToClose()
        let response = try #require(RawResponse(bytes), "case \(index): no response in \(bytes.count) bytes")
        #expect(response.status == 400, "case \(index)")
        #expect(response.json["error"] as? String == "bad_request", "case \(index)")
        #expect(response.headers["x-dhrt-node"] == "n2", "case \(index)")
        #expect(response.headers["connection"] == "close", "case \(index)")
    }

    /// A good request before the bad one on the same connection is answered first.
    @Test func parserErrorAfterAGoodRequestAnswersBoth() throws {
        let socket = try RawSocket(port: cluster[2].httpPort)
        socket.write("GET /v1/kv/heads/missing HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n")
        let text = String(decoding: socket.readToClose(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 404"), "\(text.prefix(200))")
        #expect(text.components(separatedBy: "HTTP/1.1 400").count == 2, "\(text)")
    }

    // MARK: Drops against late writes

    /// A replica write still in flight when its collection is dropped must not bring the key back, on any node.
    @Test func lateReplicaWriteDoesNotResurrectADroppedCollection() async throws {
        let base = "\(cluster[0].httpURL)/v1/kv/dropped"
        #expect(try await HTTP.send(.PUT, "\(base)/k", text: "old", headers: [("X-Dhrt-W", "all")]).status == 204)
        // The stored object as replication would carry it, captured before the drop.
        let client = WireClient(
            address: try WireAddress(parsing: cluster[2].clusterAddress), logger: Logger(label: "t"))
        defer { Task { await client.shutdown() } }
        let got = try await client.request(
            type: MessageType.replicaGet.rawValue,
            payload: ReplicaGet(collection: "dropped", key: Array("k".utf8)).encoded(), timeout: .seconds(10))
        let object = try #require(try ReplicaGetReply.decode(got.payload).object)

        #expect(try await HTTP.send(.DELETE, "\(cluster[1].httpURL)/v1/kv/dropped").status == 204)
        // The late write lands on n3 after the drop, as replication from n1 would.
        let late = try await client.request(
            type: MessageType.replicaPut.rawValue,
            payload: ReplicaPut(collection: "dropped", key: Array("k".utf8), object: object).encoded(),
            timeout: .seconds(10))
        #expect(late.flags & FrameFlag.error == 0)

        let read = try await HTTP.send(.GET, "\(base)/k", headers: [("X-Dhrt-R", "all")])
        #expect(read.status == 404, "\(read.text)")
        let list = try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/dropped")
        #expect((list.object["keys"] as? [Any])?.isEmpty == true, "\(list.text)")
        // A write after the drop is a new value and is kept.
        #expect(try await HTTP.send(.PUT, "\(base)/k", text: "new", headers: [("X-Dhrt-W", "all")]).status == 204)
        #expect(try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/dropped/k").text == "new")
    }
}
