import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

extension Client {
    /// A client of the dhrt node at `node` (`http://HOST:PORT` or `https://HOST:PORT`).
    ///
    /// - Parameters:
    ///   - token: sent as `Authorization: Bearer <token>` when set.
    ///   - timeout: how long one request may take, from its start to the end of its answer.
    ///   - httpClient: the AsyncHTTPClient to send with; one configured with the CA that issued an HTTPS node's
    ///     certificate, or the shared one (the system's roots).
    public init(
        node: URL, token: String? = nil, timeout: TimeAmount = .seconds(10), httpClient: HTTPClient = .shared,
        middlewares: [any ClientMiddleware] = []
    ) {
        var all = middlewares + [ValueContentType()]
        if let token { all.append(BearerToken(token)) }
        all.append(TransportFailureReporter())
        self.init(
            serverURL: node,
            transport: AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: timeout)),
            middlewares: all)
    }
}

/// Sends `Authorization: Bearer <token>`.
public struct BearerToken: ClientMiddleware {
    let token: String

    /// A middleware sending `token`.
    public init(_ token: String) { self.token = token }

    /// Adds the header.
    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// The Content-Type stored with a value: the document accepts any (`*/*`), which the generated client would send
/// as is. Set `ValueContentType.current` around a `putObject` call; without it the node stores none (and GET
/// answers `application/octet-stream`).
public struct ValueContentType: ClientMiddleware {
    /// The Content-Type of the values uploaded in this task.
    @TaskLocal public static var current: String?

    /// The middleware that `Client(node:)` installs.
    public init() {}

    /// Replaces the placeholder `*/*`.
    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if request.headerFields[.contentType] == "*/*" { request.headerFields[.contentType] = Self.current }
        return try await next(request, body, baseURL)
    }
}

/// The request did not get an answer: the node could not be reached, or did not answer in time. The generated
/// client hands it on as a `ClientError`'s `underlyingError`.
public struct TransportFailure: Error, CustomStringConvertible {
    /// What the transport threw.
    public var underlying: any Error

    /// The transport's own description.
    public var description: String { "\(underlying)" }
}

/// Tells transport failures from answers the client could not decode, which `ClientError` alone does not.
struct TransportFailureReporter: ClientMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, baseURL)
        } catch let error as ClientError {
            // The runtime has already wrapped what the transport threw.
            throw TransportFailure(underlying: error.underlyingError)
        } catch {
            throw TransportFailure(underlying: error)
        }
    }
}
