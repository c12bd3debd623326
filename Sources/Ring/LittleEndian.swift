/// Little-endian fixed-width fields for dhrt's small binary files (the ring, the transfer checkpoint); every read
/// is bounds-checked against `end`, so garbage throws instead of trapping.
///
/// Inlinable so that callers in other modules get the reads specialized: unspecialized, each generic read went
/// through the runtime's metadata cache, about 3,500 instructions per integer of a metadata heartbeat.
public struct LittleEndianReader {
    public let bytes: [UInt8]
    public let end: Int
    @usableFromInline var position: Int

    /// Where the next read starts.
    @inlinable public var offset: Int { position }

    @inlinable public init(bytes: [UInt8], offset: Int = 0, end: Int) {
        self.bytes = bytes
        self.position = offset
        self.end = min(end, bytes.count)
    }

    /// The integer at `position`, ignoring `end` (for a checksum stored after the body).
    @inlinable public func integer<T: FixedWidthInteger>(_: T.Type, at position: Int) throws(RingError) -> T {
        guard position >= 0, position + MemoryLayout<T>.size <= bytes.count else {
            throw RingError.decoding("truncated")
        }
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size { value |= T(bytes[position + index]) << (8 * index) }
        return value
    }

    @inlinable public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(RingError) -> T {
        guard position + MemoryLayout<T>.size <= end else { throw RingError.decoding("truncated") }
        let value = try integer(T.self, at: position)
        position += MemoryLayout<T>.size
        return value
    }

    @inlinable public mutating func bytes(_ count: Int) throws(RingError) -> [UInt8] {
        guard count >= 0, position + count <= end else { throw RingError.decoding("truncated") }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// UTF-8 text preceded by its length as a `Length`.
    @inlinable public mutating func string<Length: FixedWidthInteger>(_: Length.Type) throws(RingError) -> String {
        let utf8 = try bytes(Int(try read(Length.self)))
        guard let string = String(validating: utf8, as: UTF8.self) else { throw RingError.decoding("invalid UTF-8") }
        return string
    }
}

extension [UInt8] {
    @inlinable public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        for index in 0..<MemoryLayout<T>.size { append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    /// UTF-8 text preceded by its length as a `Length`, cut to what that length can say.
    @inlinable public mutating func appendString<Length: FixedWidthInteger>(_: Length.Type, _ string: String) {
        let utf8 = Array(string.utf8.prefix(Int(clamping: Length.max)))
        appendLittleEndian(Length(utf8.count))
        append(contentsOf: utf8)
    }
}
