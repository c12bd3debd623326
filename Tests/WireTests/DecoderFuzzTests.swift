import NIOCore
import Testing

@testable import Wire
import TestSupport

/// Mutated bytes never crash the inter-node decoders: frames, messages and the handshake (see `Fuzzing`).
@Suite struct DecoderFuzzTests {
    static func frameBytes(type: UInt8, flags: UInt8 = 0, id: UInt64 = 1, payload: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(11 + payload.count))
        buffer.writeInteger(FrameFormat.version)
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(id)
        buffer.writeBytes(payload)
        return Array(buffer.readableBytesView)
    }

    static let messages: [[UInt8]] = [
        ReplicaGet(collection: "c", key: [0, 255, 7]).encoded(),
        ReplicaGetReply(object: [1, 2, 3]).encoded(),
        ReplicaGetReply(object: nil).encoded(),
        ReplicaPut(collection: "users", key: Array("alice".utf8), object: [1, 0, 2, 5]).encoded(),
        ListKeys(collection: "c", after: [1, 2], limit: 10).encoded(),
        ListKeysReply(keys: [[1], [2, 3], []]).encoded(),
        DropCollection(collection: "c").encoded(),
    ].map { Array($0.readableBytesView) }

    @Test func frameDecoder_survivesMutatedStreams() {
        let seeds =
            Self.messages.map { Self.frameBytes(type: 2, payload: $0) } + [
                Self.frameBytes(type: 3, flags: FrameFlag.response, payload: [])
                    + Self.frameBytes(type: 4, payload: [9])
            ]
        let tried = Fuzzing.run(seeds: seeds) { input in
            let decoder = FrameDecoder(maxPayloadSize: 1 << 16)
            var buffer = ByteBuffer(bytes: input)
            while let frame = try? decoder.decodeFrame(from: &buffer) {
                #expect(frame.payload.readableBytes <= 1 << 16)
            }
        }
        #expect(tried >= 1000)
    }

    @Test func messageDecoders_survivePayloadsOfAnyShape() {
        let decoders: [(ByteBuffer) -> Void] = [
            { _ = try? ReplicaGet.decode($0) }, { _ = try? ReplicaGetReply.decode($0) },
            { _ = try? ReplicaPut.decode($0) }, { _ = try? ReplicaPutReply.decode($0) },
            { _ = try? ListKeys.decode($0) }, { _ = try? ListKeysReply.decode($0) },
            { _ = try? DropCollection.decode($0) }, { _ = try? CoordinatePut.decode($0) },
            { _ = try? CoordinatePutReply.decode($0) }, { _ = try? Hello.decode($0) },
            { _ = try? HelloReply.decode($0) }, { _ = ErrorReply.decode($0) },
        ]
        let tried = Fuzzing.run(seeds: Self.messages) { input in
            let payload = ByteBuffer(bytes: input)
            for decode in decoders { decode(payload) }
        }
        #expect(tried >= 1000)
    }

    @Test func handshake_survivesAnyOpening() {
        let secret = Array("a-secret-for-the-fuzzer".utf8)
        let client = WireHandshake(role: .client, secret: secret, nonce: [UInt8](repeating: 7, count: 32))
        let tried = Fuzzing.run(seeds: [client.hello, client.hello + [UInt8](repeating: 1, count: 32)]) { input in
            var server = WireHandshake(role: .server, secret: secret, nonce: [UInt8](repeating: 9, count: 32))
            let actions = server.receive(ByteBuffer(bytes: input))
            // Random bytes never pass for a proof.
            #expect(!actions.contains { if case .established = $0 { true } else { false } })
        }
        #expect(tried >= 1000)
    }
}
