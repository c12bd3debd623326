import ArgumentParser

/// `dhrt-node`'s flags for connection limits, timeouts and credentials (see `FrontDoor`).
struct FrontDoorOptions: ParsableArguments {
    @Option(name: .customLong("header-timeout-ms"), help: "Longest time to receive a request's head (default 10000).")
    var headerTimeoutMilliseconds: Int?

    @Option(name: .customLong("body-timeout-ms"), help: "Longest time to receive a request's body (default 60000).")
    var bodyTimeoutMilliseconds: Int?

    @Option(
        name: .customLong("idle-timeout-ms"), help: "Longest silence on a keep-alive connection (default 60000).")
    var idleTimeoutMilliseconds: Int?

    @Option(
        name: .customLong("handshake-timeout-ms"),
        help: "Longest time an inbound inter-node connection has to prove itself (default 5000).")
    var handshakeTimeoutMilliseconds: Int?

    @Option(name: .customLong("max-connections"), help: "Open HTTP connections at most (default 4096).")
    var maxConnections: Int?

    @Option(
        name: .customLong("max-cluster-connections"), help: "Open inbound inter-node connections at most (default 256)."
    )
    var maxClusterConnections: Int?

    @Option(name: .customLong("client-token"), help: "Bearer token required by the data routes (default: none).")
    var clientToken: String?

    @Option(
        name: .customLong("admin-token"),
        help: "Bearer token required by drops and /v1/status; it also opens the data routes (default: none).")
    var adminToken: String?

    @Option(
        name: .customLong("cluster-secret"),
        help: "Secret every inter-node connection proves (HMAC-SHA256), the same on every node (default: none).")
    var clusterSecret: String?
}

extension ConfigValues {
    /// These values with the front door's flags set over them.
    func withFrontDoor(_ options: FrontDoorOptions) -> ConfigValues {
        var values = self
        values.headerTimeoutMilliseconds = options.headerTimeoutMilliseconds
        values.bodyTimeoutMilliseconds = options.bodyTimeoutMilliseconds
        values.idleTimeoutMilliseconds = options.idleTimeoutMilliseconds
        values.handshakeTimeoutMilliseconds = options.handshakeTimeoutMilliseconds
        values.maxConnections = options.maxConnections
        values.maxClusterConnections = options.maxClusterConnections
        values.clientToken = options.clientToken
        values.adminToken = options.adminToken
        values.clusterSecret = options.clusterSecret
        return values
    }
}
