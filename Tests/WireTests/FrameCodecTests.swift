import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

@Suite struct FrameCodecTests {
    private func decodingChannel(maxPayloadSize: Int = FrameFormat.defaultMaxPayloadSize) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(FrameDecoder(maxPayloadSize: maxPayloadSize))
        )
        return channel
    }

    private func encoded(_ frames: [Frame]) throws -> ByteBuffer {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        var all = ByteBuffer()
        for frame in frames {
            try channel.writeOutbound(frame)
            while var chunk = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&chunk) }
        }
        _ = try channel.finish()
        return all
    }

    private func sampleFrames(_ count: Int) -> [Frame] {
        (0..<count).map { (index: Int) -> Frame in
            let bytes: [UInt8] = (0..<(index * 7 % 300)).map { (offset: Int) -> UInt8 in
                UInt8(truncatingIfNeeded: offset &+ index)
            }
            let flags: UInt8 = index.isMultiple(of: 2) ? FrameFlag.response : 0
            let requestId: UInt64 = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
            return Frame(
                type: UInt8(index % 256), flags: flags, requestId: requestId, payload: ByteBuffer(bytes: bytes))
        }
    }

    @Test func encodedFrame_hasTheDocumentedByteLayout() throws {
        let frame = Frame(
            type: 0x21, flags: 0x03, requestId: 0x0102_0304_0506_0708, payload: ByteBuffer(bytes: [9, 8]))
        let bytes = Array(try self.encoded([frame]).readableBytesView)
        #expect(bytes == [0, 0, 0, 13, 1, 0x21, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 8])
    }

    @Test func frames_roundTripThroughEncoderAndDecoder() throws {
        let frames = self.sampleFrames(5)
        let channel = try self.decodingChannel()
        for frame in frames {
            try channel.writeInbound(try self.encoded([frame]))
            let decoded = try #require(try channel.readInbound(as: Frame.self))
            #expect(decoded.sameContent(as: frame))
        }
        #expect(try channel.finish().isClean)
    }

    @Test func frameSplitIntoSingleBytes_decodesOnceComplete() throws {
        let frame = self.sampleFrames(3)[2]
        let bytes = try self.encoded([frame])
        let channel = try self.decodingChannel()
        for (index, byte) in bytes.readableBytesView.enumerated() {
            #expect(try channel.readInbound(as: Frame.self) == nil, "frame surfaced early at byte \(index)")
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        let decoded = try #require(try channel.readInbound(as: Frame.self))
        #expect(decoded.sameContent(as: frame))
        #expect(try channel.finish().isClean)
    }

    @Test func manyFramesInOneBuffer_allDecodeInOrder() throws {
        let frames = self.sampleFrames(200)
        let channel = try self.decodingChannel()
        try channel.writeInbound(try self.encoded(frames))
        for frame in frames {
            let decoded = try #require(try channel.readInbound(as: Frame.self))
            #expect(decoded.sameContent(as: frame))
        }
        #expect(try channel.readInbound(as: Frame.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test func buffersCutAtOddPlaces_decodeAllFrames() throws {
        let frames = self.sampleFrames(50)
        var bytes = try self.encoded(frames)
        let channel = try self.decodingChannel()
        var cut = 1
        while bytes.readableBytes > 0 {
            try channel.writeInbound(bytes.readSlice(length: min(cut, bytes.readableBytes))!)
            cut = cut % 97 + 13
        }
        for frame in frames {
            #expect(try channel.readInbound(as: Frame.self)?.sameContent(as: frame) == true)
        }
        #expect(try channel.finish().isClean)
    }

    @Test func emptyPayload_roundTrips() throws {
        let frame = Frame(type: 7, requestId: 42, payload: ByteBuffer())
        let channel = try self.decodingChannel()
        try channel.writeInbound(try self.encoded([frame]))
        let decoded = try #require(try channel.readInbound(as: Frame.self))
        #expect(decoded.sameContent(as: frame))
        #expect(try channel.finish().isClean)
    }

    @Test func declaredLengthOverTheLimit_isRejectedFromItsPrefixAlone() throws {
        let channel = try self.decodingChannel(maxPayloadSize: 1024)
        // Only the prefix and version arrive: the decoder must not wait for the announced bytes.
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(FrameFormat.headerSize + 1025))
        bytes.writeInteger(FrameFormat.version)
        #expect(throws: FrameDecodingError.frameTooLarge(length: FrameFormat.headerSize + 1025, limit: 1035)) {
            try channel.writeInbound(bytes)
        }
        _ = try? channel.finish()
    }

    @Test func payloadAtTheLimit_isAccepted() throws {
        let frame = Frame(type: 1, payload: ByteBuffer(repeating: 0xAB, count: 1024))
        let channel = try self.decodingChannel(maxPayloadSize: 1024)
        try channel.writeInbound(try self.encoded([frame]))
        #expect(try channel.readInbound(as: Frame.self)?.payload.readableBytes == 1024)
        #expect(try channel.finish().isClean)
    }

    @Test func unknownVersion_isRejected() throws {
        var bytes = try self.encoded([Frame(type: 1, payload: ByteBuffer(bytes: [1, 2, 3]))])
        bytes.setInteger(UInt8(2), at: FrameFormat.lengthFieldSize)
        let channel = try self.decodingChannel()
        #expect(throws: FrameDecodingError.unsupportedVersion(2)) { try channel.writeInbound(bytes) }
        _ = try? channel.finish()
    }

    @Test(arguments: [0, 1, 10])
    func lengthShorterThanTheHeader_isRejected(length: Int) throws {
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(length))
        let channel = try self.decodingChannel()
        #expect(throws: FrameDecodingError.frameTooShort(length: length)) { try channel.writeInbound(bytes) }
        _ = try? channel.finish()
    }

    @Test(arguments: [
        Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        [0x00, 0x00, 0x00, 0x20, 0x07, 0x01, 0x02, 0x03],
    ])
    func garbageBytes_areRejected(garbage: [UInt8]) throws {
        let channel = try self.decodingChannel()
        #expect(throws: FrameDecodingError.self) { try channel.writeInbound(ByteBuffer(bytes: garbage)) }
        _ = try? channel.finish()
    }

    @Test func encoder_refusesPayloadOverItsLimit() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder(maxPayloadSize: 8)))
        #expect(throws: FrameDecodingError.self) {
            try channel.writeOutbound(Frame(type: 1, payload: ByteBuffer(repeating: 0, count: 9)))
        }
        _ = try? channel.finish()
    }
}

extension Frame {
    func sameContent(as other: Frame) -> Bool {
        self.type == other.type && self.flags == other.flags && self.requestId == other.requestId
            && self.payload == other.payload
    }
}
