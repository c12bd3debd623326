import Foundation
import Testing

/// Object requests are answered in the channel pipeline, other routes by Hummingbird; on one connection the
/// answers still come back in request order, whichever side serves each request.
@Suite(.serialized)
struct PipeliningTests {
    static func request(_ method: String, _ path: String, body: String = "", close: Bool = false) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: dhrt\r\n"
        if !body.isEmpty || method == "PUT" { text += "Content-Length: \(body.utf8.count)\r\n" }
        if close { text += "Connection: close\r\n" }
        return text + "\r\n" + body
    }

    @Test func pipelinedRequestsMixingBothServers_areAnsweredInOrder() async throws {
        let cluster = try await LocalCluster.start(size: 1)
        defer { cluster.stop() }
        let node = cluster[0]
        let requests = [
            Self.request("PUT", "/v1/kv/pipe/k", body: "v1"),
            Self.request("GET", "/health"),
            Self.request("GET", "/v1/kv/pipe/k"),
            Self.request("GET", "/v1/kv/pipe/missing"),
            Self.request("GET", "/v1/kv/pipe"),
            Self.request("PUT", "/v1/kv/pipe/k", body: "v2"),
            Self.request("GET", "/v1/kv/pipe/k"),
            Self.request("DELETE", "/v1/kv/pipe/k", close: true),
        ]
        let reply = try RawFrame.exchange(Array(requests.joined().utf8), port: node.httpPort)
        let text = String(decoding: reply, as: UTF8.self)
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        // PUT, health, GET v1, missing, listing, blind PUT (a sibling of v1), GET → 300 with both, DELETE.
        #expect(statuses == ["204", "200", "200", "404", "200", "204", "300", "204"], "\(text)")
        #expect(text.contains("djE=") && text.contains("djI="), "both siblings, base64 of v1 and v2: \(text)")
        #expect(text.components(separatedBy: "X-Dhrt-Node: n1").count - 1 == requests.count)
    }

    /// The 413 comes from the head, before the body is read; the body is still owed, so the connection closes
    /// after the answer and a request pipelined behind it is not answered.
    @Test func anOversizedBody_isA413FromItsHead_thenTheConnectionCloses() async throws {
        let cluster = try await LocalCluster.start(size: 1)
        defer { cluster.stop() }
        let node = cluster[0]
        let big = String(repeating: "x", count: (8 << 20) + 1)
        let requests = [
            Self.request("PUT", "/v1/kv/pipe/big", body: big),
            Self.request("GET", "/v1/kv/pipe/big", close: true),
        ]
        let reply = try RawFrame.exchange(Array(requests.joined().utf8), port: node.httpPort)
        let text = String(decoding: reply, as: UTF8.self)
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["413"], "\(text.prefix(2000))")
        #expect(text.contains("\"too_large\"") && text.contains("Connection: close"))
    }

    @Test func expectContinue_isAnsweredBeforeTheBody() async throws {
        let cluster = try await LocalCluster.start(size: 1)
        defer { cluster.stop() }
        let head = "PUT /v1/kv/pipe/k HTTP/1.1\r\nHost: dhrt\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
        let reply = try RawFrame.exchange(Array((head + "Connection: close\r\n\r\nv1").utf8), port: cluster[0].httpPort)
        let text = String(decoding: reply, as: UTF8.self)
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["100", "204"], "\(text)")
    }
}
