import Foundation
import HTTPTypes
import NIOCore

/// A complete HTTP answer, independent of the server that carries it (Hummingbird or the object fast path).
struct HTTPAnswer: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer.
    init(status: HTTPResponse.Status, headers: HTTPFields = [:], json: JSONWriter) {
        var headers = headers
        headers[.contentType] = "application/json"
        self.init(status: status, headers: headers, body: ByteBuffer(bytes: json.bytes))
    }
}

extension APIError {
    /// `{"error": code, "detail": message}` with the error's status and headers.
    var answer: HTTPAnswer {
        var json = JSONWriter()
        json.object { json in
            json.field("error", code)
            json.field("detail", detail)
        }
        return HTTPAnswer(status: status, headers: headers, json: json)
    }
}

/// `GET`/`HEAD`/`PUT`/`DELETE /v1/kv/{collection}/{key}`: the request path's logic, driven by futures so that
/// a request runs to completion on the event loop that received it.
struct ObjectEndpoint: Sendable {
    let node: Node

    /// Answers one object request; the future never fails (errors become their JSON answers).
    func answer(
        _ verb: Route.KVVerb, collection: String, key: [UInt8], method: HTTPRequest.Method, headers: HTTPFields,
        body: ByteBuffer?
    ) -> EventLoopFuture<HTTPAnswer> {
        let started: EventLoopFuture<HTTPAnswer>
        do throws(APIError) {
            switch verb {
            case .get:
                let request = ReadRequest(
                    collection: collection, key: key, readQuorum: headers.readQuorum,
                    overriddenConsistency: headers.overriddenConsistency(by: .dhrtR))
                let isHead = method == .head
                started = try node.kv.startRead(request).map { Self.answer($0, isHead: isHead) }
            case .put:
                let value = body.map { Array($0.readableBytesView) } ?? []
                let content = Content(value: value, contentType: headers[.contentType] ?? "")
                started = try startWrite(collection: collection, key: key, content: content, headers: headers)
            case .delete:
                started = try startWrite(collection: collection, key: key, content: nil, headers: headers)
            }
        } catch {
            let loop = node.executors.currentOrAnyLoop
            return loop.makeSucceededFuture(error.answer)
        }
        return started.recover { error in
            (error as? APIError)?.answer ?? APIError(.internalServerError, "internal", "\(error)").answer
        }
    }

    private func startWrite(collection: String, key: [UInt8], content: Content?, headers: HTTPFields)
        throws(APIError) -> EventLoopFuture<HTTPAnswer>
    {
        let ifNoneMatch = headers[.ifNoneMatch]
        if let ifNoneMatch, ifNoneMatch != "*" {
            throw APIError.badRequest("bad_if_none_match", "If-None-Match supports only '*'")
        }
        let request = WriteRequest(
            collection: collection, key: key, content: content, context: headers[.dhrtContext],
            ifMatch: headers[.ifMatch], ifNoneMatch: ifNoneMatch != nil, writeQuorum: headers.writeQuorum,
            overriddenConsistency: headers.overriddenConsistency(by: .dhrtW), primaryQuorum: headers[.dhrtPW])
        return try node.kv.startWrite(request).map { outcome in
            var headers = KVHandlers.headers(acks: outcome.acks, replicas: outcome.replicas)
            if !outcome.hinted.isEmpty {
                // A structured-field list: each fallback with the primary it stood in for.
                headers[.dhrtHinted] = outcome.hinted.map { "\($0.fallback);owner=\($0.owner)" }
                    .joined(separator: ", ")
            }
            if !outcome.context.isEmpty { headers[.dhrtContext] = outcome.context }
            return HTTPAnswer(status: .noContent, headers: headers)
        }
    }

    /// 200 with the value, 300 with the siblings, or 404; every one with the read's headers.
    static func answer(_ outcome: ReadOutcome, isHead: Bool) -> HTTPAnswer {
        var headers = KVHandlers.headers(acks: outcome.acks, replicas: outcome.replicas)
        headers[.dhrtRepaired] = String(outcome.repaired)
        if !outcome.context.isEmpty { headers[.dhrtContext] = outcome.context }
        switch outcome.found {
        case .notFound:
            var error = APIError.notFound("key not found")
            error.headers = headers
            return error.answer
        case .value(let content):
            headers[.contentType] = content.contentType.isEmpty ? "application/octet-stream" : content.contentType
            return HTTPAnswer(
                status: .ok, headers: headers, body: isHead ? ByteBuffer() : ByteBuffer(bytes: content.value))
        case .siblings(let contents):
            return siblings(contents, context: outcome.context, headers: headers)
        }
    }

    /// `300 Multiple Choices`: `{"context", "siblings": [{"value": base64, "content_type"} | {"deleted": true}]}`.
    static func siblings(_ contents: [Content?], context: String, headers: HTTPFields) -> HTTPAnswer {
        var json = JSONWriter()
        json.object { json in
            json.field("context", context)
            json.key("siblings")
            json.array { json in
                for content in contents {
                    json.object { json in
                        if let content {
                            json.field("value", Data(content.value).base64EncodedString())
                            json.field("content_type", content.contentType)
                        } else {
                            json.field("deleted", true)
                        }
                    }
                }
            }
        }
        return HTTPAnswer(status: .multipleChoices, headers: headers, json: json)
    }
}
