import Coordinator
import Logging
import Ring
import Storage

/// The receiver's transfer checkpoint on disk: `DHRTXFER | u32 version | u64 plan | u32 D | D × u16 partition |
/// u32 C | C × position | u64 xxh3 of all before`, little-endian; a position is `u16 partition | u8 S |
/// S × (u16 length, source name) | u8 source index | u8 has-cursor [u16 length, collection, u32 length, key]`.
enum TransferCheckpointFile {
    static let magic = Array("DHRTXFER".utf8)

    static func encode(_ checkpoint: IncomingTransfers.Checkpoint) -> [UInt8] {
        var out = magic
        out.appendLittleEndian(UInt32(2))
        out.appendLittleEndian(checkpoint.planID)
        out.appendLittleEndian(UInt32(checkpoint.done.count))
        for partition in checkpoint.done { out.appendLittleEndian(UInt16(partition)) }
        out.appendLittleEndian(UInt32(checkpoint.positions.count))
        for (partition, position) in checkpoint.positions.sorted(by: { $0.key < $1.key }) {
            out.appendLittleEndian(UInt16(partition))
            out.appendLittleEndian(UInt8(position.sources.count))
            for source in position.sources { out.appendString(UInt16.self, source) }
            out.appendLittleEndian(UInt8(position.sourceIndex))
            guard let cursor = position.cursor else {
                out.appendLittleEndian(UInt8(0))
                continue
            }
            out.appendLittleEndian(UInt8(1))
            out.appendString(UInt16.self, cursor.collection)
            out.appendLittleEndian(UInt32(cursor.key.count))
            out += cursor.key
        }
        out.appendLittleEndian(out.withUnsafeBytes { KeyHash.xxh3($0) })
        return out
    }

    static func decode(_ bytes: [UInt8]) -> IncomingTransfers.Checkpoint? {
        guard bytes.count >= magic.count + 8, Array(bytes.prefix(magic.count)) == magic else { return nil }
        return try? decode(bytes, body: bytes.count - 8)
    }

    private static func decode(_ bytes: [UInt8], body: Int) throws(RingError) -> IncomingTransfers.Checkpoint? {
        var reader = LittleEndianReader(bytes: bytes, offset: magic.count, end: body)
        let checksum = bytes.withUnsafeBytes { KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: $0[..<body])) }
        guard try reader.integer(UInt64.self, at: body) == checksum, try reader.read(UInt32.self) == 2 else {
            return nil
        }
        let planID = try reader.read(UInt64.self)
        var done: [Int] = []
        for _ in 0..<(try reader.read(UInt32.self)) { done.append(Int(try reader.read(UInt16.self))) }
        var positions: [Int: IncomingTransfers.Checkpoint.Position] = [:]
        for _ in 0..<(try reader.read(UInt32.self)) {
            let partition = Int(try reader.read(UInt16.self))
            var sources: [String] = []
            for _ in 0..<(try reader.read(UInt8.self)) { sources.append(try reader.string(UInt16.self)) }
            let index = Int(try reader.read(UInt8.self))
            guard index < max(1, sources.count) else { return nil }
            var cursor: TransferCursor?
            if try reader.read(UInt8.self) == 1 {
                let collection = try reader.string(UInt16.self)
                cursor = TransferCursor(
                    collection: collection, key: try reader.bytes(Int(try reader.read(UInt32.self))))
            }
            positions[partition] = .init(sources: sources, sourceIndex: index, cursor: cursor)
        }
        guard reader.offset == body else { return nil }
        return IncomingTransfers.Checkpoint(planID: planID, done: done, positions: positions)
    }

    /// The stored checkpoint; a damaged one is reported and ignored (the copy then starts over).
    static func load(_ path: String, logger: Logger) -> IncomingTransfers.Checkpoint? {
        guard let bytes = try? DurableFile.read(path) else { return nil }
        guard let checkpoint = decode(bytes) else {
            logger.error("ignoring a damaged transfer checkpoint", metadata: ["path": "\(path)"])
            return nil
        }
        return checkpoint
    }
}
