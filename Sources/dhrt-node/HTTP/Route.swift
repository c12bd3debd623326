import Foundation
import HTTPTypes

/// Where an HTTP request goes, decided from its method and raw (percent-encoded) path alone.
enum Route: Equatable, Sendable {
    /// `GET /health`: liveness, 200 whenever the process serves HTTP.
    case health
    /// `GET /v1/ready`: readiness, 200 only when data requests can succeed.
    case ready
    case metrics
    case status
    /// `GET /v1/ring`: the ring as JSON.
    case ring
    case object(KVVerb, collection: String, key: [UInt8])
    case listKeys(collection: String)
    case dropCollection(String)
    case batch(collection: String)
    /// `GET /v1/transfers`: range transfer into this node.
    case transfers
    /// `GET /v1/hints`: the hints this node holds, per target.
    case hints
    /// `GET /v1/openapi.yaml`: Docs/openapi.yaml, the API's description.
    case openAPI
    /// `GET /v1/cluster/plan` and `POST /v1/cluster/{join,leave,force-remove,replace,commit,clear}`.
    case cluster(ClusterAction)
    /// `GET /`: the original design's stats.
    case seedStats
    case seedGet(collection: String, key: [UInt8])
    case seedSet(collection: String, key: [UInt8], value: [UInt8])
    case seedDelete(collection: String, key: [UInt8])
    case seedList(collection: String)
    case seedDrop(collection: String)

    enum KVVerb: Equatable, Sendable { case get, put, delete }

    enum ClusterAction: String, Equatable, Sendable, CaseIterable {
        case plan, join, leave, forceRemove = "force-remove", replace, commit, clear, abort
    }

    /// The collection used by the original design's one-segment routes.
    static let defaultCollection = "default"
    /// First path segments that belong to the API and can never name a collection.
    static let reservedNames: Set<String> = ["v1", "metrics", "health"]
    /// The last segment of `POST /v1/kv/{collection}/_batch`.
    static let batchSegment = Array("_batch".utf8)
}

/// Why a request has no route: the HTTP status and a message for the JSON error body.
enum RouteError: Error, Equatable {
    case notFound(String)
    case methodNotAllowed(allowed: [HTTPRequest.Method])
    case badRequest(String, detail: String)
}

extension Route {
    /// Resolves a request line; `path` is the raw path without the query.
    static func resolve(method: HTTPRequest.Method, path: String) throws(RouteError) -> Route {
        let trailingSlash = path.count > 1 && path.hasSuffix("/")
        let raw = path.split(separator: "/", omittingEmptySubsequences: true)
        var segments: [[UInt8]] = []
        for part in raw {
            guard let bytes = PercentDecoding.decode(part) else {
                throw .badRequest("bad_path", detail: "path segment '\(part)' has a malformed percent escape")
            }
            segments.append(bytes)
        }
        if let first = segments.first, let head = String(validating: first, as: UTF8.self),
            reservedNames.contains(head)
        {
            return try resolveReserved(head, method: method, rest: Array(segments.dropFirst()), path: path)
        }
        return try resolveSeed(method: method, segments: segments, trailingSlash: trailingSlash, path: path)
    }

    private static func resolveReserved(
        _ head: String, method: HTTPRequest.Method, rest: [[UInt8]], path: String
    ) throws(RouteError) -> Route {
        switch (head, rest.count) {
        case ("health", 0):
            try allow(method, [.get, .head])
            return .health
        case ("metrics", 0):
            try allow(method, [.get])
            return .metrics
        case ("v1", _):
            return try resolveV1(method: method, rest: rest, path: path)
        default:
            throw .badRequest(
                "reserved_collection", detail: "'\(head)' is reserved and cannot be used as a collection name")
        }
    }

    private static func resolveV1(method: HTTPRequest.Method, rest: [[UInt8]], path: String) throws(RouteError)
        -> Route
    {
        guard let area = rest.first.flatMap({ String(validating: $0, as: UTF8.self) }) else {
            throw .notFound("no route for \(path)")
        }
        switch (area, rest.count) {
        case ("status", 1):
            try allow(method, [.get])
            return .status
        case ("ready", 1):
            try allow(method, [.get, .head])
            return .ready
        case ("ring", 1):
            try allow(method, [.get])
            return .ring
        case ("transfers", 1):
            try allow(method, [.get])
            return .transfers
        case ("hints", 1):
            try allow(method, [.get])
            return .hints
        case ("openapi.yaml", 1):
            try allow(method, [.get, .head])
            return .openAPI
        case ("cluster", 2):
            guard let name = String(validating: rest[1], as: UTF8.self), let action = ClusterAction(rawValue: name)
            else { throw .notFound("no route for \(path)") }
            try allow(method, action == .plan ? [.get] : [.post])
            return .cluster(action)
        case ("kv", 2):
            let collection = try collectionName(rest[1])
            switch method {
            case .get: return .listKeys(collection: collection)
            case .delete: return .dropCollection(collection)
            default: throw .methodNotAllowed(allowed: [.get, .delete])
            }
        case ("kv", 3):
            let collection = try collectionName(rest[1])
            switch method {
            case .get, .head: return .object(.get, collection: collection, key: rest[2])
            case .put: return .object(.put, collection: collection, key: rest[2])
            case .delete: return .object(.delete, collection: collection, key: rest[2])
            case .post where rest[2] == batchSegment: return .batch(collection: collection)
            case .post: throw .methodNotAllowed(allowed: [.get, .put, .delete])
            // `_batch` is also a key: its own method joins the object methods.
            default:
                throw .methodNotAllowed(
                    allowed: rest[2] == batchSegment ? [.get, .put, .delete, .post] : [.get, .put, .delete])
            }
        default:
            throw .notFound("no route for \(path)")
        }
    }

