public import NIOCore

/// A typed inter-node message: the payload of one frame of type ``type``.
///
/// Encodings are fixed-layout, big-endian, length-prefixed (see `## Messages` in Docs/PROTOCOL.md).
/// Decoding MUST consume the whole payload; anything malformed is a ``MessageDecodingError``.
public protocol WireMessage: Sendable {
    /// The frame type that carries this message (requests and their replies share it).
    static var type: MessageType { get }
    /// Appends the encoding to `buffer`.
    func encode(into buffer: inout ByteBuffer)
    /// Reads one message from `buffer`.
    init(from buffer: inout ByteBuffer) throws(MessageDecodingError)
}

/// Why a payload is not a valid message.
public struct MessageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, for logs.
    public var description: String

    /// Creates an error with a reason.
    public init(_ description: String) { self.description = description }
}

extension WireMessage {
    /// The message as a fresh payload buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }

    /// Decodes a whole payload; trailing bytes are an error.
    public static func decode(_ payload: ByteBuffer) throws(MessageDecodingError) -> Self {
        var buffer = payload
        let message = try Self(from: &buffer)
        guard buffer.readableBytes == 0 else {
            throw MessageDecodingError("\(Self.type): \(buffer.readableBytes) unexpected trailing bytes")
        }
        return message
    }
}

/// Field readers and writers shared by the message codecs.
extension ByteBuffer {
    /// Largest byte string a message field may carry (values are at most a few MiB; frames cap at 16 MiB).
    static let maxFieldSize = 16 * 1024 * 1024
    /// Largest list a message may carry.
    static let maxListCount = 1 << 20

    mutating func writeField(_ bytes: [UInt8]) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    mutating func writeField(_ text: String) {
        writeInteger(UInt16(text.utf8.count))
        writeString(text)
    }

    mutating func writeOptionalField(_ bytes: [UInt8]?) {
        guard let bytes else {
            writeInteger(UInt8(0))
            return
        }
        writeInteger(UInt8(1))
        writeField(bytes)
    }

    mutating func readU8(_ what: StaticString) throws(MessageDecodingError) -> UInt8 {
        guard let value = readInteger(as: UInt8.self) else { throw MessageDecodingError("truncated \(what)") }
        return value
    }

    mutating func readU16(_ what: StaticString) throws(MessageDecodingError) -> UInt16 {
        guard let value = readInteger(as: UInt16.self) else { throw MessageDecodingError("truncated \(what)") }
        return value
    }

    mutating func readU32(_ what: StaticString) throws(MessageDecodingError) -> UInt32 {
        guard let value = readInteger(as: UInt32.self) else { throw MessageDecodingError("truncated \(what)") }
        return value
    }

    mutating func readBool(_ what: StaticString) throws(MessageDecodingError) -> Bool {
        switch try readU8(what) {
        case 0: return false
        case 1: return true
        case let other: throw MessageDecodingError("\(what): \(other) is not a boolean")
        }
    }

    mutating func readBytesField(_ what: StaticString) throws(MessageDecodingError) -> [UInt8] {
        let count = Int(try readU32(what))
        guard count <= Self.maxFieldSize, let bytes = readBytes(length: count) else {
            throw MessageDecodingError("\(what): length \(count) exceeds the payload")
        }
        return bytes
    }

    mutating func readStringField(_ what: StaticString) throws(MessageDecodingError) -> String {
        let count = Int(try readU16(what))
        guard let bytes = readBytes(length: count) else {
            throw MessageDecodingError("\(what): length \(count) exceeds the payload")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MessageDecodingError("\(what) is not UTF-8")
        }
        return text
    }

    mutating func readOptionalBytesField(_ what: StaticString) throws(MessageDecodingError) -> [UInt8]? {
        try readBool(what) ? try readBytesField(what) : nil
    }

    mutating func readCount(_ what: StaticString) throws(MessageDecodingError) -> Int {
        let count = Int(try readU32(what))
        // Every element takes at least one byte, so a count beyond the remaining bytes is a lie.
        guard count <= Self.maxListCount, count <= readableBytes else {
            throw MessageDecodingError("\(what): count \(count) exceeds the payload")
        }
        return count
    }
}
