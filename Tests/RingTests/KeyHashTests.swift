import Testing
@testable import Ring

@Suite struct KeyHashTests {
    @Test func hash_separatesCollectionFromKey() {
        #expect(KeyHash.hash(collection: "ab", key: Array("c".utf8)) != KeyHash.hash(collection: "a", key: Array("bc".utf8)))
    }

    @Test func hash_longInputMatchesStackPath() {
        let key = [UInt8](repeating: 7, count: 2000)
        let joined = Array("c".utf8) + [0] + key
        let expected = joined.withUnsafeBytes { KeyHash.xxh3($0) }
        #expect(KeyHash.hash(collection: "c", key: key) == expected)
        let short = [UInt8](repeating: 9, count: 10)
        let joinedShort = Array("c".utf8) + [0] + short
        #expect(KeyHash.hash(collection: "c", key: short) == joinedShort.withUnsafeBytes { KeyHash.xxh3($0) })
    }

    @Test(arguments: [0, 1, 4, 7, 12, 100, 255, 8192, -8])
    func partitioner_rejectsInvalidCounts(count: Int) {
        #expect(throws: RingError.invalidPartitionCount(count)) { try Partitioner(count: count) }
    }

    @Test func partitioner_usesTopBits() throws {
        let p = try Partitioner(count: 256)
        #expect(p.partition(ofHash: 0xFF00_0000_0000_0000) == 255)
        #expect(p.partition(ofHash: 0x00FF_FFFF_FFFF_FFFF) == 0)
        let small = try Partitioner(count: 8)
        #expect(small.partition(ofHash: UInt64.max) == 7)
    }
}
