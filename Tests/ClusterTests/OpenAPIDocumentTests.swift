import Foundation
import Testing

@testable import dhrt_node

/// `GET /v1/openapi.yaml` serves exactly Docs/openapi.yaml.
@Suite struct OpenAPIDocumentTests {
    /// Docs/openapi.yaml of this checkout.
    static let document: [UInt8] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("Docs/openapi.yaml").path
        return FileManager.default.contents(atPath: path).map { Array($0) } ?? []
    }()

    @Test func embeddedCopy_isDocsOpenAPIYaml_byteForByte() {
        #expect(!Self.document.isEmpty, "Docs/openapi.yaml not found")
        // A Bool, not the arrays: a failure would print the whole document twice.
        let same = Array(OpenAPIDocument.text.utf8) == Self.document
        #expect(same, "Sources/dhrt-node/HTTP/OpenAPIDocument.swift is stale: run scripts/openapi.sh")
    }

    @Test func route_isOpenAndTakesGetAndHead() throws {
        #expect(try Route.resolve(method: .get, path: "/v1/openapi.yaml") == .openAPI)
        #expect(try Route.resolve(method: .head, path: "/v1/openapi.yaml") == .openAPI)
        #expect(throws: RouteError.methodNotAllowed(allowed: [.get, .head])) {
            try Route.resolve(method: .put, path: "/v1/openapi.yaml")
        }
        #expect(Route.openAPI.access == .open)
    }

    @Test func node_servesTheDocument_asYAML_withoutAToken() async throws {
        let flags = ["--client-token", "client-token-0123456789", "--admin-token", "admin-token-0123456789ab"]
        let cluster = try await LocalCluster.start(size: 1, extra: flags, token: "admin-token-0123456789ab")
        defer { cluster.stop() }
        let url = "\(cluster[0].httpURL)/v1/openapi.yaml"
        let reply = try await HTTP.send(.GET, url)
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: "Content-Type") == "application/yaml")
        #expect(reply.headers.first(name: "X-Dhrt-Node") == "n1")
        let same = reply.body == Self.document
        #expect(same, "the served document is not Docs/openapi.yaml (\(reply.body.count) bytes)")
        let head = try await HTTP.send(.HEAD, url)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
    }
}
