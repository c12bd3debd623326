import Testing
@testable import Ring
import TestSupport

@Suite struct RingCodecTests {
    @Test(arguments: [(1, 4096), (3, 256), (17, 32), (17, 1024), (2, 8)])
    func encoding_roundTrips(members: Int, partitions: Int) throws {
        var list = (1...members).map(member)
        list[0].zone = "z1"
        list[members - 1].state = .leaving
        var ring = try Ring.create(partitionCount: partitions, replicas: 3, members: list)
        ring.pending = [Transfer(partition: 1, from: list[0].name, to: list[members - 1].name)]
        let decoded = try Ring.decode(ring.encoded())
        #expect(decoded == ring)
    }

    @Test func decode_rejectsEveryTruncation() throws {
        let bytes = try Ring.create(partitionCount: 8, replicas: 2, members: (1...3).map(member)).encoded()
        for length in 0..<bytes.count {
            #expect(throws: RingError.self) { try Ring.decode(Array(bytes[..<length])) }
        }
    }

    @Test func decode_rejectsEveryFlippedByte() throws {
        let bytes = try Ring.create(partitionCount: 8, replicas: 2, members: (1...3).map(member)).encoded()
        for index in bytes.indices {
            var corrupt = bytes
            corrupt[index] ^= 0x5A
            #expect(throws: RingError.self) { try Ring.decode(corrupt) }
        }
    }

    @Test func decode_rejectsRandomGarbage() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<500 {
            let length = Int(generator.next() % 300)
            let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            #expect(throws: RingError.self) { try Ring.decode(garbage) }
        }
    }

    @Test func view_hasTheDocumentedShape() throws {
        let ring = try Ring.create(partitionCount: 8, replicas: 3, members: (1...2).map(member))
        let view = ring.view
        #expect(view.partitionsCount == 8)
        #expect(view.n == 3)
        #expect(view.members.map(\.name) == ["n01", "n02"])
        #expect(view.members.map(\.partitions) == [4, 4])
        #expect(view.partitions.count == 8)
        #expect(view.pending.isEmpty)
    }
}
