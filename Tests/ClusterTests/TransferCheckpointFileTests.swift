import Coordinator
import Testing

@testable import dhrt_node

/// The receiver's transfer checkpoint survives its own encoding, and a damaged one is refused, never misread.
@Suite struct TransferCheckpointFileTests {
    let checkpoint = IncomingTransfers.Checkpoint(
        planID: 0xDEAD_BEEF_0123_4567, done: [3, 9, 250],
        positions: [
            7: .init(sources: ["n1"], sourceIndex: 0, cursor: nil),
            12: .init(
                sources: ["n2", "n3-é"], sourceIndex: 1,
                cursor: TransferCursor(collection: "users", key: [0, 0xFF, 0x41])),
        ])

    @Test func roundTrips() {
        let bytes = TransferCheckpointFile.encode(checkpoint)
        #expect(TransferCheckpointFile.decode(bytes) == checkpoint)
        let empty = IncomingTransfers.Checkpoint(planID: 1, done: [], positions: [:])
        #expect(TransferCheckpointFile.decode(TransferCheckpointFile.encode(empty)) == empty)
    }

    @Test func everyFlippedByteAndEveryTruncationIsRefused() {
        let bytes = TransferCheckpointFile.encode(checkpoint)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(TransferCheckpointFile.decode(damaged) == nil, "flipped byte \(index)")
        }
        for length in 0..<bytes.count {
            #expect(TransferCheckpointFile.decode(Array(bytes.prefix(length))) == nil, "cut at \(length)")
        }
    }
}
