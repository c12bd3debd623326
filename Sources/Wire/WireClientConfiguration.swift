public import NIOSSL

/// Limits and timings of a ``WireClient``.
public struct WireClientConfiguration: Sendable {
    /// Largest request payload sent, and reply payload accepted, in bytes.
    public var maxPayloadSize: Int
    /// Requests written and awaiting replies per connection; later ones queue.
    public var maxInFlightPerConnection: Int
    /// Requests waiting to be written per connection; beyond this a request fails with ``WireError/overloaded``.
    public var maxQueuedPerConnection: Int
    /// Longest wait for a TCP connect (also bounded by each request's own timeout).
    public var connectTimeout: Duration
    /// Pause after a failed connect before the next attempt; requests meanwhile fail fast with
    /// ``WireError/unreachable``. Doubles with each consecutive failure up to ``maxReconnectBackoff``.
    public var reconnectBackoff: Duration
    /// Upper bound of the reconnect pause.
    public var maxReconnectBackoff: Duration
    /// The cluster secret proven with ``WireHandshake`` on every connection before its first frame; nil: none.
    /// The server MUST have the same.
    public var secret: [UInt8]?
    /// TLS spoken on every connection before anything else; nil: plain TCP. The server MUST agree.
    public var tls: NIOSSLContext?

    /// Creates a configuration; the defaults suit a node.
    public init(
        maxPayloadSize: Int = FrameFormat.defaultMaxPayloadSize,
        maxInFlightPerConnection: Int = 1024,
        maxQueuedPerConnection: Int = 4096,
        connectTimeout: Duration = .seconds(1),
        reconnectBackoff: Duration = .milliseconds(100),
        maxReconnectBackoff: Duration = .seconds(2),
        secret: [UInt8]? = nil,
        tls: NIOSSLContext? = nil
    ) {
        precondition(maxPayloadSize >= 0 && maxPayloadSize <= Int(UInt32.max) - FrameFormat.headerSize)
        precondition(maxInFlightPerConnection > 0 && maxQueuedPerConnection >= 0)
        self.maxPayloadSize = maxPayloadSize
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.maxQueuedPerConnection = maxQueuedPerConnection
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.maxReconnectBackoff = maxReconnectBackoff
        self.secret = secret
        self.tls = tls
    }

    /// The pause after `failures` consecutive failed connects (at least 1).
    func backoff(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures - 1, 0), 20)
        return min(self.reconnectBackoff * (1 << doublings), self.maxReconnectBackoff)
    }
}
