public import NIOCore

/// One unit of the inter-node protocol: a request or the response to one.
///
/// On the wire a frame is `u32 length | u8 version | u8 type | u8 flags | u64 request id | payload`,
/// all integers big-endian; `length` counts every byte after itself. See Docs/PROTOCOL.md.
public struct Frame: Sendable {
    /// The message type; its meaning belongs to the layer above the transport.
    public var type: UInt8
    /// Bit set of ``FrameFlag`` values.
    public var flags: UInt8
    /// Chosen by the requester; a response carries the id of the request it answers.
    public var requestId: UInt64
    /// The message body, opaque to the transport.
    public var payload: ByteBuffer

    /// Creates a frame.
    public init(type: UInt8, flags: UInt8 = 0, requestId: UInt64 = 0, payload: ByteBuffer) {
        self.type = type
        self.flags = flags
        self.requestId = requestId
        self.payload = payload
    }

    /// True when the frame answers a request.
    public var isResponse: Bool { self.flags & FrameFlag.response != 0 }

    /// True when the responder reports that it could not serve the request; the payload says why.
    public var isError: Bool { self.flags & FrameFlag.error != 0 }
}

/// Bits of ``Frame/flags``. Bits not named here are reserved: senders MUST set them to zero and
/// receivers ignore them, so that later versions can add flags without a version bump.
public enum FrameFlag {
    /// Bit 0: the frame is a response (set by the server, never by a requester).
    public static let response: UInt8 = 0b0000_0001
    /// Bit 1: the responder failed to serve the request; the payload describes the failure.
    public static let error: UInt8 = 0b0000_0010
}

/// Fixed numbers of the framing.
public enum FrameFormat {
    /// The only protocol version this build speaks.
    public static let version: UInt8 = 1
    /// Bytes of the length prefix.
    public static let lengthFieldSize = 4
    /// Bytes after the length prefix and before the payload: version, type, flags, request id.
    public static let headerSize = 1 + 1 + 1 + 8
    /// Default largest payload accepted or sent: 16 MiB.
    public static let defaultMaxPayloadSize = 16 * 1024 * 1024
}
