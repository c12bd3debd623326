import Coordinator
import Logging
import Ring
import Storage

/// The receiver's transfer checkpoint on disk: `DHRTXFER | u32 version | u64 plan | u32 D | D × u16 partition |
/// u32 C | C × (u16 partition, u16 length, collection, u32 length, key) | u64 xxh3 of all before`, little-endian.
enum TransferCheckpointFile {
    static let magic = Array("DHRTXFER".utf8)

    static func encode(_ checkpoint: IncomingTransfers.Checkpoint) -> [UInt8] {
        var out = magic
        out.put(UInt32(1))
        out.put(checkpoint.planID)
        out.put(UInt32(checkpoint.done.count))
        for partition in checkpoint.done { out.put(UInt16(partition)) }
        out.put(UInt32(checkpoint.cursors.count))
        for (partition, cursor) in checkpoint.cursors.sorted(by: { $0.key < $1.key }) {
            out.put(UInt16(partition))
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
            reader.take(UInt32.self) == 1, let planID = reader.take(UInt64.self),
            let doneCount = reader.take(UInt32.self)
        else { return nil }
        var done: [Int] = []
        for _ in 0..<doneCount {
            guard let partition = reader.take(UInt16.self) else { return nil }
            done.append(Int(partition))
        }
        guard let cursorCount = reader.take(UInt32.self) else { return nil }
        var cursors: [Int: TransferCursor] = [:]
        for _ in 0..<cursorCount {
            guard let partition = reader.take(UInt16.self), let nameLength = reader.take(UInt16.self),
                let name = reader.bytes(Int(nameLength)), let keyLength = reader.take(UInt32.self),
                let key = reader.bytes(Int(keyLength)), let collection = String(validating: name, as: UTF8.self)
            else { return nil }
            cursors[Int(partition)] = TransferCursor(collection: collection, key: key)
        }
        guard reader.offset == body else { return nil }
        return IncomingTransfers.Checkpoint(planID: planID, done: done, cursors: cursors)
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
