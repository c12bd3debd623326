import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP answer from a node.
struct NodeResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    var isSuccess: Bool { (200..<300).contains(status) }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Talks to one node's client API.
struct NodeClient: Sendable {
    let baseURL: String
    /// Sent as `Authorization: Bearer`, when set.
    var token: String?
    var timeout: TimeAmount = .seconds(10)
    /// The CA file an https:// node's certificate is verified with; nil: the system's roots.
    var caFile: String?

    init(baseURL: String, token: String? = nil, timeout: TimeAmount = .seconds(10), caFile: String? = nil) {
        self.baseURL = baseURL
        self.token = token
        self.timeout = timeout
        self.caFile = caFile
    }

    func send(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> NodeResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        let client = try HTTPClients.client(caFile: caFile)
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw AdminError.unreachable(baseURL, HTTPClients.reason(for: error, url: baseURL))
        }
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return NodeResponse(
            status: Int(response.status.code),
            headers: response.headers.map { ($0.name, $0.value) },
            body: Array(buffer.readableBytesView)
        )
    }

    /// Sends and throws the node's own error message unless the answer is 2xx (or one of `accepting`).
    func expect(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        accepting: Set<Int> = []
    ) async throws -> NodeResponse {
        let response = try await send(method, path, headers: headers, body: body)
        guard response.isSuccess || accepting.contains(response.status) else {
            throw AdminError.fromResponse(response)
        }
        return response
    }

    /// Fetches a JSON document as a Foundation object tree.
    func json(_ path: String) async throws -> Any {
        let response = try await expect(.GET, path)
        do {
            return try JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
        } catch {
            throw AdminError.badAnswer("\(path) did not return JSON: \(response.text.prefix(200))")
        }
    }

    static func kvPath(collection: String, key: String) -> String {
        "/v1/kv/\(PathEscape.component(collection))/\(PathEscape.component(key))"
    }
}

/// Percent-encoding of one URL path segment.
enum PathEscape {
    private static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func query(_ text: String) -> String { component(text) }
}

/// Errors shown to the operator, one clear sentence each.
enum AdminError: Error, CustomStringConvertible {
    case node(status: Int, error: String, detail: String?)
    case unreachable(String, String)
    case badAnswer(String)
    case failed(String)

    var description: String {
        switch self {
        case .node(let status, let error, let detail):
            if let detail, !detail.isEmpty { return "\(status): \(error) (\(detail))" }
            return "\(status): \(error)"
        case .unreachable(let url, let reason):
            return "cannot reach \(url): \(reason)"
        case .badAnswer(let message), .failed(let message):
            return message
        }
    }

    /// Reads `{"error","detail"}` from a failed answer, or falls back to its text.
    static func fromResponse(_ response: NodeResponse) -> AdminError {
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let error = object["error"] as? String
        {
            return .node(status: response.status, error: error, detail: object["detail"] as? String)
        }
        let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = HTTPResponseStatus(statusCode: response.status).reasonPhrase
        return .node(status: response.status, error: text.isEmpty ? reason : String(text.prefix(300)), detail: nil)
    }
}
