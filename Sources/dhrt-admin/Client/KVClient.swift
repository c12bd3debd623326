import DhrtClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// The kv commands' requests, through `DhrtClient` (generated from Docs/openapi.yaml): reads, writes, deletes
/// and key listings of one node, with its errors as `AdminError`s.
struct KVClient: Sendable {
    let baseURL: String
    let token: String?
    let timeout: TimeAmount
    /// The CA an https:// node's certificate must chain to (`--cacert`); nil trusts the system's roots.
    let caFile: String?

    init(baseURL: String, token: String?, timeout: TimeAmount = .seconds(10), caFile: String? = nil) {
        self.baseURL = baseURL
        self.token = token
        self.timeout = timeout
        self.caFile = caFile
    }

    /// A value (200) or siblings (300); any other answer throws.
    func read(collection: String, key: String, quorum: [(String, String)]) async throws -> KVRead {
        let headers = Operations.GetObject.Input.Headers(
            xDhrtR: quorum.value("X-Dhrt-R"), xDhrtConsistency: quorum.value("X-Dhrt-Consistency"))
        let output = try await call { client in
            try await client.getObject(path: .init(collection: collection, key: key), headers: headers)
        }
        switch output {
        case .ok(let ok):
            return KVRead(
                collection: collection, key: key, values: [try await Self.bytes(ok.body.any)],
                context: ok.headers.xDhrtContext,
                status: 200, replicas: ok.headers.xDhrtReplicas, acks: ok.headers.xDhrtAcks,
                repaired: ok.headers.xDhrtRepaired)
        case .multipleChoices(let choices):
            let siblings = try choices.body.json
            return KVRead(
                collection: collection, key: key, values: siblings.siblings.map(Self.value),
                context: choices.headers.xDhrtContext ?? siblings.context, status: 300,
                replicas: choices.headers.xDhrtReplicas, acks: choices.headers.xDhrtAcks,
                repaired: choices.headers.xDhrtRepaired)
        case .badRequest(let answer): throw Self.failure(400, answer)
        case .unauthorized(let answer): throw Self.failure(401, answer)
        case .forbidden(let answer): throw Self.failure(403, answer)
        case .notFound(let answer): throw Self.failure(404, answer)
        case .requestTimeout(let answer): throw Self.failure(408, answer)
        case .contentTooLarge(let answer): throw Self.failure(413, answer)
        case .internalServerError(let answer): throw Self.failure(500, answer)
        case .serviceUnavailable(let answer): throw Self.failure(503, answer)
        case .undocumented(let status, let payload): throw try await Self.failure(status, payload)
        }
    }

    /// Stores `value`; `contentType` goes with it.
    func write(
        collection: String, key: String, value: [UInt8], contentType: String?, context: String?,
        quorum: [(String, String)]
    ) async throws -> WriteAnswer {
        let headers = Operations.PutObject.Input.Headers(
            xDhrtW: quorum.value("X-Dhrt-W"), xDhrtConsistency: quorum.value("X-Dhrt-Consistency"),
            xDhrtContext: context)
        let output = try await ValueContentType.$current.withValue(contentType) {
            try await call { client in
                try await client.putObject(
                    path: .init(collection: collection, key: key), headers: headers, body: .any(HTTPBody(value)))
            }
        }
        switch output {
        case .noContent(let written): return WriteAnswer(written)
        case .badRequest(let answer): throw Self.failure(400, answer)
        case .unauthorized(let answer): throw Self.failure(401, answer)
        case .forbidden(let answer): throw Self.failure(403, answer)
        case .requestTimeout(let answer): throw Self.failure(408, answer)
        case .preconditionFailed(let answer): throw Self.failure(412, answer)
        case .contentTooLarge(let answer): throw Self.failure(413, answer)
        case .internalServerError(let answer): throw Self.failure(500, answer)
        case .serviceUnavailable(let answer): throw Self.failure(503, answer)
        case .gatewayTimeout(let answer): throw Self.failure(504, answer)
        case .code507(let answer): throw Self.failure(507, answer)
        case .undocumented(let status, let payload): throw try await Self.failure(status, payload)
        }
    }

