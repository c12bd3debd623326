import Hummingbird

/// The original design's routes: text keys and values in the path, `{"Key": …, "Value": …}` answers.
///
/// Their writes overwrite: a set or delete first reads the key's context and supersedes it, so these
/// routes never create siblings by themselves.
struct SeedHandlers {
    let node: Node

    /// Most pairs `GET /{collection}/` returns.
    static let maxPairs = 10_000

    func handle(_ route: Route) async throws -> Response {
        switch route {
        case .seedGet(let collection, let key):
            let outcome = try await node.kv.read(ReadRequest(collection: collection, key: key, readQuorum: nil))
            switch outcome.found {
            case .notFound:
                throw APIError.notFound("key not found")
            case .value(let content):
                return pair(key: key, value: content.value)
            case .siblings(let contents):
                return KVHandlers.siblingsResponse(
                    contents, context: outcome.context,
                    headers: KVHandlers.headers(acks: outcome.acks, replicas: outcome.replicas))
            }
        case .seedSet(let collection, let key, let value):
            let context = try await currentContext(collection: collection, key: key)
            _ = try await node.kv.write(
                WriteRequest(
                    collection: collection, key: key, content: Content(value: value, contentType: "text/plain"),
                    context: context, ifMatch: nil, ifNoneMatch: false, writeQuorum: nil))
            return pair(key: key, value: value)
        case .seedDelete(let collection, let key):
            let outcome = try await node.kv.read(ReadRequest(collection: collection, key: key, readQuorum: nil))
            guard case .value(let content) = outcome.found else {
                if case .notFound = outcome.found { throw APIError.notFound("key not found") }
                return try await deleteSiblings(collection: collection, key: key, context: outcome.context)
            }
            _ = try await node.kv.write(
                WriteRequest(
                    collection: collection, key: key, content: nil, context: outcome.context, ifMatch: nil,
                    ifNoneMatch: false, writeQuorum: nil))
            return pair(key: key, value: content.value)
        case .seedList(let collection):
            return try await listPairs(collection: collection)
        case .seedDrop(let collection):
            try await node.kv.dropCollection(collection)
            var json = JSONWriter()
            json.object { json in
                json.field("Collection", collection)
                json.field("Deleted", true)
            }
            return json.response()
        default:
            throw APIError.notFound("no such route")
        }
    }

    private func currentContext(collection: String, key: [UInt8]) async throws -> String? {
        let outcome = try await node.kv.read(ReadRequest(collection: collection, key: key, readQuorum: nil))
        return outcome.context.isEmpty ? nil : outcome.context
    }

    private func deleteSiblings(collection: String, key: [UInt8], context: String) async throws -> Response {
        _ = try await node.kv.write(
            WriteRequest(
                collection: collection, key: key, content: nil, context: context, ifMatch: nil, ifNoneMatch: false,
                writeQuorum: nil))
        var json = JSONWriter()
        json.object { json in
            json.key("Key")
            json.value(utf8: key)
            json.key("Value")
            json.null()
        }
        return json.response()
    }

    private func listPairs(collection: String) async throws -> Response {
        var pairs: [([UInt8], [UInt8])] = []
        var after: [UInt8]?
        repeat {
            let page = try await node.kv.listKeys(collection: collection, after: after, limit: 1000)
            for key in page.keys {
                let outcome = try await node.kv.read(ReadRequest(collection: collection, key: key, readQuorum: nil))
                switch outcome.found {
                case .notFound: continue
                case .value(let content): pairs.append((key, content.value))
                case .siblings(let contents):
                    // The original design has one value per key; show the last live sibling.
                    if let last = contents.compactMap({ $0 }).last { pairs.append((key, last.value)) }
                }
            }
            after = page.next
        } while after != nil && pairs.count < Self.maxPairs
        var json = JSONWriter()
        json.array { json in
            for (key, value) in pairs.prefix(Self.maxPairs) {
                json.object { json in
                    json.key("Key")
                    json.value(utf8: key)
                    json.key("Value")
                    json.value(utf8: value)
                }
            }
        }
        return json.response()
    }

    private func pair(key: [UInt8], value: [UInt8]) -> Response {
        var json = JSONWriter()
        json.object { json in
            json.key("Key")
            json.value(utf8: key)
            json.key("Value")
            json.value(utf8: value)
        }
        return json.response()
    }
}
