import NIOCore
import Wire

/// Why a peer did not answer a message with the expected reply.
enum PeerError: Error, CustomStringConvertible {
    /// Not delivered or not answered (refused, timed out, connection lost).
    case transport(any Error)
    /// The peer answered with an error frame.
    case remote(ErrorReply)
    /// The peer's reply does not decode.
    case malformedReply(MessageDecodingError)

    /// The replica refused because it holds a newer ring that moved the key.
    var isRingMoved: Bool {
        if case .remote(let reply) = self { return reply.code == "ring_moved" }
        return false
    }

    var description: String {
        switch self {
        case .transport(let error): "\(error)"
        case .remote(let reply): "\(reply.code): \(reply.detail)"
        case .malformedReply(let error): "malformed reply: \(error)"
        }
    }
}

/// Typed request/reply messaging to peers over the wire client pool.
struct Peers: Sendable {
    let pool: WireClientPool

    /// Sends `message` to the node at `address` and decodes its reply as `Reply`.
    func call<Message: WireMessage, Reply: WireMessage>(
        _ message: Message, to address: String, expecting: Reply.Type, timeout: Duration
    ) async throws(PeerError) -> Reply {
        let frame: Frame
        do {
            frame = try await pool.request(
                to: address, type: Message.type.rawValue, payload: message.encoded(), timeout: timeout)
        } catch {
            throw .transport(error)
        }
        return try Self.decode(.success(frame), as: Reply.self).get()
    }
}

extension Peers {
    /// The typed reply in a frame that a `WireClient.submit` future completed with.
    static func decode<Reply: WireMessage>(_ result: Result<Frame, any Error>, as: Reply.Type) -> Result<
        Reply, PeerError
    > {
        switch result {
        case .failure(let error):
            return .failure(.transport(error))
        case .success(let frame):
            if frame.isError { return .failure(.remote(ErrorReply.decode(frame.payload))) }
            do {
                return .success(try Reply.decode(frame.payload))
            } catch {
                return .failure(.malformedReply(error))
            }
        }
    }
}

extension Frame {
    /// A reply frame carrying `message`.
    static func reply(_ message: some WireMessage) -> Frame {
        Frame(type: Swift.type(of: message).type.rawValue, payload: message.encoded())
    }

    /// An error reply frame to a request of type `type`.
    static func error(type: UInt8, code: String, detail: String) -> Frame {
        Frame(type: type, flags: FrameFlag.error, payload: ErrorReply(code: code, detail: detail).encoded())
    }
}
