import Coordinator
import Foundation
import Hummingbird
import NIOCore

/// The canonical `/v1/kv` routes.
struct KVHandlers {
    let node: Node

    /// The object routes, when they reach Hummingbird rather than the fast path: the same endpoint.
    func object(_ verb: Route.KVVerb, collection: String, key: [UInt8], request: Request) async throws -> Response {
        var request = request
        let body = verb == .put ? try await collectBody(&request) : nil
        let answer = try await ObjectEndpoint(node: node).answer(
            verb, collection: collection, key: key, method: request.method, headers: request.headers, body: body
        ).get()
        return answer.response
    }

    func list(collection: String, request: Request) async throws -> Response {
        let query = try ListingQuery(request.uri.query)
        let page = try await node.kv.listKeys(collection: collection, after: query.after, limit: query.limit)
        var json = JSONWriter()
        json.object { json in
            json.field("collection", collection)
            if query.base64 { json.field("encoding", "base64") }
            json.key("keys")
            json.array { json in
                for key in page.keys {
                    if query.base64 { json.value(Data(key).base64EncodedString()) } else { json.value(utf8: key) }
                }
            }
            json.key("next")
            if let next = page.next { json.value(ListingCursor.encode(next)) } else { json.null() }
        }
        return json.response()
    }

    func drop(collection: String) async throws -> Response {
        try await node.kv.dropCollection(collection)
        return Response(status: .noContent)
    }

    func batch(collection: String, request: Request) async throws -> Response {
        // A bad request-level header fails the request, not each item.
        let overridden = request.headers.overriddenConsistency(by: .dhrtW).map { ("X-Dhrt-Consistency", $0) }
        let primaries = request.headers[.dhrtPW]
        let levels = [request.headers.writeQuorum, overridden, primaries.map { ("X-Dhrt-PW", $0) }]
        for quorum in levels.compactMap({ $0 }) {
            do {
                _ = try ConsistencyLevel.parse(quorum.1, header: quorum.0, n: node.config.replicas)
            } catch {
                throw APIError.badRequest("bad_consistency", error.description)
            }
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: node.limits.maxBatchSize)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: node.limits.maxBatchSize)
        }
        let items: [BatchItem]
        do {
            items = try JSONDecoder().decode([BatchItem].self, from: Data(buffer: body))
        } catch {
            throw APIError.badRequest("bad_batch", "the body must be a JSON array of {op, key, value?}: \(error)")
        }
        guard items.count <= 1000 else { throw APIError.badRequest("bad_batch", "at most 1000 items per batch") }
        // Every item is checked before any is applied: a malformed batch changes nothing.
        var writes: [WriteRequest] = []
        for (index, item) in items.enumerated() {
            writes.append(try prepare(item, index: index, collection: collection, request.headers))
        }
        var json = JSONWriter()
        var results: [(key: String, outcome: Result<WriteOutcome, APIError>)] = []
        for (item, write) in zip(items, writes) {
            results.append((item.key, await run(write)))
        }
        json.object { json in
            json.key("results")
            json.array { json in
                for result in results {
                    json.object { json in
                        json.field("key", result.key)
                        switch result.outcome {
                        case .success(let outcome):
                            json.field("status", 204)
                            json.field("acks", outcome.acks)
                        case .failure(let error):
                            json.field("status", Int(error.status.code))
                            json.field("error", error.code)
                            json.field("detail", error.detail)
                        }
                    }
                }
            }
        }
        return json.response()
    }

    /// The write of one item, or a 400 `bad_batch` naming what is malformed in it.
    private func prepare(_ item: BatchItem, index: Int, collection: String, _ headers: HTTPFields)
        throws(APIError) -> WriteRequest
    {
        func malformed(_ detail: String) -> APIError { .badRequest("bad_batch", "item \(index): \(detail)") }
        let key = Array(item.key.utf8)
        guard !key.isEmpty else { throw malformed("the key is empty") }
        guard key.count <= node.limits.maxKeySize else {
            throw malformed("the key is \(key.count) bytes; the limit is \(node.limits.maxKeySize) bytes")
        }
        let content: Content?
        switch item.op {
        case "put":
            let value: [UInt8]
            if let base64 = item.valueBase64 {
                guard let data = Data(base64Encoded: base64) else { throw malformed("value_base64 is not base64") }
                value = Array(data)
            } else {
                value = Array((item.value ?? "").utf8)
            }
            content = Content(value: value, contentType: item.contentType ?? "")
        case "delete":
            content = nil
        default:
            throw malformed("op must be 'put' or 'delete', not '\(item.op)'")
        }
        return WriteRequest(
            collection: collection, key: key, content: content, context: item.context, ifMatch: nil,
            ifNoneMatch: false, writeQuorum: headers.writeQuorum, primaryQuorum: headers[.dhrtPW])
    }

    /// Applies one prepared item; a value over the limit or a failed write is this item's result alone.
    private func run(_ write: WriteRequest) async -> Result<WriteOutcome, APIError> {
        do throws(APIError) {
            if let content = write.content, content.value.count > node.limits.maxValueSize {
                throw .tooLarge(limit: node.limits.maxValueSize)
            }
            return .success(try await node.kv.write(write))
        } catch {
            return .failure(error)
        }
    }

    private func collectBody(_ request: inout Request) async throws -> ByteBuffer {
        let limit = node.limits.maxValueSize
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        return try await request.collectBody(upTo: limit)
    }

    static func headers(acks: Int, replicas: [String]) -> HTTPFields {
        var headers = HTTPFields()
        headers[.dhrtAcks] = String(acks)
        headers[.dhrtReplicas] = replicas.joined(separator: ",")
        return headers
    }

    /// `300 Multiple Choices` (see `ObjectEndpoint.siblings`).
    static func siblingsResponse(_ contents: [Content?], context: String, headers: HTTPFields) -> Response {
        ObjectEndpoint.siblings(contents, context: context, headers: headers).response
    }
}

extension HTTPAnswer {
    /// The answer as a Hummingbird response.
    var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// One entry of a `_batch` body: `{"op": "put"|"delete", "key": "...", "value": "...", "value_base64": "...",
/// "content_type": "...", "context": "..."}`.
struct BatchItem: Decodable, Sendable {
    var op: String
    var key: String
    var value: String?
    var valueBase64: String?
    var contentType: String?
    var context: String?

    enum CodingKeys: String, CodingKey {
        case op, key, value, context
        case valueBase64 = "value_base64"
        case contentType = "content_type"
    }
}
