import Coordinator
import NIOCore
import TestSupport
import Testing

@testable import Wire

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
        Gossip(sender: "n1", ring: [1, 2, 3]).encoded(),
        ClusterCommand(.transferred, name: "n2", planID: 9).encoded(),
        ClusterCommandReply(claimant: "n1", ring: [4], planned: [5], staged: ["join n4"]).encoded(),
        TransferPull(partition: 3, afterCollection: "c", afterKey: [1], maxBytes: 1 << 20).encoded(),
        TransferBatchTests.batch.encoded(),
        HintPut(owner: "n3", collection: "c", key: [7], object: [1, 2]).encoded(),
        ReplicaPut(collection: "c", key: [1], object: [1], epoch: 4).encoded(),
        MetadataCall(
            sender: "n1", clusterID: 7,
            message: .append(
                .init(
                    term: 3, prevIndex: 5, prevTerm: 2,
                    entries: [MetadataEntry(index: 6, term: 3, voters: ["n1", "n2"], payload: [1, 2, 3])],
                    commitIndex: 5))
        ).encoded(),
        MetadataCall(
            sender: "n2", clusterID: 7,
            message: .requestVote(.init(term: 4, lastIndex: 6, lastTerm: 3, preVote: true))
        ).encoded(),
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
            { _ = try? Gossip.decode($0) }, { _ = try? ClusterCommand.decode($0) },
            { _ = try? ClusterCommandReply.decode($0) }, { _ = try? TransferPull.decode($0) },
            { _ = try? TransferBatch.decode($0) }, { _ = try? HintPut.decode($0) },
            { _ = try? MetadataCall.decode($0) },
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

/// A transfer batch decodes to what was sent, collection names included (they are shared between records).
@Suite struct TransferBatchTests {
    static let batch = TransferBatch(
        records: [
            TransferRecord(collection: "a", key: [1], isTombstone: false, meta: [2], value: [3, 4]),
            TransferRecord(collection: "a", key: [2], isTombstone: true, meta: [5], value: []),
            TransferRecord(collection: "bé", key: [], isTombstone: false, meta: [], value: [6]),
            TransferRecord(collection: "a", key: [3], isTombstone: false, meta: [7], value: [8]),
        ], finished: false, remaining: 12)

    @Test func roundTrips() throws {
        #expect(try TransferBatch.decode(Self.batch.encoded()) == Self.batch)
        let empty = TransferBatch(records: [], finished: true, remaining: 0)
        #expect(try TransferBatch.decode(empty.encoded()) == empty)
    }

    @Test func refusesACollectionNameThatIsNotUTF8OrIsCut() {
        var bytes = Array(Self.batch.encoded().readableBytesView)
        // Record count (4 bytes), then the first name's length (2 bytes), then its byte.
        bytes[6] = 0xFF
        #expect(throws: MessageDecodingError.self) { try TransferBatch.decode(ByteBuffer(bytes: bytes)) }
        let cut = Array(Self.batch.encoded().readableBytesView.prefix(6))
        #expect(throws: MessageDecodingError.self) { try TransferBatch.decode(ByteBuffer(bytes: cut)) }
    }
}
