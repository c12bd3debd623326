/// What guards the node's two ports: connection limits, timeouts for slow clients and peers, credentials.
struct FrontDoor: Sendable {
    /// Longest time from a request's first byte to the end of its head.
    var headerTimeout: Duration = .seconds(10)
    /// Longest time from the end of a request's head to the end of its body.
    var bodyTimeout: Duration = .seconds(60)
    /// Longest silence on a keep-alive connection between requests.
    var idleTimeout: Duration = .seconds(60)
    /// Open HTTP connections; one more is answered 503 and closed.
    var maxHTTPConnections = 4096
    /// Open inbound inter-node connections; one more is closed at once.
    var maxClusterConnections = 256
    /// Longest time an inbound inter-node connection has to prove itself (handshake, or a first valid frame).
    var handshakeTimeout: Duration = .seconds(5)
    /// Bearer token of the data routes; nil leaves them open.
    var clientToken: String?
    /// Bearer token of the admin routes (drops, `/v1/status`); nil leaves them open.
    var adminToken: String?
    /// The secret every inter-node connection proves in its handshake; nil runs no handshake.
    var clusterSecret: [UInt8]?

    static let defaults = FrontDoor()
}

extension FrontDoor {
    /// The front door from merged flag and file values, validated.
    static func resolve(_ values: ConfigValues) throws(ConfigError) -> FrontDoor {
        var door = FrontDoor()
        door.headerTimeout =
            try milliseconds(values.headerTimeoutMilliseconds, "header-timeout-ms") ?? door.headerTimeout
        door.bodyTimeout = try milliseconds(values.bodyTimeoutMilliseconds, "body-timeout-ms") ?? door.bodyTimeout
        door.idleTimeout = try milliseconds(values.idleTimeoutMilliseconds, "idle-timeout-ms") ?? door.idleTimeout
        door.handshakeTimeout =
            try milliseconds(values.handshakeTimeoutMilliseconds, "handshake-timeout-ms") ?? door.handshakeTimeout
        if let count = values.maxConnections {
            guard (1...1_000_000).contains(count) else {
                throw ConfigError("--max-connections \(count) must be between 1 and 1000000")
            }
            door.maxHTTPConnections = count
        }
        if let count = values.maxClusterConnections {
            guard (1...100_000).contains(count) else {
                throw ConfigError("--max-cluster-connections \(count) must be between 1 and 100000")
            }
            door.maxClusterConnections = count
        }
        door.clientToken = try token(values.clientToken, "client-token")
        door.adminToken = try token(values.adminToken, "admin-token")
        if let secret = values.clusterSecret {
            guard secret.utf8.count >= 16 else {
                throw ConfigError("--cluster-secret must be at least 16 characters (e.g. `openssl rand -hex 32`)")
            }
            door.clusterSecret = Array(secret.utf8)
        }
        return door
    }

    private static func milliseconds(_ value: Int?, _ option: String) throws(ConfigError) -> Duration? {
        guard let value else { return nil }
        guard (10...3_600_000).contains(value) else {
            throw ConfigError("--\(option) \(value) must be between 10 and 3600000")
        }
        return .milliseconds(value)
    }

    /// Tokens travel in a header: printable ASCII without spaces, long enough not to be guessed.
    private static func token(_ value: String?, _ option: String) throws(ConfigError) -> String? {
        guard let value else { return nil }
        guard value.utf8.count >= 16, value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ConfigError("--\(option) must be at least 16 printable ASCII characters without spaces")
        }
        return value
    }
}
