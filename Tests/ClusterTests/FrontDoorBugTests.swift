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

    /// Keys, as raw path segments, whose bytes standard URL encoding changes: `+`, `/`, space, `%`, `&`, `=`,
    /// non-ASCII UTF-8 and bytes that are not UTF-8.
    static let awkwardKeys = [
        "%2Bplus%2B", "a%20b", "a%2Fb", "a%25b", "a%252Fb", "a%2Bb%3Dc%26d", "%C3%A9t%C3%A9", "%FF%01", "%FF%02",
        "plain",
    ]

    /// Writes `awkwardKeys` into `collection` through raw requests (URL libraries normalise escapes such as %FF).
    func putAwkwardKeys(_ collection: String) throws -> [[UInt8]] {
        for path in Self.awkwardKeys {
            let socket = try RawSocket(port: cluster[0].httpPort)
            socket.write(
                "PUT /v1/kv/\(collection)/\(path) HTTP/1.1\r\nHost: x\r\nX-Dhrt-W: all\r\nContent-Length: 1\r\n"
                    + "Connection: close\r\n\r\nv")
            #expect(RawResponse(socket.readToClose())?.status == 204, "PUT \(path)")
        }
        return Self.awkwardKeys.map { Self.percentDecode($0)! }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// How a client hands `next` back: as it is, or through the query encoding of a standard URL library.
    enum CursorClient: String, CaseIterable, Sendable {
        case asItIs
        /// Swift's `URLComponents.queryItems`.
        case urlComponents
        /// Python's `urllib.parse.quote(value, safe='')`: every byte but `A-Za-z0-9_.-~` as `%XX`.
        case pythonQuote
        /// Every byte as `%XX`, even unreserved ones: decoded once, it is still the cursor.
        case everyByteEscaped

        func url(_ base: String, limit: Int, cursor: String?, encoding: String?) -> String {
            var items = [("limit", "\(limit)")]
            if let encoding { items.append(("encoding", encoding)) }
            if let cursor { items.append(("cursor", cursor)) }
            switch self {
            case .asItIs:
                return base + "?" + items.map { "\($0)=\($1)" }.joined(separator: "&")
            case .urlComponents:
                var components = URLComponents(string: base)!
                components.queryItems = items.map { URLQueryItem(name: $0, value: $1) }
                return components.url!.absoluteString
            case .pythonQuote, .everyByteEscaped:
                // Only the cursor is escaped byte by byte: no client escapes the digits of `limit`.
                return base + "?"
                    + items.map { name, value in
                        let keep = self == .pythonQuote || name != "cursor"
                        return "\(name)=\(FrontDoorBugTests.escape(value, keepUnreserved: keep))"
                    }.joined(separator: "&")
            }
        }
    }

    /// Pages one key at a time, handing `next` back through `client`: every key is listed once, and paging ends.
    @Test(arguments: CursorClient.allCases)
    func listingPagesEveryKeyOnceWhateverItsBytes(client: CursorClient) async throws {
        let collection = "cursors-\(client.rawValue)"
        let expected = try putAwkwardKeys(collection)
        var cursor: String?
        var seen: [[UInt8]] = []
        var pages = 0
        repeat {
            pages += 1
            let url = client.url(
                "\(cluster[1].httpURL)/v1/kv/\(collection)", limit: 1, cursor: cursor, encoding: "base64")
            let page = try await HTTP.send(.GET, url)
            #expect(page.status == 200, "\(url): \(page.text)")
            let keys = (page.object["keys"] as? [String] ?? []).map { Data(base64Encoded: $0).map(Array.init) }
            #expect(!keys.contains(nil), "keys are not base64: \(page.text)")
            seen += keys.compactMap { $0 }
            cursor = page.object["next"] as? String
            // The cursor is opaque, but made only of characters no URL library escapes.
            if let cursor {
                #expect(cursor.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            }
        } while cursor != nil && pages <= expected.count + 2
        #expect(cursor == nil, "paging did not end after \(pages) pages")
        #expect(seen == expected)
    }

    /// Without `encoding`, UTF-8 keys read as themselves; `after` still takes a plain (percent-encoded) key.
    @Test func listingKeysAsTextAndAfterAPlainKey() async throws {
        let collection = "cursors-text"
        let expected = try putAwkwardKeys(collection)
        let page = try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/\(collection)?limit=100")
        let keys = page.object["keys"] as? [String] ?? []
        #expect(keys.count == expected.count)
        for key in ["+plus+", "a b", "a/b", "a%b", "a+b=c&d", "été"] { #expect(keys.contains(key), "\(key)") }
        let after = try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/\(collection)?after=a%2Fb&limit=100")
        let rest = (after.object["keys"] as? [String] ?? [])
        // Sorted bytewise, "a+b=c&d" (0x2B) comes before "a/b" (0x2F): after it are plain, été and the 0xFF keys.
        #expect(rest.count == 4, "\(after.text)")
        #expect(rest.first == "plain", "\(after.text)")
    }

    @Test func aCursorThatIsNotOneIsA400() async throws {
        let reply = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/kv/cursors-bad?cursor=a%2Bb")
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.object["error"] as? String == "bad_cursor")
        let both = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/kv/cursors-bad?cursor=YQ&after=a")
        #expect(both.status == 400, "\(both.text)")
        let encoding = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/kv/cursors-bad?encoding=hex")
        #expect(encoding.status == 400, "\(encoding.text)")
        #expect(encoding.object["error"] as? String == "bad_encoding")
    }

    static func escape(_ text: String, keepUnreserved: Bool) -> String {
        text.utf8.map { byte in
            let unreserved =
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || [0x2D, 0x2E, 0x5F, 0x7E].contains(byte)
            return keepUnreserved && unreserved ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }.joined()
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

    // MARK: Declared oversized bodies

    static let oversizedRoutes = [
        "PUT /v1/kv/big/k", "PUT /v1/kv/big/a%2Fb", "POST /v1/kv/big/_batch", "POST /v1/cluster/join",
        "POST /big/k/v", "GET /health",
    ]

    /// A head declaring 1 GiB is refused from the head: a 413 within seconds, then the connection closes,
    /// though almost all of the body is still owed.
    @Test(arguments: oversizedRoutes)
    func aDeclaredOversizedBodyIsRefusedFromItsHead(route: String) throws {
        let socket = try RawSocket(port: cluster[0].httpPort, timeout: .seconds(5))
        let started = ContinuousClock.now
        socket.write(
            "\(route) HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n" + String(repeating: "x", count: 1024))
        let bytes = socket.readToClose()
        let response = try #require(RawResponse(bytes), "\(route): no answer in \(ContinuousClock.now - started)")
        #expect(response.status == 413, "\(route)")
        #expect(response.json["error"] as? String == "too_large", "\(route)")
        #expect(response.headers["connection"] == "close", "\(route)")
        #expect(response.headers["x-dhrt-node"] == "n1", "\(route)")
        #expect(ContinuousClock.now - started < .seconds(4), "\(route): the connection was not closed")
    }

    // MARK: Metrics

    /// Siblings (300) and plain reads (200) are both 3xx/2xx-class successes; the exact code tells them apart.
    @Test func metricsLabelRequestsByTheirExactStatusCode() async throws {
        let url = "/v1/kv/metric-codes/doc"
        #expect(try await HTTP.send(.PUT, cluster[0].httpURL + url, text: "from n1").status == 204)
        #expect(try await HTTP.send(.PUT, cluster[1].httpURL + url, text: "from n2").status == 204)
        let siblings = try await HTTP.send(.GET, cluster[2].httpURL + url, headers: [("X-Dhrt-R", "all")])
        #expect(siblings.status == 300)
        #expect(try await HTTP.send(.PUT, cluster[0].httpURL + url + "-single", text: "one").status == 204)
        let single = try await HTTP.send(.GET, cluster[2].httpURL + url + "-single", headers: [("X-Dhrt-R", "all")])
        #expect(single.status == 200)
        let metrics = try await HTTP.send(.GET, "\(cluster[2].httpURL)/metrics")
        let lines = metrics.text.split(separator: "\n").filter {
            $0.hasPrefix("dhrt_requests_total{") && $0.contains(#"operation="get""#)
                && $0.contains(#"consistency="all""#)
        }
        #expect(lines.contains { $0.contains(#"code="300""#) }, "\(lines)")
        #expect(lines.contains { $0.contains(#"code="200""#) }, "\(lines)")
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