    /// Writes a tombstone.
    func delete(collection: String, key: String, context: String?, quorum: [(String, String)]) async throws
        -> WriteAnswer
    {
        let headers = Operations.DeleteObject.Input.Headers(
            xDhrtW: quorum.value("X-Dhrt-W"), xDhrtConsistency: quorum.value("X-Dhrt-Consistency"),
            xDhrtContext: context)
        let output = try await call { client in
            try await client.deleteObject(path: .init(collection: collection, key: key), headers: headers)
        }
        switch output {
        case .noContent(let written): return WriteAnswer(written)
        case .badRequest(let answer): throw Self.failure(400, answer)
        case .unauthorized(let answer): throw Self.failure(401, answer)
        case .forbidden(let answer): throw Self.failure(403, answer)
        case .requestTimeout(let answer): throw Self.failure(408, answer)
        case .preconditionFailed(let answer): throw Self.failure(412, answer)
        case .contentTooLarge(let answer): throw Self.failure(413, answer)
        case .internalServerError(let answer): throw Self.failure(500, answer)
        case .serviceUnavailable(let answer): throw Self.failure(503, answer)
        case .gatewayTimeout(let answer): throw Self.failure(504, answer)
        case .code507(let answer): throw Self.failure(507, answer)
        case .undocumented(let status, let payload): throw try await Self.failure(status, payload)
        }
    }

    /// One page of keys.
    func list(collection: String, limit: Int, cursor: String? = nil, after: String? = nil) async throws
        -> Components.Schemas.KeyPage
    {
        let query = Operations.ListKeys.Input.Query(limit: limit, cursor: cursor, after: after)
        let output = try await call { client in
            try await client.listKeys(path: .init(collection: collection), query: query)
        }
        switch output {
        case .ok(let ok): return try ok.body.json
        case .badRequest(let answer): throw Self.failure(400, answer)
        case .unauthorized(let answer): throw Self.failure(401, answer)
        case .forbidden(let answer): throw Self.failure(403, answer)
        case .requestTimeout(let answer): throw Self.failure(408, answer)
        case .contentTooLarge(let answer): throw Self.failure(413, answer)
        case .internalServerError(let answer): throw Self.failure(500, answer)
        case .serviceUnavailable(let answer): throw Self.failure(503, answer)
        case .undocumented(let status, let payload): throw try await Self.failure(status, payload)
        }
    }

    /// Runs one generated call, with an unreachable node and an answer that does not decode told apart.
    private func call<Output>(_ body: (Client) async throws -> Output) async throws -> Output {
        guard let url = URL(string: baseURL) else { throw AdminError.failed("'\(baseURL)' is not a URL") }
        let client = Client(
            node: url, token: token, timeout: timeout, httpClient: try HTTPClients.client(caFile: caFile))
        do {
            return try await body(client)
        } catch let error as ClientError {
            if let failure = error.underlyingError as? TransportFailure {
                throw AdminError.unreachable(baseURL, HTTPClients.reason(for: failure.underlying, url: baseURL))
            }
            let reason = "\(error.causeDescription) \(error.underlyingError)"
            throw AdminError.badAnswer("\(baseURL) gave an answer outside the API: \(reason)")
        }
    }

    private static func bytes(_ body: HTTPBody) async throws -> [UInt8] {
        try await [UInt8](collecting: body, upTo: 64 << 20)
    }

    /// A sibling's bytes; a concurrent delete shows as `(deleted)`.
    private static func value(_ sibling: Components.Schemas.Sibling) -> [UInt8] {
        switch sibling {
        case .case1(let value): Array(value.value.data)
        case .case2: Array("(deleted)".utf8)
        }
    }

    private static func failure(_ status: Int, _ answer: some ErrorAnswer) -> AdminError {
        guard let body = try? answer.error else {
            return .node(status: status, error: HTTPResponseStatus(statusCode: status).reasonPhrase, detail: nil)
        }
        return .node(status: status, error: body.error, detail: body.detail)
    }

    private static func failure(_ status: Int, _ payload: UndocumentedPayload) async throws -> AdminError {
        var body: [UInt8] = []
        if let payload = payload.body { body = try await bytes(payload) }
        let headers = payload.headerFields.map { ($0.name.rawName, $0.value) }
        return AdminError.fromResponse(NodeResponse(status: status, headers: headers, body: body))
    }
}

/// What a node said about a stored write or delete.
struct WriteAnswer: Sendable {
    var status = 204
    var acks: Int
    var replicas: String
    var context: String?

    init(_ written: Components.Responses.Written) {
        acks = written.headers.xDhrtAcks
        replicas = written.headers.xDhrtReplicas
        context = written.headers.xDhrtContext
    }
}

extension [(String, String)] {
    /// The value of header `name`, if given.
    fileprivate func value(_ name: String) -> String? { first { $0.0 == name }?.1 }
}
