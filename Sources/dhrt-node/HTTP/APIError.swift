import Hummingbird

/// An HTTP error answered as `{"error": code, "detail": message}` with its status.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    /// A stable, machine-readable code such as `bad_consistency`.
    var code: String
    /// A sentence for people.
    var detail: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    var response: Response { answer.response }

    static func badRequest(_ code: String, _ detail: String) -> APIError { APIError(.badRequest, code, detail) }
    static func notFound(_ detail: String) -> APIError { APIError(.notFound, "not_found", detail) }
    static func unavailable(_ detail: String) -> APIError { APIError(.serviceUnavailable, "unavailable", detail) }
    static func preconditionFailed(_ detail: String) -> APIError {
        APIError(.preconditionFailed, "precondition_failed", detail)
    }
}

extension RouteError {
    var apiError: APIError {
        switch self {
        case .notFound(let detail):
            return .notFound(detail)
        case .methodNotAllowed(let allowed):
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            var headers = HTTPFields()
            headers[.allow] = list
            return APIError(.methodNotAllowed, "method_not_allowed", "allowed methods: \(list)", headers: headers)
        case .badRequest(let code, let detail):
            return .badRequest(code, detail)
        }
    }
}
