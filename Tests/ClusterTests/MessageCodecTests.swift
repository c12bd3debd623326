import Coordinator
import NIOCore
import Testing
import Wire

/// Round trips of every inter-node message and rejection of malformed payloads.
@Suite struct MessageCodecTests {
    let member = MemberInfo(name: "n1", clusterAddress: "127.0.0.1:9701", httpAddress: "127.0.0.1:8701")

    func roundTrip<M: WireMessage & Equatable>(_ message: M) throws {
        #expect(try M.decode(message.encoded()) == message)
    }

    @Test func everyMessageRoundTrips() throws {
        try roundTrip(Hello(member: member, partitions: 256, replicas: 3))
        try roundTrip(HelloReply(members: [member, MemberInfo(name: "n2", clusterAddress: "b", httpAddress: "c")]))
        try roundTrip(ReplicaGet(collection: "c", key: [0, 255, 7]))
        try roundTrip(ReplicaGetReply(object: nil))
        try roundTrip(ReplicaGetReply(object: [1, 2, 3]))
        try roundTrip(ReplicaPut(collection: "c", key: [1], object: [9, 9]))
        try roundTrip(ReplicaPut(collection: "c", key: [1], object: [9, 9], epoch: 12))
        try roundTrip(ReplicaGet(collection: "c", key: [1], epoch: 3))
        for message: MetadataMessage in [
            .requestVote(.init(term: 4, lastIndex: 6, lastTerm: 3, preVote: false)),
            .vote(.init(term: 4, granted: true, preVote: true)),
            .append(
                .init(
                    term: 3, prevIndex: 0, prevTerm: 0,
                    entries: [MetadataEntry(index: 6, term: 3, voters: ["n1"], payload: [7])], commitIndex: 6)),
            .appendReply(.init(term: 3, success: false, index: 5)),
        ] {
            try roundTrip(MetadataCall(sender: "n1", clusterID: 9, message: message))
        }
        try roundTrip(ReplicaPutReply())
        try roundTrip(
            CoordinatePut(
                collection: "c", key: [1], value: nil, contentType: "", context: Array("ctx".utf8), ifMatch: nil,
                ifNoneMatch: true, writeQuorum: "all"))
        try roundTrip(
            CoordinatePut(
                collection: "c", key: [1], value: [5], contentType: "text/plain", context: nil, ifMatch: [1],
                ifNoneMatch: false, writeQuorum: ""))
        try roundTrip(CoordinatePutReply(status: 503, acks: 1, replicas: ["n1", "n2"], errorCode: "x", detail: "y"))
        try roundTrip(CoordinatePutReply(status: 204, acks: 2, replicas: ["n1"], context: "AgECbjEB"))
        try roundTrip(
            CoordinatePut(
                collection: "c", key: [1], value: [5], contentType: "", context: nil, ifMatch: nil,
                ifNoneMatch: false, writeQuorum: "all", primaryQuorum: "quorum"))
        try roundTrip(
            CoordinatePut(
                collection: "c", key: [1], value: [5], contentType: "", context: nil, ifMatch: nil,
                ifNoneMatch: false, writeQuorum: "all", primaryQuorum: nil))
        try roundTrip(
            CoordinatePut(
                collection: "c", key: [1], value: [5], contentType: "", context: nil, ifMatch: nil,
                ifNoneMatch: false, writeQuorum: "all", primaryQuorum: "", retried: [2, 0, 1]))
        try roundTrip(
            CoordinatePutReply(
                status: 204, acks: 3, replicas: ["n1", "n2", "n3"], context: "AgECbjEB",
                hinted: [.init(fallback: "n4", owner: "n3"), .init(fallback: "n5", owner: "n2")]))
        try roundTrip(ListKeys(collection: "c", after: [1, 2], limit: 10))
        try roundTrip(ListKeysReply(keys: [[1], [2, 3], []]))
        try roundTrip(DropCollection(collection: "c"))
        try roundTrip(DropCollectionReply())
    }

    @Test func truncatedPayloadsAreRejectedAtEveryLength() throws {
        let message = CoordinatePut(
            collection: "coll", key: [1, 2], value: [3], contentType: "t", context: [4], ifMatch: [5],
            ifNoneMatch: false, writeQuorum: "one", primaryQuorum: "all")
        let encoded = Array(message.encoded().readableBytesView)
        // Ending right after W is the first layout, without the trailing PW.
        let firstLayout = encoded.count - 2 - 3
        for length in 0..<encoded.count where length != firstLayout {
            #expect(throws: MessageDecodingError.self) {
                try CoordinatePut.decode(ByteBuffer(bytes: encoded.prefix(length)))
            }
        }
        var older = message
        older.primaryQuorum = nil
        #expect(try CoordinatePut.decode(ByteBuffer(bytes: encoded.prefix(firstLayout))) == older)
    }

    /// A peer of the first layout sends and reads payloads that end where the trailing fields begin.
    @Test func theFirstCoordinatePutLayoutStillDecodes_andItsReplyHasNoTrailingFields() throws {
        let older = CoordinatePut(
            collection: "c", key: [1], value: nil, contentType: "", context: nil, ifMatch: nil, ifNoneMatch: false,
            writeQuorum: "")
        var legacy = ByteBuffer()
        legacy.writeInteger(UInt16(1))
        legacy.writeString("c")
        legacy.writeInteger(UInt32(1))
        legacy.writeInteger(UInt8(1))
        legacy.writeBytes([0, 0, 0, 0, 0, 0])  // no value, empty content type, no context, no If-Match, no INM
        legacy.writeInteger(UInt16(0))  // W: the default, and the payload ends
        var decoded = try CoordinatePut.decode(legacy)
        #expect(decoded.primaryQuorum == nil)
        decoded.primaryQuorum = ""
        #expect(decoded == older)
        let reply = CoordinatePutReply(status: 204, acks: 1, replicas: ["n1"])
        let bytes = reply.encoded().readableBytes
        var hinted = reply
        hinted.hinted = [.init(fallback: "n4", owner: "n3")]
        #expect(hinted.encoded().readableBytes > bytes)
        #expect(try CoordinatePutReply.decode(reply.encoded()).hinted.isEmpty)
    }

    @Test func trailingBytesAndLyingLengthsAreRejected() {
        var extra = ReplicaGet(collection: "c", key: [1]).encoded()
        extra.writeInteger(UInt8(0))
        #expect(throws: MessageDecodingError.self) { try ReplicaGet.decode(extra) }
        // A list count far beyond the payload must not allocate or loop.
        #expect(throws: MessageDecodingError.self) {
            try ListKeysReply.decode(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]))
        }
        // A boolean that is neither 0 nor 1.
        #expect(throws: MessageDecodingError.self) { try ReplicaGetReply.decode(ByteBuffer(bytes: [2])) }
        // Text that is not UTF-8.
        #expect(throws: MessageDecodingError.self) {
            try DropCollection.decode(ByteBuffer(bytes: [0, 2, 0xC3, 0x28]))
        }
    }

    @Test func errorRepliesSurviveMalformedPayloads() {
        let reply = ErrorReply(code: "bad_message", detail: "why")
        #expect(ErrorReply.decode(reply.encoded()) == reply)
        #expect(ErrorReply.decode(ByteBuffer(bytes: [0, 9])).code == "malformed_error")
    }
}
