import Crypto
import DhrtClient
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Testing

/// The generated client: made from the current Docs/openapi.yaml, and what it puts on the wire.
@Suite struct DhrtClientTests {
    @Test func generatedSources_comeFromTheCurrentDocument() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try Data(contentsOf: root.appendingPathComponent("Docs/openapi.yaml"))
        let digest = SHA256.hash(data: document).map { String(format: "%02x", $0) }.joined()
        #expect(digest == DhrtClientSource.documentSHA256, "Sources/DhrtClient is stale: run scripts/openapi.sh")
    }

    @Test func put_sendsTheValueItsContentTypeAndTheToken_withTheKeyPercentEncoded() async throws {
        let transport = Recorder(
            status: .noContent, headers: ["X-Dhrt-Node": "n1", "X-Dhrt-Acks": "2", "X-Dhrt-Replicas": "n1,n2"])
        let client = Client(
            serverURL: URL(string: "http://127.0.0.1:8701")!, transport: transport,
            middlewares: [ValueContentType(), BearerToken("token-0123456789abcdef")])
        let output = try await ValueContentType.$current.withValue("text/plain") {
            try await client.putObject(
                path: .init(collection: "notes", key: "a/b é"), headers: .init(xDhrtW: "all"),
                body: .any(HTTPBody("hello")))
        }
        let written = try output.noContent
        #expect(written.headers.xDhrtAcks == 2)
        #expect(written.headers.xDhrtReplicas == "n1,n2")
        let request = try #require(transport.requests.first)
        #expect(request.method == .put)
        #expect(request.path == "/v1/kv/notes/a%2Fb%20%C3%A9")
        #expect(request.headerFields[.contentType] == "text/plain")
        #expect(request.headerFields[.authorization] == "Bearer token-0123456789abcdef")
        #expect(request.headerFields[HTTPField.Name("X-Dhrt-W")!] == "all")
        #expect(transport.bodies.first == Array("hello".utf8))
    }

    @Test func get_ofSiblings_decodesEveryValueAndTheDelete() async throws {
        let body = #"{"context":"AQEC","siblings":[{"value":"b25l","content_type":"text/plain"},{"deleted":true}]}"#
        let transport = Recorder(
            status: .multipleChoices,
            headers: [
                "X-Dhrt-Node": "n1", "X-Dhrt-Acks": "1", "X-Dhrt-Replicas": "n1", "X-Dhrt-Repaired": "0",
                "Content-Type": "application/json",
            ], body: body)
        let client = Client(serverURL: URL(string: "http://127.0.0.1:8701")!, transport: transport)
        let siblings = try await client.getObject(path: .init(collection: "c", key: "k")).multipleChoices.body.json
        #expect(siblings.context == "AQEC")
        guard case .case1(let value) = siblings.siblings.first, case .case2(let deleted) = siblings.siblings.last else {
            Issue.record("siblings decoded as \(siblings.siblings)")
            return
        }
        #expect(Array(value.value.data) == Array("one".utf8))
        #expect(value.contentType == "text/plain")
        #expect(deleted.deleted)
    }
}

/// A transport that records requests and answers every one the same.
final class Recorder: ClientTransport, @unchecked Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: String?
    private let lock = NSLock()
    private var log: [(HTTPRequest, [UInt8])] = []

    init(status: HTTPResponse.Status, headers: [String: String], body: String? = nil) {
        self.status = status
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        self.headers = fields
        self.body = body
    }

    var requests: [HTTPRequest] { lock.withLock { log.map(\.0) } }
    var bodies: [[UInt8]] { lock.withLock { log.map(\.1) } }

    func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws
        -> (HTTPResponse, HTTPBody?)
    {
        var bytes: [UInt8] = []
        if let body { bytes = try await [UInt8](collecting: body, upTo: 1 << 20) }
        lock.withLock { log.append((request, bytes)) }
        return (HTTPResponse(status: status, headerFields: headers), self.body.map { HTTPBody($0) })
    }
}
