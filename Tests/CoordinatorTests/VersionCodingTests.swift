import Testing

@testable import Coordinator
import TestSupport

@Suite struct VersionCodingTests {
    @Test(arguments: Array(UInt64(1)...30))
    func objectsRoundTripThroughTheirEncoding(seed: UInt64) throws {
        for object in randomObjects(seed: seed) {
            let bytes = object.encoded()
            #expect(bytes.first == 0x01)
            #expect(try VersionedObject.decode(bytes) == object)
            #expect(try VersionVector.decode(object.context.encoded()) == object.context)
            #expect(try VersionVector.decode(bytes) == object.context)
            #expect(try VersionVector(clientContext: object.context.clientContext) == object.context)
        }
    }

    @Test(arguments: Array(UInt64(1)...10))
    func storedFormsRoundTripAndMarkAllTombstoneObjects(seed: UInt64) throws {
        for object in randomObjects(seed: seed) where !object.isEmpty {
            let form = object.storedForm()
            #expect(form.isTombstone == object.isNotFound)
            #expect(form.timestamp == object.timestamp)
            if form.isTombstone { #expect(form.value.isEmpty) }
            #expect(
                try VersionedObject(storedMeta: form.meta, value: form.value, isTombstone: form.isTombstone) == object
            )
            #expect(try VersionVector.decode(form.meta) == object.context)
        }
        #expect(try VersionedObject.fromStored(meta: nil, value: nil, isTombstone: false) == VersionedObject())
    }

    @Test func aSingleValueCostsLittleBeyondItsBytes() {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [1, 2, 3], contentType: "", actor: "n1", timestamp: 42)
        // format, table(1 actor "n1" counter 1), 1 sibling: index, counter, flags, 8-byte time, type, value.
        #expect(object.encoded().count == 1 + 1 + 3 + 1 + 1 + 1 + 1 + 1 + 8 + 1 + 1 + 3)
        #expect(object.context.encoded() == [0x02, 0x01, 0x02, 0x6E, 0x31, 0x01])
        #expect(object.context.clientContext == "AgECbjEB")
    }

    @Test func randomBytesNeverCrashTheDecoders() {
        var random = SeededGenerator(seed: 7)
        for round in 0..<4_000 {
            let length = Int.random(in: 0...48, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 2 == 0, !bytes.isEmpty { bytes[0] = UInt8(1 + round % 4 / 2) }
            if let object = try? VersionedObject.decode(bytes) {
                #expect(object.encoded() == bytes)  // only canonical encodings decode
            }
            if let vector = try? VersionVector.decode(bytes), bytes.first == 0x02 {
                #expect(vector.encoded() == bytes)
            }
            _ = try? VersionVector(clientContext: String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func mutatedEncodingsEitherFailOrStayCanonical() {
        var random = SeededGenerator(seed: 11)
        let objects = (UInt64(1)...5).flatMap { randomObjects(seed: $0) }.filter { !$0.isEmpty }
        for _ in 0..<5_000 {
            var bytes = objects.randomElement(using: &random)!.encoded()
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1: bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
            default: bytes.append(UInt8.random(in: 0...255, using: &random))
            }
            if let object = try? VersionedObject.decode(bytes) {
                #expect(object.encoded() == bytes)
            }
        }
    }

    static let garbage: [([UInt8], VersionError)] = [
        ([], .empty),
        ([0x07], .unsupportedFormat(7)),
        ([0x01], .truncated),
        ([0x02, 0x00, 0x00], .trailingBytes(1)),
        ([0x02, 0x80, 0x00], .malformedInteger),  // non-minimal varint
        ([0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .malformedInteger),
        ([0x02, 0x05, 0x01, 0x61, 0x01], .implausibleCount(5)),
        ([0x02, 0x01, 0x00, 0x01, 0x00], .invalidActorName),
        ([0x02, 0x01, 0x01, 0x20, 0x01], .invalidActorName),
        ([0x02, 0x01, 0x01, 0x61, 0x00], .zeroCounter),
        ([0x02, 0x02, 0x01, 0x62, 0x01, 0x01, 0x61, 0x01], .unsortedActors),
        ([0x02, 0x02, 0x01, 0x61, 0x01, 0x01, 0x61, 0x01], .unsortedActors),
        // One sibling whose dot (a, 2) is beyond the context a:1.
        (
            [0x01, 0x01, 0x01, 0x61, 0x01, 0x01, 0x00, 0x02, 0x00] + [UInt8](repeating: 0, count: 8) + [0x00, 0x00],
            .dotOutsideContext
        ),
        (
            [0x01, 0x01, 0x01, 0x61, 0x01, 0x01, 0x01, 0x01, 0x00] + [UInt8](repeating: 0, count: 8) + [0x00, 0x00],
            .unknownActorIndex(1)
        ),
        (
            [0x01, 0x01, 0x01, 0x61, 0x01, 0x01, 0x00, 0x01, 0x04] + [UInt8](repeating: 0, count: 8) + [0x00, 0x00],
            .unknownFlags(4)
        ),
        (
            [0x01, 0x01, 0x01, 0x61, 0x01, 0x01, 0x00, 0x01, 0x01] + [UInt8](repeating: 0, count: 8) + [
                0x00, 0x01, 0x09,
            ],
            .tombstoneWithValue
        ),
        (
            [0x01, 0x01, 0x01, 0x61, 0x01, 0x01, 0x00, 0x01, 0x00] + [UInt8](repeating: 0, count: 8) + [
                0x01, 0xFF, 0x00,
            ],
            .invalidContentType
        ),
    ]

    @Test(arguments: garbage)
    func garbageIsRejectedWithATypedError(bytes: [UInt8], expected: VersionError) {
        #expect(throws: expected) {
            if bytes.first == 0x02 {
                _ = try VersionVector.decode(bytes)
            } else {
                _ = try VersionedObject.decode(bytes)
            }
        }
    }

    @Test func duplicateSiblingDotsAreRejected() {
        let sibling: [UInt8] = [0x00, 0x01, 0x00] + [UInt8](repeating: 0, count: 8) + [0x00, 0x00]
        let bytes: [UInt8] = [0x01, 0x01, 0x01, 0x61, 0x02, 0x02] + sibling + sibling
        #expect(throws: VersionError.unsortedSiblings) { try VersionedObject.decode(bytes) }
    }

    @Test(arguments: [
        ("", VersionError.empty), ("AgA=", .invalidBase64), ("Ag A", .invalidBase64), ("A+8", .invalidBase64),
        ("A", .invalidBase64), ("AgB", .invalidBase64), ("AQA", .unsupportedFormat(1)),
        (String(repeating: "A", count: 8193), .contextTooLong(8193)),
    ])
    func clientContextsAreParsedStrictly(text: String, expected: VersionError) {
        #expect(throws: expected) { try VersionVector(clientContext: text) }
    }

    @Test func clientContextsWithAbsurdCountersAreRefused() throws {
        let absurd = VersionVector(["n1": 1 << 60])
        #expect(throws: VersionError.implausibleContext) { try VersionVector(clientContext: absurd.clientContext) }
        #expect(try VersionVector(clientContext: VersionVector().clientContext) == VersionVector())
    }

    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ])
    func base64urlMatchesTheRFCVectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test func base64urlUsesTheURLAlphabetAndRefusesStrayBits() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zh") == nil)
        #expect(Base64URL.decode("+/8") == nil)
    }
}
