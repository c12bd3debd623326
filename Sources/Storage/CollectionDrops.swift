import Ring

/// The `COLLECTION-DROPS` file of a data directory: when each collection was last dropped (wall clock,
/// nanoseconds). A drop deletes the collection's files, so this is what remembers it: replicas refuse values
/// written before the drop that arrive late, and a drop cut short by a crash completes on reopen.
///
/// Layout (little-endian): `DHRTCDRP | version u32 | entries u32 | (name size u8, name, timestamp u64)* |
/// XXH3-64 of all bytes before it`.
enum CollectionDrops {
    static let magic: UInt64 = 0x5052_4443_5452_4844  // "DHRTCDRP"
    static let fileName = "COLLECTION-DROPS"

    static func write(_ drops: [String: UInt64], to path: String) throws(StorageError) {
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        put(magic)
        put(RecordFormat.version)
        put(UInt32(drops.count))
        for (name, timestamp) in drops.sorted(by: { $0.key < $1.key }) {
            let utf8 = Array(name.utf8)
            put(UInt8(utf8.count))
            bytes += utf8
            put(timestamp)
        }
        put(bytes.withUnsafeBytes { KeyHash.xxh3($0) })
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// The drops recorded at `path`; empty when there is no file. Throws when the file is damaged, since
    /// ignoring it would let dropped values come back.
    static func read(from path: String) throws(StorageError) -> [String: UInt64] {
        guard FileSystem.exists(path) else { return [:] }
        let bytes = try FileDescriptor.open(path, create: false).readAll()
        guard let drops = decode(bytes) else {
            throw .damaged(path: path, detail: "collection drop markers")
        }
        return drops
    }

    /// The entries of a file's bytes, or nil when they are damaged.
    static func decode(_ bytes: [UInt8]) -> [String: UInt64]? {
        bytes.withUnsafeBytes { raw -> [String: UInt64]? in
            guard raw.count >= 24, RecordFormat.checkFileHeader(raw, magic: magic) == nil,
                KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
                    == UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
            else { return nil }
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            let end = raw.count - 8
            var offset = 16
            var drops: [String: UInt64] = [:]
            for _ in 0..<count {
                guard offset < end else { return nil }
                let size = Int(raw[offset])
                offset += 1
                guard end - offset >= size + 8 else { return nil }
                guard
                    let name = String(
                        validating: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size)]), as: UTF8.self)
                else { return nil }
                offset += size
                drops[name] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            return offset == end ? drops : nil
        }
    }
}
