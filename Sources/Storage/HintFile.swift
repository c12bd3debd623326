import Ring

/// Hint files: for each record of a sealed data file, everything the keydir needs except the value.
///
/// Layout (little-endian): header `DHRTHINT | version u32 | file id u32`; entries `timestamp u64 | flags u8 |
/// key size u16 | meta size u32 | value size u32 | offset u32 | key`; trailer `DHRTHEND | entry count u64 |
/// data file size u64 | checksum u64`, the checksum being XXH3-64 of every byte before it.
enum HintFile {
    static let magic: UInt64 = 0x544E_4948_5452_4844  // "DHRTHINT"
    static let endMagic: UInt64 = 0x444E_4548_5452_4844  // "DHRTHEND"
    static let entryHeaderSize = 23
    static let trailerSize = 32

    struct Entry {
        var timestamp: UInt64
        var flags: UInt8
        var metaSize: UInt32
        var valueSize: UInt32
        var offset: UInt32
    }

    /// Builds the hint image for a data file from its records.
    struct Builder {
        private(set) var bytes: [UInt8]
        private(set) var count = 0

        init(fileID: UInt32, expectedBytes: Int = 4096) {
            bytes = []
            bytes.reserveCapacity(expectedBytes)
            append(size: RecordFormat.fileHeaderSize) { out in
                RecordFormat.writeFileHeader(magic: HintFile.magic, fileID: fileID, to: out)
            }
        }

        private mutating func append(size: Int, _ write: (UnsafeMutableRawPointer) -> Void) {
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: size))
            bytes.withUnsafeMutableBytes { raw in write(raw.baseAddress! + start) }
        }

        mutating func add(key: UnsafeRawBufferPointer, header: RecordHeader, offset: Int) {
            append(size: HintFile.entryHeaderSize + key.count) { out in
                out.storeBytes(of: header.timestamp.littleEndian, toByteOffset: 0, as: UInt64.self)
                out.storeBytes(of: header.flags, toByteOffset: 8, as: UInt8.self)
                out.storeBytes(of: UInt16(key.count).littleEndian, toByteOffset: 9, as: UInt16.self)
                out.storeBytes(of: UInt32(header.metaSize).littleEndian, toByteOffset: 11, as: UInt32.self)
                out.storeBytes(of: UInt32(header.valueSize).littleEndian, toByteOffset: 15, as: UInt32.self)
                out.storeBytes(of: UInt32(offset).littleEndian, toByteOffset: 19, as: UInt32.self)
                (out + HintFile.entryHeaderSize).copyMemory(from: key.baseAddress!, byteCount: key.count)
            }
            count += 1
        }

        /// The finished image, sealed with the data file's size and a checksum.
        mutating func finish(dataFileSize: Int) -> [UInt8] {
            let entries = UInt64(count)
            append(size: HintFile.trailerSize) { out in
                out.storeBytes(of: HintFile.endMagic.littleEndian, toByteOffset: 0, as: UInt64.self)
                out.storeBytes(of: entries.littleEndian, toByteOffset: 8, as: UInt64.self)
                out.storeBytes(of: UInt64(dataFileSize).littleEndian, toByteOffset: 16, as: UInt64.self)
            }
            let sum = bytes.withUnsafeBytes { raw in
                KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
            }
            bytes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: sum.littleEndian, toByteOffset: raw.count - 8, as: UInt64.self)
            }
            return bytes
        }
    }

    /// Entry count and data file size recorded in a hint image, if its frame and checksum are intact.
    static func validate(_ bytes: UnsafeRawBufferPointer) -> (count: Int, dataFileSize: Int)? {
        guard bytes.count >= RecordFormat.fileHeaderSize + trailerSize,
            RecordFormat.checkFileHeader(bytes, magic: magic) == nil
        else { return nil }
        let trailer = bytes.count - trailerSize
        guard UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: trailer, as: UInt64.self)) == endMagic else {
            return nil
        }
        let stored = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
        guard KeyHash.xxh3(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 8)])) == stored else {
            return nil
        }
        let count = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: trailer + 8, as: UInt64.self))
        let size = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: trailer + 16, as: UInt64.self))
        guard count <= UInt64(bytes.count), size <= UInt64(Int.max) else { return nil }
        return (Int(count), Int(size))
    }

    /// Calls `visit(key, entry)` for each entry of a validated image; false if an entry runs out of bounds.
    static func forEach(
        _ bytes: UnsafeRawBufferPointer, limits: RecordLimits, visit: (UnsafeRawBufferPointer, Entry) -> Void
    ) -> Bool {
        let end = bytes.count - trailerSize
        var position = RecordFormat.fileHeaderSize
        while position < end {
            guard end - position >= entryHeaderSize else { return false }
            let keySize = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 9, as: UInt16.self)))
            guard keySize >= 1, keySize <= limits.key, end - position - entryHeaderSize >= keySize else { return false }
            let entry = Entry(
                timestamp: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)),
                flags: bytes[position + 8],
                metaSize: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 11, as: UInt32.self)),
                valueSize: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 15, as: UInt32.self)),
                offset: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 19, as: UInt32.self)))
            let keyStart = position + entryHeaderSize
            visit(UnsafeRawBufferPointer(rebasing: bytes[keyStart..<(keyStart + keySize)]), entry)
            position = keyStart + keySize
        }
        return true
    }
}
