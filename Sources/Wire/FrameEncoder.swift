public import NIOCore

/// Writes ``Frame``s in the wire layout.
///
/// Senders check payload sizes before writing; a payload the peer would reject fails here with
/// ``FrameDecodingError/frameTooLarge(length:limit:)`` rather than costing the connection.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    /// The largest value of the length prefix this encoder writes.
    public let maxFrameLength: Int

    /// Creates an encoder that refuses payloads larger than `maxPayloadSize` bytes.
    public init(maxPayloadSize: Int = FrameFormat.defaultMaxPayloadSize) {
        self.maxFrameLength = FrameFormat.headerSize + maxPayloadSize
    }

    public func encode(data frame: Frame, out: inout ByteBuffer) throws {
        let frameLength = FrameFormat.headerSize + frame.payload.readableBytes
        guard frameLength <= self.maxFrameLength else {
            throw FrameDecodingError.frameTooLarge(length: frameLength, limit: self.maxFrameLength)
        }
        out.reserveCapacity(minimumWritableBytes: FrameFormat.lengthFieldSize + frameLength)
        out.writeInteger(UInt32(frameLength))
        out.writeInteger(FrameFormat.version)
        out.writeInteger(frame.type)
        out.writeInteger(frame.flags)
        out.writeInteger(frame.requestId)
        var payload = frame.payload
        out.writeBuffer(&payload)
    }
}
