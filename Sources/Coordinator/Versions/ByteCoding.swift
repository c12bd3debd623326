/// Appends the primitive fields of dhrt's binary version formats.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Unsigned LEB128.
    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Length-prefixed bytes.
    mutating func blob(_ value: some Collection<UInt8>) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}

/// Reads the primitive fields back; every read is bounds-checked and throws on garbage.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var position: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        position = 0
    }

    var remaining: Int { bytes.count - position }

    mutating func byte() throws(VersionError) -> UInt8 {
        guard position < bytes.count else { throw .truncated }
        defer { position += 1 }
        return bytes[position]
    }

    /// Unsigned LEB128, at most 10 bytes, minimally encoded, within 64 bits.
    mutating func varint() throws(VersionError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<10 {
            let b = try byte()
            let payload = UInt64(b & 0x7F)
            if index == 9 && payload > 1 { throw .malformedInteger }
            result |= payload << shift
            if b & 0x80 == 0 {
                if b == 0 && index > 0 { throw .malformedInteger }
                return result
            }
            shift += 7
        }
        throw .malformedInteger
    }

    /// A count of elements each taking at least `minimumSize` bytes, checked against what is left so that a
    /// hostile count cannot make the decoder reserve memory.
    mutating func count(minimumSize: Int) throws(VersionError) -> Int {
        let raw = try varint()
        guard raw <= UInt64(remaining / max(minimumSize, 1)) else {
            throw .implausibleCount(raw > UInt64(Int.max) ? Int.max : Int(raw))
        }
        return Int(raw)
    }

    mutating func fixed64() throws(VersionError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var result: UInt64 = 0
        for index in 0..<8 {
            result |= UInt64(bytes[position + index]) << UInt64(index * 8)
        }
        position += 8
        return result
    }

    mutating func blob(maximum: Int) throws(VersionError) -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(remaining) else { throw .truncated }
        guard length <= UInt64(maximum) else { throw .implausibleCount(Int(length)) }
        defer { position += Int(length) }
        return bytes[position..<position + Int(length)]
    }

    func expectEnd() throws(VersionError) {
        guard remaining == 0 else { throw .trailingBytes(remaining) }
    }
}
