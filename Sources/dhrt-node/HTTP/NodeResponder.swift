import Hummingbird
import Logging
import NIOCore

/// Answers every HTTP request of the node: resolves the route, runs its handler, maps errors to JSON.
///
/// Routing is done here rather than by Hummingbird's router because keys are raw bytes (percent-decoded
/// per segment), the original design's routes differ only by a trailing slash, and wrong methods on a
/// known path MUST be 405, not 404.
struct NodeResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let node: Node
    let authorization: Authorization

    init(node: Node) {
        self.node = node
        self.authorization = Authorization(
            clientToken: node.config.frontDoor.clientToken, adminToken: node.config.frontDoor.adminToken)
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var operation = "unknown"
        var consistency = "-"
        var response: Response
        do {
            let route = try Route.resolve(method: request.method, path: request.uri.path)
            (operation, consistency) = Self.label(route, request.headers)
            if let denied = authorization.check(route.access, request.headers) { throw denied }
            response = try await handle(route, request)
        } catch let error as RouteError {
            response = error.apiError.response
        } catch let error as APIError {
            response = error.response
        } catch  where ObjectFastPath.isMalformedRequest(error) {
            // A body the parser rejected (e.g. a bad chunk size): the client's fault, and the stream is lost.
            response = APIError.badRequest("bad_request", "malformed HTTP request body: \(error)").response
            response.headers[.connection] = "close"
        } catch is NIOTooManyBytesError {
            response = APIError.tooLarge(limit: node.limits.maxValueSize).response
        } catch {
            node.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = APIError(.internalServerError, "internal", "\(error)").response
        }
        response.headers[.dhrtNode] = node.config.name
        // Probes and scrapes come every few seconds; counting them would drown the client requests.
        if operation != "metrics" && operation != "health" && operation != "ready" {
            node.metrics.recordRequest(
                operation: operation, consistency: consistency, status: response.status.code,
                duration: ContinuousClock.now - start)
        }
        return response
    }

    private func handle(_ route: Route, _ request: Request) async throws -> Response {
        let handlers = KVHandlers(node: node)
        switch route {
        case .health: return StatusHandlers(node: node).health()
        case .ready: return StatusHandlers(node: node).ready()
        case .metrics: return StatusHandlers(node: node).metrics()
        case .status: return StatusHandlers(node: node).status()
        case .ring: return try StatusHandlers(node: node).ring()
        case .seedStats: return StatusHandlers(node: node).seedStats()
        case .transfers: return TransferHandlers.response(node)
        case .hints: return StatusHandlers(node: node).hints()
        case .openAPI: return StatusHandlers.openAPIDocument()
        case .cluster(let action): return try await ClusterHandlers(node: node).handle(action, request)
        case .object(let verb, let collection, let key):
            return try await handlers.object(verb, collection: collection, key: key, request: request)
        case .listKeys(let collection): return try await handlers.list(collection: collection, request: request)
        case .dropCollection(let collection): return try await handlers.drop(collection: collection)
        case .batch(let collection): return try await handlers.batch(collection: collection, request: request)
        case .seedGet, .seedSet, .seedDelete, .seedList, .seedDrop:
            return try await SeedHandlers(node: node).handle(route)
        }
    }

    /// Metric labels: operation and consistency level (unknown levels collapse so labels stay few).
    static func label(_ route: Route, _ headers: HTTPFields) -> (String, String) {
        let (operation, level) = rawLabel(route, headers)
        switch level {
        case "one", "quorum", "all", "-", "1", "2", "3", "4", "5", "6", "7", "8", "9": return (operation, level)
        default: return (operation, "invalid")
        }
    }

    private static func rawLabel(_ route: Route, _ headers: HTTPFields) -> (String, String) {
        switch route {
        case .health: return ("health", "-")
        case .ready: return ("ready", "-")
        case .metrics: return ("metrics", "-")
        case .openAPI: return ("openapi", "-")
        case .status, .seedStats, .ring, .transfers, .hints: return ("status", "-")
        case .cluster: return ("cluster", "-")
        case .object(.get, _, _), .seedGet: return ("get", headers.readQuorum?.value ?? "quorum")
        case .object(.put, _, _), .seedSet: return ("put", headers.writeQuorum?.value ?? "quorum")
        case .object(.delete, _, _), .seedDelete: return ("delete", headers.writeQuorum?.value ?? "quorum")
        case .listKeys, .seedList: return ("list", "-")
        case .dropCollection, .seedDrop: return ("drop", "-")
        case .batch: return ("batch", headers.writeQuorum?.value ?? "quorum")
        }
    }
}

extension APIError {
    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, "too_large", "the body exceeds the limit of \(limit) bytes")
    }
}
