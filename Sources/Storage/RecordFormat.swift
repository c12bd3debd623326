import Ring

/// The on-disk record: `checksum u64 | timestamp u64 | flags u8 | key size u16 | meta size u32 | value size u32 |
/// key | meta | value`, little-endian, checksum = XXH3-64 of every byte after the checksum field.
enum RecordFormat {
    /// Data files start with `DHRTDATA`, the format version (u32) and the file id (u32).
    static let dataMagic: UInt64 = 0x4154_4144_5452_4844  // "DHRTDATA" little-endian
    static let version: UInt32 = 1
    static let fileHeaderSize = 16
    static let headerSize = 27
    static let tombstoneFlag: UInt8 = 1
    static let knownFlags: UInt8 = tombstoneFlag

    static func size(keySize: Int, metaSize: Int, valueSize: Int) -> Int {
        headerSize + keySize + metaSize + valueSize
    }

    /// Writes a file header into `out` (16 bytes).
    static func writeFileHeader(magic: UInt64, fileID: UInt32, to out: UnsafeMutableRawPointer) {
        out.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
        out.storeBytes(of: fileID.littleEndian, toByteOffset: 12, as: UInt32.self)
    }

    /// Checks a file header; returns a reason when it is not one this version reads.
    static func checkFileHeader(_ bytes: UnsafeRawBufferPointer, magic: UInt64) -> String? {
        guard bytes.count >= fileHeaderSize else { return "shorter than its \(fileHeaderSize)-byte header" }
        guard bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == magic.littleEndian else {
            return "magic bytes do not match"
        }
        let found = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard found == version else { return "format version \(found), this build reads \(version)" }
        return nil
    }

    /// Encodes a record at `out`, which must have room for `size(...)` bytes.
    @inline(__always)
    static func encode(
        to out: UnsafeMutableRawPointer, timestamp: UInt64, flags: UInt8,
        key: UnsafeRawBufferPointer, meta: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
    ) {
        out.storeBytes(of: timestamp.littleEndian, toByteOffset: 8, as: UInt64.self)
        out.storeBytes(of: flags, toByteOffset: 16, as: UInt8.self)
        out.storeBytes(of: UInt16(key.count).littleEndian, toByteOffset: 17, as: UInt16.self)
        out.storeBytes(of: UInt32(meta.count).littleEndian, toByteOffset: 19, as: UInt32.self)
        out.storeBytes(of: UInt32(value.count).littleEndian, toByteOffset: 23, as: UInt32.self)
        var cursor = out + headerSize
        if key.count > 0 { cursor.copyMemory(from: key.baseAddress!, byteCount: key.count) }
        cursor += key.count
        if meta.count > 0 { cursor.copyMemory(from: meta.baseAddress!, byteCount: meta.count) }
        cursor += meta.count
        if value.count > 0 { cursor.copyMemory(from: value.baseAddress!, byteCount: value.count) }
        let total = headerSize + key.count + meta.count + value.count
        let sum = KeyHash.xxh3(UnsafeRawBufferPointer(start: out + 8, count: total - 8))
        out.storeBytes(of: sum.littleEndian, toByteOffset: 0, as: UInt64.self)
    }
}

/// A decoded record header.
struct RecordHeader: Equatable {
    var checksum: UInt64
    var timestamp: UInt64
    var flags: UInt8
    var keySize: Int
    var metaSize: Int
    var valueSize: Int

    var size: Int { RecordFormat.headerSize + keySize + metaSize + valueSize }
    var isTombstone: Bool { flags & RecordFormat.tombstoneFlag != 0 }

    /// Reads the header at `offset`, or nil when fewer than `headerSize` bytes remain.
    @inline(__always)
    init?(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard offset >= 0, bytes.count - offset >= RecordFormat.headerSize else { return nil }
        checksum = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        timestamp = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        flags = bytes[offset + 16]
        keySize = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 17, as: UInt16.self)))
        metaSize = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 19, as: UInt32.self)))
        valueSize = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 23, as: UInt32.self)))
    }

    /// True when the sizes are within `limits` and the whole record lies in `bytes` with a matching checksum.
    @inline(__always)
    func isValid(in bytes: UnsafeRawBufferPointer, at offset: Int, limits: RecordLimits) -> Bool {
        guard flags & ~RecordFormat.knownFlags == 0, keySize >= 1, keySize <= limits.key,
            metaSize <= limits.meta, valueSize <= limits.value, bytes.count - offset >= size
        else { return false }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + size)])
        return KeyHash.xxh3(body) == checksum
    }
}

/// Size limits a record must respect to be believed when read back.
struct RecordLimits: Sendable {
    var key: Int
    var meta: Int
    var value: Int

    init(_ options: StorageOptions) {
        key = options.maxKeySize
        meta = options.maxMetaSize
        value = options.maxValueSize
    }

    init(key: Int, meta: Int, value: Int) {
        self.key = key
        self.meta = meta
        self.value = value
    }
}

/// Decodes whole records read back from a file, verifying the checksum.
enum RecordDecoder {
    static func decode(_ bytes: [UInt8], expectMetaOnly: Bool = false) -> StoredRecord? {
        bytes.withUnsafeBytes { raw -> StoredRecord? in
            guard let header = RecordHeader(raw, at: 0), header.size == raw.count else { return nil }
            let body = UnsafeRawBufferPointer(rebasing: raw[8..<raw.count])
            guard KeyHash.xxh3(body) == header.checksum else { return nil }
            let metaStart = RecordFormat.headerSize + header.keySize
            let valueStart = metaStart + header.metaSize
            let meta = Array(raw[metaStart..<valueStart])
            let value = expectMetaOnly ? [] : Array(raw[valueStart..<raw.count])
            return StoredRecord(meta: meta, value: value, isTombstone: header.isTombstone, timestamp: header.timestamp)
        }
    }
}
