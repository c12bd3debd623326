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
        out.put(UInt32(2))
        out.put(checkpoint.planID)
        out.put(UInt32(checkpoint.done.count))
        for partition in checkpoint.done { out.put(UInt16(partition)) }
        out.put(UInt32(checkpoint.positions.count))
        for (partition, position) in checkpoint.positions.sorted(by: { $0.key < $1.key }) {
            out.put(UInt16(partition))
            out.put(UInt8(position.sources.count))
            for source in position.sources {
                out.put(UInt16(source.utf8.count))
                out += Array(source.utf8)
            }
            out.put(UInt8(position.sourceIndex))
            guard let cursor = position.cursor else {
                out.put(UInt8(0))
                continue
            }
            out.put(UInt8(1))
            let name = Array(cursor.collection.utf8)
            out.put(UInt16(name.count))
            out += name
            out.put(UInt32(cursor.key.count))
            out += cursor.key
        }
        out.put(out.withUnsafeBytes { KeyHash.xxh3($0) })
        return out
    }

    static func decode(_ bytes: [UInt8]) -> IncomingTransfers.Checkpoint? {
        guard bytes.count >= magic.count + 8, Array(bytes.prefix(magic.count)) == magic else { return nil }
        let body = bytes.count - 8
        var reader = Reader(bytes: bytes, offset: magic.count, end: body)
        var tail = Reader(bytes: bytes, offset: body, end: bytes.count)
        guard let checksum = tail.take(UInt64.self),
            checksum == bytes.withUnsafeBytes({ KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: $0[..<body])) }),
            reader.take(UInt32.self) == 2, let planID = reader.take(UInt64.self),
            let doneCount = reader.take(UInt32.self)
        else { return nil }
        var done: [Int] = []
        for _ in 0..<doneCount {
            guard let partition = reader.take(UInt16.self) else { return nil }
            done.append(Int(partition))
        }
        guard let positionCount = reader.take(UInt32.self) else { return nil }
        var positions: [Int: IncomingTransfers.Checkpoint.Position] = [:]
        for _ in 0..<positionCount {
            guard let partition = reader.take(UInt16.self), let sourceCount = reader.take(UInt8.self) else {
                return nil
            }
            var sources: [String] = []
            for _ in 0..<sourceCount {
                guard let length = reader.take(UInt16.self), let bytes = reader.bytes(Int(length)),
                    let source = String(validating: bytes, as: UTF8.self)
                else { return nil }
                sources.append(source)
            }
            guard let index = reader.take(UInt8.self), Int(index) < max(1, sources.count),
                let hasCursor = reader.take(UInt8.self)
            else { return nil }
            var cursor: TransferCursor?
            if hasCursor == 1 {
                guard let nameLength = reader.take(UInt16.self), let name = reader.bytes(Int(nameLength)),
                    let keyLength = reader.take(UInt32.self), let key = reader.bytes(Int(keyLength)),
                    let collection = String(validating: name, as: UTF8.self)
                else { return nil }
                cursor = TransferCursor(collection: collection, key: key)
            }
            positions[Int(partition)] = .init(sources: sources, sourceIndex: Int(index), cursor: cursor)
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

    private struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int

        mutating func take<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard offset + MemoryLayout<T>.size <= end else { return nil }
            var value: T = 0
            for index in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + index]) << (8 * index) }
            offset += MemoryLayout<T>.size
            return value
        }

        mutating func bytes(_ count: Int) -> [UInt8]? {
            guard count >= 0, offset + count <= end else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }
    }
}

extension [UInt8] {
    fileprivate mutating func put<T: FixedWidthInteger>(_ value: T) {
        for index in 0..<MemoryLayout<T>.size { append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}