    private static func resolveSeed(
        method: HTTPRequest.Method, segments: [[UInt8]], trailingSlash: Bool, path: String
    ) throws(RouteError) -> Route {
        switch (segments.count, trailingSlash) {
        case (0, _):
            try allow(method, [.get])
            return .seedStats
        case (1, true):
            let collection = try collectionName(segments[0])
            switch method {
            case .get: return .seedList(collection: collection)
            case .delete: return .seedDrop(collection: collection)
            default: throw .methodNotAllowed(allowed: [.get, .delete])
            }
        case (1, false):
            switch method {
            case .get: return .seedGet(collection: defaultCollection, key: segments[0])
            case .delete: return .seedDelete(collection: defaultCollection, key: segments[0])
            default: throw .methodNotAllowed(allowed: [.get, .delete])
            }
        case (2, _):
            switch method {
            case .get: return .seedGet(collection: try collectionName(segments[0]), key: segments[1])
            case .post: return .seedSet(collection: defaultCollection, key: segments[0], value: segments[1])
            case .delete: return .seedDelete(collection: try collectionName(segments[0]), key: segments[1])
            default: throw .methodNotAllowed(allowed: [.get, .post, .delete])
            }
        case (3, _):
            try allow(method, [.post])
            return .seedSet(collection: try collectionName(segments[0]), key: segments[1], value: segments[2])
        default:
            throw .notFound("no route for \(path)")
        }
    }

    private static func allow(_ method: HTTPRequest.Method, _ allowed: [HTTPRequest.Method]) throws(RouteError) {
        guard allowed.contains(method) else { throw .methodNotAllowed(allowed: allowed) }
    }

    /// A collection name: 1 to 64 of `[A-Za-z0-9_.-]`, not `.` or `..` (the storage engine's rule), not reserved.
    static func collectionName(_ bytes: [UInt8]) throws(RouteError) -> String {
        let valid =
            (1...64).contains(bytes.count) && bytes != [0x2E] && bytes != [0x2E, 0x2E]
            && bytes.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x5F || byte == 0x2E || byte == 0x2D
            }
        guard valid, let name = String(validating: bytes, as: UTF8.self) else {
            throw .badRequest(
                "invalid_collection",
                detail: "a collection name is 1 to 64 characters of [A-Za-z0-9_.-], not '.' or '..'")
        }
        guard !reservedNames.contains(name) else {
            throw .badRequest(
                "reserved_collection", detail: "'\(name)' is reserved and cannot be used as a collection name")
        }
        return name
    }
}

/// RFC 3986 percent-decoding into raw bytes (keys are bytes, not necessarily UTF-8).
enum PercentDecoding {
    static func decode(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            out.append(high << 4 | low)
        }
        return out
    }

    /// The raw (still percent-encoded) value of query parameter `name` in `query`, the first if repeated.
    static func rawQueryValue(_ name: String, in query: String?) -> Substring? {
        guard let query else { return nil }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }

    /// Percent-encodes any bytes so that `decode` gives them back: unreserved characters stay, all else is `%XX`.
    static func encode(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Route {
    /// The object route of a plain `/v1/kv/{collection}/{key}` path (no percent escape, no empty segment),
    /// found with one scan of its bytes; nil for anything else, which `resolve` then decides. Gives exactly what
    /// `resolve` gives for the paths it accepts.
    static func plainObject(method: HTTPRequest.Method, path: String) -> Route? {
        let verb: KVVerb
        switch method {
        case .get, .head: verb = .get
        case .put: verb = .put
        case .delete: verb = .delete
        default: return nil
        }
        var path = path
        return path.withUTF8 { bytes -> Route? in
            let prefix: StaticString = "/v1/kv/"
            let count = prefix.utf8CodeUnitCount
            guard bytes.count > count + 2,
                memcmp(bytes.baseAddress!, prefix.utf8Start, count) == 0
            else { return nil }
            let rest = UnsafeBufferPointer(rebasing: bytes[count...])
            guard let slash = rest.firstIndex(of: 0x2F), slash > rest.startIndex, slash < rest.endIndex - 1 else {
                return nil
            }
            let name = rest[rest.startIndex..<slash]
            let key = rest[(slash + 1)...]
            guard !key.contains(0x2F), !key.contains(0x25), !name.contains(0x25),
                let collection = try? collectionName(Array(name))
            else { return nil }
            return .object(verb, collection: collection, key: Array(key))
        }
    }
}
