/// Why a request over the inter-node transport did not get an answer.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No response arrived within the request's timeout. The peer may still have acted on it.
    case timeout
    /// The connection closed while the request was outstanding. The peer may have acted on it.
    case connectionClosed
    /// No connection to the peer could be made (refused, unroutable, or still backing off after a failure).
    case unreachable
    /// Too many requests are waiting for the connection to drain; the peer is not keeping up.
    case overloaded
    /// The payload is larger than the protocol's frame limit; nothing was sent.
    case payloadTooLarge(size: Int, limit: Int)
    /// The address is not of the form `host:port`.
    case invalidAddress(String)
    /// The client or pool was shut down.
    case shutdown
    /// The connection's handshake failed: the peer does not know the cluster secret (or this side does not).
    case handshakeRefused(String)

    public var description: String {
        switch self {
        case .timeout: return "request timed out"
        case .connectionClosed: return "connection closed before the response arrived"
        case .unreachable: return "peer unreachable"
        case .overloaded: return "too many requests queued for the peer"
        case .payloadTooLarge(let size, let limit): return "payload of \(size) bytes exceeds the limit of \(limit)"
        case .invalidAddress(let address): return "invalid address '\(address)', expected host:port"
        case .shutdown: return "transport shut down"
        case .handshakeRefused(let reason): return "handshake refused: \(reason)"
        }
    }
}
