import NIOCore

/// A reply to a client, written in the connection's protocol version (RESP2, or RESP3 after `HELLO 3`).
indirect enum RESPValue: Sendable, Equatable {
    case simple(String)
    /// `-<text>`: the first word is the error's code (`ERR`, `NOAUTH`, `SIBLINGS`, …), as clients read it.
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    /// RESP2's null bulk string, RESP3's null.
    case null
    case array([RESPValue])
    /// RESP3's map; a flat array of keys and values in RESP2.
    case map([(RESPValue, RESPValue)])

    static let ok = RESPValue.simple("OK")

    static func bulk(_ text: String) -> RESPValue { .bulk(Array(text.utf8)) }

    static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simple(let a), .simple(let b)), (.error(let a), .error(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.bulk(let a), .bulk(let b)): a == b
        case (.null, .null): true
        case (.array(let a), .array(let b)): a == b
        case (.map(let a), .map(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

extension ByteBuffer {
    /// Appends `value` as RESP `version` (2 or 3).
    mutating func writeRESP(_ value: RESPValue, version: Int) {
        switch value {
        case .simple(let text):
            writeLine(UInt8(ascii: "+"), Self.oneLine(text))
        case .error(let text):
            writeLine(UInt8(ascii: "-"), Self.oneLine(text))
        case .integer(let number):
            writeLine(UInt8(ascii: ":"), String(number))
        case .bulk(let bytes):
            writeLine(UInt8(ascii: "$"), String(bytes.count))
            writeBytes(bytes)
            writeCRLF()
        case .null:
            if version >= 3 { writeStaticString("_\r\n") } else { writeStaticString("$-1\r\n") }
        case .array(let elements):
            writeLine(UInt8(ascii: "*"), String(elements.count))
            for element in elements { writeRESP(element, version: version) }
        case .map(let pairs):
            if version >= 3 {
                writeLine(UInt8(ascii: "%"), String(pairs.count))
            } else {
                writeLine(UInt8(ascii: "*"), String(pairs.count * 2))
            }
            for (key, element) in pairs {
                writeRESP(key, version: version)
                writeRESP(element, version: version)
            }
        }
    }

    private mutating func writeLine(_ marker: UInt8, _ text: String) {
        writeInteger(marker)
        writeString(text)
        writeCRLF()
    }

    private mutating func writeCRLF() { writeInteger(UInt16(0x0D0A)) }

    /// Simple strings and errors cannot hold a line break: one would end the reply early.
    private static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}
