import NIOCore

/// One client command: the name first, then its arguments, each a slice of the received bytes (not a copy).
struct RESPCommand {
    var arguments: [ByteBuffer]

    /// The command's name in upper case, as commands are matched; empty for none.
    var name: String {
        guard let first = arguments.first else { return "" }
        return String(buffer: first).uppercased()
    }
}

/// Bytes that are not a RESP command: answered `-ERR protocol error: …`, then the connection closes.
struct RESPProtocolError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How much one command may hold before it is read in full.
struct RESPLimits: Sendable {
    /// One argument: the HTTP value limit, so a value refused over HTTP cannot come in this way.
    var maxBulkLength = 8 << 20
    /// Arguments of one command: an MSET of 5,000 pairs, far below Redis's 1M.
    var maxArguments = 10_001
    /// All arguments of one command together: the HTTP batch limit.
    var maxCommandBytes = 16 << 20
    /// An inline command (a plain text line, as typed into telnet), as Redis bounds it.
    var maxInlineLength = 64 << 10
}

/// Whether a connection holds part of a command: the connection times out a client that stops halfway.
final class RESPProgress {
    var partialSince: NIODeadline?
}

/// Splits the byte stream into commands: arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) as every
/// client library sends them, and inline commands (`PING\r\n`).
///
/// A command is decoded incrementally: bulk strings already complete stay read while the rest arrives, so a
/// large command spread over many reads is not parsed again from its start each time.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPCommand

    let limits: RESPLimits
    let progress: RESPProgress?
    /// Arguments still expected of a multibulk command begun in an earlier read, and those read.
    private var remaining = 0
    private var arguments: [ByteBuffer] = []
    private var bytes = 0

    init(limits: RESPLimits, progress: RESPProgress? = nil) {
        self.limits = limits
        self.progress = progress
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try next(&buffer) else {
            if let progress {
                let partial = remaining > 0 || buffer.readableBytes > 0
                progress.partialSince = partial ? (progress.partialSince ?? .now()) : nil
            }
            return .needMoreData
        }
        progress?.partialSince = nil
        context.fireChannelRead(wrapInboundOut(command))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // Complete commands before the end of the stream are still answered; a torn last one is dropped.
        try decode(context: context, buffer: &buffer)
    }

    /// The next complete command, or nil when more bytes are needed; consumes what it decoded.
    mutating func next(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPCommand? {
        while true {
            if remaining == 0 {
                guard let first = buffer.readableBytesView.first else { return nil }
                guard first == UInt8(ascii: "*") else {
                    guard let line = try inline(&buffer) else { return nil }
                    if line.isEmpty { continue }  // a blank line is no command, as in Redis
                    return RESPCommand(arguments: line)
                }
                guard let (count, length) = try Self.header(buffer, marker: "*") else { return nil }
                buffer.moveReaderIndex(forwardBy: length)
                // `*0` and `*-1` are no command; Redis skips them too.
                guard count > 0 else { continue }
                guard count <= limits.maxArguments else {
                    throw RESPProtocolError("a command has at most \(limits.maxArguments) arguments, not \(count)")
                }
                remaining = count
                arguments = []
                arguments.reserveCapacity(count)
                bytes = 0
            }
            while remaining > 0 {
                guard let argument = try bulk(&buffer) else { return nil }
                arguments.append(argument)
                remaining -= 1
            }
            let command = RESPCommand(arguments: arguments)
            arguments = []
            return command
        }
    }

    /// One `$<length>\r\n<bytes>\r\n`, whole or not at all.
    private mutating func bulk(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> ByteBuffer? {
        guard let first = buffer.readableBytesView.first else { return nil }
        guard first == UInt8(ascii: "$") else {
            throw RESPProtocolError("expected '$', got '\(Self.printable(first))'")
        }
        guard let (length, headerLength) = try Self.header(buffer, marker: "$") else { return nil }
        guard length >= 0 else { throw RESPProtocolError("invalid bulk length \(length)") }
        guard length <= limits.maxBulkLength else {
            throw RESPProtocolError("bulk length \(length) exceeds the limit of \(limits.maxBulkLength) bytes")
        }
        guard bytes + length <= limits.maxCommandBytes else {
            throw RESPProtocolError("a command holds at most \(limits.maxCommandBytes) bytes")
        }
        guard buffer.readableBytes >= headerLength + length + 2 else { return nil }
        let end = buffer.readerIndex + headerLength + length
        guard buffer.getInteger(at: end, as: UInt16.self) == 0x0D0A else {
            throw RESPProtocolError("a bulk string of \(length) bytes does not end with CRLF")
        }
        buffer.moveReaderIndex(forwardBy: headerLength)
        let argument = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        bytes += length
        return argument
    }

    /// The integer of a `*<n>\r\n` or `$<n>\r\n` line at the reader index and the line's length, unread; nil
    /// while the line is incomplete.
    private static func header(_ buffer: ByteBuffer, marker: Character) throws(RESPProtocolError) -> (Int, Int)? {
        // A marker, a sign, at most 19 digits, CRLF: anything longer is not a length.
        let view = buffer.readableBytesView
        let window = view.prefix(23)
        guard let lf = window.firstIndex(of: 0x0A) else {
            if window.count == 23 { throw RESPProtocolError("invalid \(marker) length line") }
            return nil
        }
        guard lf - view.startIndex >= 2, view[lf - 1] == 0x0D else {
            throw RESPProtocolError("invalid \(marker) length line")
        }
        var digits = view[(view.startIndex + 1)..<(lf - 1)]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw RESPProtocolError("invalid \(marker) length")
        }
        var value = 0
        for digit in digits { value = value * 10 + Int(digit - 0x30) }
        return (negative ? -value : value, lf - view.startIndex + 1)
    }

    /// A plain text line split at blanks, its CRLF (or lone LF) consumed; nil while incomplete.
    private func inline(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> [ByteBuffer]? {
        let view = buffer.readableBytesView
        guard let lf = view.prefix(limits.maxInlineLength + 1).firstIndex(of: 0x0A) else {
            if view.count > limits.maxInlineLength { throw RESPProtocolError("too big inline request") }
            return nil
        }
        let start = view.startIndex
        let end = lf > start && view[lf - 1] == 0x0D ? lf - 1 : lf
        var words: [ByteBuffer] = []
        var index = start
        while index < end {
            while index < end, view[index] == 0x20 || view[index] == 0x09 { index += 1 }
            let wordStart = index
            while index < end, view[index] != 0x20, view[index] != 0x09 { index += 1 }
            if index > wordStart {
                let offset = buffer.readerIndex + (wordStart - start)
                words.append(buffer.getSlice(at: offset, length: index - wordStart)!)
            }
        }
        guard words.count <= limits.maxArguments else {
            throw RESPProtocolError("a command has at most \(limits.maxArguments) arguments")
        }
        buffer.moveReaderIndex(forwardBy: lf - start + 1)
        return words
    }

    private static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
}
