import Testing

@testable import Coordinator

@Suite struct ReplicaMessageTests {
    static let object: VersionedObject = randomObjects(seed: 3).last { !$0.isEmpty }!

    static let requests: [ReplicaRequest] = [
        .store(collection: "users", key: [0, 1, 2], object: object),
        .repair(collection: "default", key: Array("k".utf8), object: object),
        .fetch(collection: "c", key: []),
    ]

    static let responses: [ReplicaResponse] = [.stored, .found(object), .notFound, .failed(reason: "disk full")]

    @Test(arguments: requests)
    func requestsRoundTrip(request: ReplicaRequest) throws {
        #expect(try ReplicaRequest.decode(request.encoded()) == request)
    }

    @Test(arguments: responses)
    func responsesRoundTrip(response: ReplicaResponse) throws {
        #expect(try ReplicaResponse.decode(response.encoded()) == response)
    }

    @Test func longFailureReasonsAreCutToWhatDecodes() throws {
        let long = ReplicaResponse.failed(reason: String(repeating: "é", count: 5000))
        guard case .failed(let reason) = try ReplicaResponse.decode(long.encoded()) else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason.utf8.count == 4096 && reason.allSatisfy { $0 == "é" })
    }

    @Test func responsesMapToReadReplies() {
        #expect(ReplicaResponse.found(Self.object).readReply == .object(Self.object))
        #expect(ReplicaResponse.notFound.readReply == .notFound)
        #expect(ReplicaResponse.failed(reason: "x").readReply == .failure("x"))
        #expect(ReplicaResponse.stored.readReply == nil)
    }

    @Test func garbageNeverDecodesIntoSomethingElse() {
        var random = SeededGenerator(seed: 5)
        let valid = Self.requests.map { $0.encoded() } + Self.responses.map { $0.encoded() }
        for _ in 0..<3_000 {
            var bytes = valid.randomElement(using: &random)!
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1: bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
            default:
                bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            }
            if let request = try? ReplicaRequest.decode(bytes) { #expect(request.encoded() == bytes) }
            if let response = try? ReplicaResponse.decode(bytes) { #expect(response.encoded() == bytes) }
        }
        #expect(throws: VersionError.truncated) { try ReplicaRequest.decode([]) }
        #expect(throws: VersionError.invalidText) { try ReplicaResponse.decode([0x01, 0x04, 0x01, 0xFF]) }
        #expect(throws: VersionError.unsupportedFormat(9)) { try ReplicaResponse.decode([0x01, 0x09]) }
        #expect(throws: VersionError.trailingBytes(1)) { try ReplicaResponse.decode([0x01, 0x03, 0x00]) }
    }
}
