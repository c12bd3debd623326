public import NIOSSL

/// Limits of a ``WireServer``.
public struct WireServerConfiguration: Sendable {
    /// Largest request or response payload, in bytes. A request frame announcing more closes its connection.
    public var maxPayloadSize: Int
    /// Requests handled at once per connection; beyond this the server stops reading from that peer.
    public var maxInFlightPerConnection: Int
    /// How long a graceful shutdown waits for in-flight requests before closing connections anyway.
    public var drainTimeout: Duration
    /// Pending connections the kernel may queue before the server accepts them.
    public var backlog: Int
    /// Open inbound connections; one more is closed at once (and logged).
    public var maxConnections: Int
    /// How long a new connection has to complete the handshake (with a secret) or send its first valid frame.
    public var handshakeTimeout: Duration
    /// The cluster secret every connection proves with ``WireHandshake`` before its first frame; nil: none.
    public var secret: [UInt8]?
    /// TLS every connection speaks before anything else (the secret's handshake then runs inside it); nil:
    /// plain TCP. Whether clients MUST present a certificate is the context's own setting.
    public var tls: NIOSSLContext?

    /// Creates a configuration; the defaults suit a node.
    public init(
        maxPayloadSize: Int = FrameFormat.defaultMaxPayloadSize,
        maxInFlightPerConnection: Int = 1024,
        drainTimeout: Duration = .seconds(10),
        backlog: Int = 256,
        maxConnections: Int = 256,
        handshakeTimeout: Duration = .seconds(5),
        secret: [UInt8]? = nil,
        tls: NIOSSLContext? = nil
    ) {
        precondition(maxPayloadSize >= 0 && maxPayloadSize <= Int(UInt32.max) - FrameFormat.headerSize)
        precondition(maxInFlightPerConnection > 0)
        self.maxPayloadSize = maxPayloadSize
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.drainTimeout = drainTimeout
        self.backlog = backlog
        self.maxConnections = maxConnections
        self.handshakeTimeout = handshakeTimeout
        self.secret = secret
        self.tls = tls
    }
}
