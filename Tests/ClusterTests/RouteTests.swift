import HTTPTypes
import Testing

@testable import dhrt_node

/// HTTP routing from method and raw path alone.
@Suite struct RouteTests {
    @Test(arguments: [
        (HTTPRequest.Method.get, "/v1/kv/notes/a%2Fb", Route.object(.get, collection: "notes", key: Array("a/b".utf8))),
        (.put, "/v1/kv/notes/k", .object(.put, collection: "notes", key: Array("k".utf8))),
        (.delete, "/v1/kv/notes/k", .object(.delete, collection: "notes", key: Array("k".utf8))),
        (.get, "/v1/kv/notes", .listKeys(collection: "notes")),
        (.delete, "/v1/kv/notes", .dropCollection("notes")),
        (.post, "/v1/kv/notes/_batch", .batch(collection: "notes")),
        (.get, "/v1/status", .status),
        (.get, "/v1/ring", .ring),
        (.get, "/health", .health),
        (.get, "/metrics", .metrics),
        (.get, "/", .seedStats),
        (.get, "/k", .seedGet(collection: "default", key: Array("k".utf8))),
        (.post, "/k/v", .seedSet(collection: "default", key: Array("k".utf8), value: Array("v".utf8))),
        (.get, "/c/k", .seedGet(collection: "c", key: Array("k".utf8))),
        (.post, "/c/k/v", .seedSet(collection: "c", key: Array("k".utf8), value: Array("v".utf8))),
        (.delete, "/k", .seedDelete(collection: "default", key: Array("k".utf8))),
        (.delete, "/c/k", .seedDelete(collection: "c", key: Array("k".utf8))),
        (.get, "/c/", .seedList(collection: "c")),
        (.delete, "/c/", .seedDrop(collection: "c")),
    ])
    func routesResolve(method: HTTPRequest.Method, path: String, expected: Route) throws {
        #expect(try Route.resolve(method: method, path: path) == expected)
    }

    @Test func keysArePercentDecodedToRawBytes() throws {
        #expect(
            try Route.resolve(method: .get, path: "/v1/kv/c/%FF%00x")
                == .object(.get, collection: "c", key: [0xFF, 0x00, 0x78]))
    }

    @Test(arguments: ["/v1/kv/health/k", "/v1/kv/metrics", "/v1/kv/v1/k", "/health/k/v", "/metrics/k"])
    func reservedNamesAreNotCollections(path: String) {
        #expect(throws: RouteError.self) { try Route.resolve(method: .get, path: path) }
    }

    @Test func wrongMethodOnAKnownPathIsMethodNotAllowed() {
        #expect(throws: RouteError.methodNotAllowed(allowed: [.get, .put, .delete])) {
            try Route.resolve(method: .post, path: "/v1/kv/c/k")
        }
    }

    @Test(arguments: ["/v1/kv/c/%G1", "/v1/kv/c/%4"])
    func malformedEscapesAreBadRequests(path: String) {
        #expect(throws: RouteError.self) { try Route.resolve(method: .get, path: path) }
    }

    @Test(arguments: ["/v1/kv/a%20b/k", "/v1/kv/../k", "/v1/kv/\(String(repeating: "x", count: 65))/k"])
    func invalidCollectionNamesAreBadRequests(path: String) {
        #expect(throws: RouteError.self) { try Route.resolve(method: .get, path: path) }
    }

    /// The fast path's one-scan parse accepts only what `resolve` resolves to the same object route.
    @Test(arguments: [
        "/v1/kv/notes/k", "/v1/kv/notes/a%2Fb", "/v1/kv/notes/", "/v1/kv/notes", "/v1/kv//k", "/v1/kv/no tes/k",
        "/v1/kv/health/k", "/v1/kv/./k", "/v1/kv/notes/k/", "/v1/kv/notes/a/b", "/v1/kv/n/_batch", "/v1/kvx/n/k",
        "/v1/kv/n/\u{e9}t\u{e9}", "/v2/kv/n/k", "/v1/kv/a.b-c_d/k+1",
    ])
    func plainObjectAgreesWithResolve(path: String) {
        for method in [HTTPRequest.Method.get, .head, .put, .delete, .post] {
            guard let fast = Route.plainObject(method: method, path: path) else { continue }
            #expect((try? Route.resolve(method: method, path: path)) == fast, "\(method) \(path)")
        }
        #expect(Route.plainObject(method: .get, path: "/v1/kv/notes/k") != nil)
    }
}
