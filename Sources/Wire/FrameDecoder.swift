public import NIOCore

/// Cuts a byte stream into ``Frame``s.
///
/// It rejects a frame as soon as its first five bytes show that it is too large, too short or of
/// an unknown version, so a hostile length prefix never makes it buffer megabytes first.
/// Errors reach the pipeline through `errorCaught`; the connection handlers close the channel.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    /// The largest value of the length prefix this decoder accepts.
    public let maxFrameLength: Int

    /// Creates a decoder that accepts payloads of up to `maxPayloadSize` bytes.
    public init(maxPayloadSize: Int = FrameFormat.defaultMaxPayloadSize) {
        self.maxFrameLength = FrameFormat.headerSize + maxPayloadSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try self.decodeFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A partial frame at EOF is simply dropped: the peer went away mid-message.
        try self.decode(context: context, buffer: &buffer)
    }

    /// Decodes one frame from the front of `buffer`, or returns nil (consuming nothing) when more bytes are needed.
    func decodeFrame(from buffer: inout ByteBuffer) throws(FrameDecodingError) -> Frame? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self) else { return nil }
        let frameLength = Int(length)
        guard frameLength <= self.maxFrameLength else {
            throw .frameTooLarge(length: frameLength, limit: self.maxFrameLength)
        }
        guard frameLength >= FrameFormat.headerSize else { throw .frameTooShort(length: frameLength) }
        guard let version = buffer.getInteger(at: start + FrameFormat.lengthFieldSize, as: UInt8.self) else {
            return nil
        }
        guard version == FrameFormat.version else { throw .unsupportedVersion(version) }
        guard buffer.readableBytes >= FrameFormat.lengthFieldSize + frameLength else { return nil }

        buffer.moveReaderIndex(forwardBy: FrameFormat.lengthFieldSize + 1)
        // The reads below cannot fail: the whole frame is buffered.
        let type = buffer.readInteger(as: UInt8.self)!
        let flags = buffer.readInteger(as: UInt8.self)!
        let requestId = buffer.readInteger(as: UInt64.self)!
        let payload = buffer.readSlice(length: frameLength - FrameFormat.headerSize)!
        return Frame(type: type, flags: flags, requestId: requestId, payload: payload)
    }
}
