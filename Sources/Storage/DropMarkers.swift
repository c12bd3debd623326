import Ring

/// The `DROPS` file of a collection: which partitions were dropped and when. Records of a dropped partition
/// older than its drop are dead, on reopen as well as before.
///
/// Layout (little-endian): `DHRTDROP | version u32 | partition count u32 | entries u32 |
/// (partition u32, timestamp u64)* | XXH3-64 of all bytes before it`.
enum DropMarkers {
    static let magic: UInt64 = 0x504F_5244_5452_4844  // "DHRTDROP"

    static func write(_ drops: [Int: UInt64], partitionCount: Int, to path: String) throws(StorageError) {
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        put(magic)
        put(RecordFormat.version)
        put(UInt32(partitionCount))
        put(UInt32(drops.count))
        for (partition, timestamp) in drops.sorted(by: { $0.key < $1.key }) {
            put(UInt32(partition))
            put(timestamp)
        }
        put(bytes.withUnsafeBytes { KeyHash.xxh3($0) })
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// The drops recorded at `path`; empty when there is no file. Throws when the file is damaged, since
    /// ignoring it would bring dropped data back.
    static func read(from path: String, partitionCount: Int) throws(StorageError) -> [Int: UInt64] {
        guard FileSystem.exists(path) else { return [:] }
        let bytes = try FileDescriptor.open(path, create: false).readAll()
        let decoded = bytes.withUnsafeBytes { raw -> [Int: UInt64]? in
            guard raw.count >= 28, RecordFormat.checkFileHeader(raw, magic: magic) == nil,
                KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
                    == UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
            else { return nil }
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
            let recordedPartitions = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            guard raw.count == 20 + count * 12 + 8 else { return nil }
            // Partition numbers mean nothing under another partition count; the keys are re-hashed anyway.
            guard recordedPartitions == partitionCount else { return [:] }
            var drops: [Int: UInt64] = [:]
            for i in 0..<count {
                let base = 20 + i * 12
                let partition = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt32.self)))
                drops[partition] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4, as: UInt64.self))
            }
            return drops
        }
        guard let decoded else { throw .damaged(path: path, detail: "partition drop markers") }
        return decoded
    }
}
