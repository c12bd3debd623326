import HTTPTypes

/// Who may call a route: anyone, a client (data routes), or an administrator.
enum Access: Sendable {
    case open
    case client
    case admin
}

extension Route {
    /// `/health` and `/v1/ready` stay open so that load balancers and orchestrators need no secret, and
    /// `/v1/openapi.yaml` so that client generators need none: it describes the API, not this cluster.
    var access: Access {
        switch self {
        case .health, .ready, .openAPI: .open
        case .object, .listKeys, .batch, .seedGet, .seedSet, .seedDelete, .seedList: .client
        case .dropCollection, .seedDrop, .status, .ring, .metrics, .seedStats, .transfers, .hints, .cluster: .admin
        }
    }
}

/// Checks `Authorization: Bearer <token>` against the configured tokens.
///
/// The admin token opens every route. Without a client token the data routes are open; without an admin token
/// the admin routes take the client token (so that a node with only a client token does not leave drops open).
struct Authorization: Sendable {
    let clientToken: [UInt8]?
    let adminToken: [UInt8]?

    init(clientToken: String?, adminToken: String?) {
        self.clientToken = clientToken.map { Array($0.utf8) }
        self.adminToken = adminToken.map { Array($0.utf8) }
    }

    /// Whether no route needs a token: the hot path skips the header look-up.
    var isOpen: Bool { clientToken == nil && adminToken == nil }

    /// Nil when `headers` may call a route needing `access`, else the 401 or 403 to answer.
    func check(_ access: Access, _ headers: HTTPFields) -> APIError? {
        let accepted: [[UInt8]]
        switch access {
        case .open:
            return nil
        case .client:
            guard let clientToken else { return nil }
            accepted = [clientToken] + (adminToken.map { [$0] } ?? [])
        case .admin:
            guard let required = adminToken ?? clientToken else { return nil }
            accepted = [required]
        }
        guard let presented = Self.bearer(headers[.authorization]) else {
            return Self.unauthorized("this route needs `Authorization: Bearer <token>`")
        }
        var matched = false
        for token in accepted where Self.constantTimeEquals(presented, token) { matched = true }
        if matched { return nil }
        // A valid client token on an admin route is known but not enough.
        if access == .admin, let clientToken, adminToken != nil, Self.constantTimeEquals(presented, clientToken) {
            return APIError(.forbidden, "forbidden", "this route needs the admin token")
        }
        return Self.unauthorized("the bearer token is not valid")
    }

    private static func unauthorized(_ detail: String) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Bearer realm="dhrt""#
        return APIError(.unauthorized, "unauthorized", detail, headers: headers)
    }

    /// The token of a `Bearer` credential (scheme case-insensitive), as bytes.
    static func bearer(_ value: String?) -> [UInt8]? {
        guard let value, value.utf8.count > 7, value.prefix(7).lowercased() == "bearer " else { return nil }
        return Array(value.utf8.dropFirst(7).drop { $0 == 0x20 })
    }

    /// Compares in time that depends on `expected`'s length only, not on where the first difference is.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < presented.count ? presented[index] : 0)
        }
        return difference == 0
    }
}
