import NIOCore
import TestSupport
import Testing

@testable import dhrt_node

/// The RESP decoder, encoder and SCAN's glob, without a channel (see `RESPClusterTests` for the real node).
@Suite struct RESPDecoderTests {
    static func command(_ words: String...) -> [UInt8] {
        var bytes = Array("*\(words.count)\r\n".utf8)
        for word in words { bytes += Array("$\(word.utf8.count)\r\n\(word)\r\n".utf8) }
        return bytes
    }

    /// Every command decodable from `bytes` as text words, the decoder's error if it stopped at one.
    static func decode(
        _ bytes: [UInt8], limits: RESPLimits = RESPLimits(), chunk: Int? = nil
    ) -> (commands: [[String]], error: RESPProtocolError?) {
        var decoder = RESPDecoder(limits: limits)
        var buffer = ByteBuffer()
        var commands: [[String]] = []
        var offset = 0
        repeat {
            let end = chunk.map { min(bytes.count, offset + $0) } ?? bytes.count
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            do {
                while let command = try decoder.next(&buffer) {
                    commands.append(command.arguments.map { String(buffer: $0) })
                }
            } catch {
                return (commands, error)
            }
        } while offset < bytes.count
        return (commands, nil)
    }

    @Test func multibulkCommands_decodeWhole_orByteByByte() {
        let stream = Self.command("SET", "k", "v a l") + Self.command("GET", "k") + Self.command("PING")
        let expected = [["SET", "k", "v a l"], ["GET", "k"], ["PING"]]
        #expect(Self.decode(stream).commands == expected)
        #expect(Self.decode(stream, chunk: 1).commands == expected)
        #expect(Self.decode(stream, chunk: 7).commands == expected)
    }

    @Test func anIncompleteCommand_waitsForTheRest() {
        let whole = Self.command("SET", "key", "value")
        let decoded = Self.decode(Array(whole.dropLast(3)))
        #expect(decoded.commands.isEmpty)
        #expect(decoded.error == nil)
    }

    @Test func bulkStrings_holdAnyBytes() {
        var stream = Array("*2\r\n$3\r\nGET\r\n$4\r\n".utf8)
        stream += [0x00, 0x0D, 0x0A, 0xFF] + Array("\r\n".utf8)
        var decoder = RESPDecoder(limits: RESPLimits())
        var buffer = ByteBuffer(bytes: stream)
        let command = try? decoder.next(&buffer)
        #expect(command.map { Array($0.arguments[1].readableBytesView) } == [0x00, 0x0D, 0x0A, 0xFF])
        #expect(buffer.readableBytes == 0)
    }

    @Test func inlineCommands_splitAtBlanks_andBlankLinesAreSkipped() {
        let decoded = Self.decode(Array("PING\r\n\r\nSET  k\tv\nECHO hi\r\n".utf8))
        #expect(decoded.commands == [["PING"], ["SET", "k", "v"], ["ECHO", "hi"]])
        #expect(Self.decode(Array("*0\r\nPING\r\n".utf8)).commands == [["PING"]])
    }

    @Test(arguments: [
        ("*x\r\n", "invalid * length"),
        ("*1\r\n:1\r\n", "expected '$', got ':'"),
        ("*1\r\n$-1\r\n", "invalid bulk length -1"),
        ("*1\r\n$3\r\nGETX\r\n", "a bulk string of 3 bytes does not end with CRLF"),
        ("*1\r\n$1\n", "invalid $ length line"),
        ("*1\r\n$11111111111111111111111\r\n", "invalid $ length line"),
    ])
    func malformedInput_isAProtocolError(input: String, message: String) {
        #expect(Self.decode(Array(input.utf8)).error == RESPProtocolError(message))
    }

    @Test func bounds_refuseOversizedCommandsBeforeReadingThem() {
        var limits = RESPLimits()
        limits.maxBulkLength = 16
        limits.maxArguments = 3
        limits.maxCommandBytes = 20
        limits.maxInlineLength = 8
        #expect(Self.decode(Array("*1\r\n$17\r\n".utf8), limits: limits).error?.description.contains("17") == true)
        #expect(Self.decode(Array("*4\r\n".utf8), limits: limits).error != nil)
        #expect(Self.decode(Self.command("SET", "0123456789", "0123456789x"), limits: limits).error != nil)
        #expect(
            Self.decode(Array("PING PING PING".utf8), limits: limits).error
                == RESPProtocolError("too big inline request"))
        #expect(Self.decode(Self.command("SET", "k", "0123456789"), limits: limits).commands.count == 1)
    }

    @Test func mutatedStreams_neverCrash_andRespectTheBounds() {
        var limits = RESPLimits()
        limits.maxBulkLength = 64
        limits.maxArguments = 16
        limits.maxCommandBytes = 256
        limits.maxInlineLength = 128
        let seeds = [
            Self.command("SET", "key", "value") + Self.command("GET", "key"),
            Self.command("MSET", "a", "1", "b", "2") + Array("PING\r\n".utf8),
            Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n".utf8),
            Array("HELLO 3\r\nAUTH default secret\r\n".utf8),
        ]
        let tried = Fuzzing.run(seeds: seeds) { input in
            for chunk in [nil, 5] as [Int?] {
                let decoded = Self.decode(input, limits: limits, chunk: chunk)
                for command in decoded.commands {
                    #expect(!command.isEmpty && command.count <= 16)
                    #expect(command.reduce(0) { $0 + $1.utf8.count } <= 256)
                }
            }
        }
        #expect(tried >= 1000)
    }

    @Test func replies_encodeAsRESP2_andAsRESP3() {
        func encoded(_ value: RESPValue, _ version: Int) -> String {
            var buffer = ByteBuffer()
            buffer.writeRESP(value, version: version)
            return String(buffer: buffer)
        }
        #expect(encoded(.ok, 2) == "+OK\r\n")
        #expect(encoded(.error("ERR bad\r\nline\n."), 2) == "-ERR bad line .\r\n")
        #expect(encoded(.integer(-3), 2) == ":-3\r\n")
        #expect(encoded(.bulk("hé"), 2) == "$3\r\nhé\r\n")
        #expect(encoded(.null, 2) == "$-1\r\n")
        #expect(encoded(.null, 3) == "_\r\n")
        #expect(encoded(.array([.integer(1), .null]), 2) == "*2\r\n:1\r\n$-1\r\n")
        #expect(encoded(.map([(.bulk("a"), .integer(1))]), 2) == "*2\r\n$1\r\na\r\n:1\r\n")
        #expect(encoded(.map([(.bulk("a"), .integer(1))]), 3) == "%1\r\n$1\r\na\r\n:1\r\n")
    }

    @Test(arguments: [
        ("*", "anything", true), ("user:*", "user:42", true), ("user:*", "users:1", false),
        ("h?llo", "hello", true), ("h?llo", "hllo", false), ("h[ae]llo", "hallo", true),
        ("h[^e]llo", "hello", false), ("h[a-c]llo", "hbllo", true), ("a\\*b", "a*b", true),
        ("a\\*b", "axb", false), ("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false), ("[abc", "a", false),
    ])
    func globPatterns_matchAsRedisDoes(pattern: String, subject: String, matches: Bool) {
        #expect(Glob(Array(subject.utf8)).matches(Array(pattern.utf8)) == matches)
    }

    @Test func siblings_areAnError_unlessTheConnectionAskedForAnArray() {
        let found = ReadOutcome.Found.siblings([Content(value: [1], contentType: ""), nil])
        guard case .error(let text) = RESPCommands.value(found, siblingsAsArray: false) else {
            Issue.record("siblings should be an error")
            return
        }
        #expect(text.hasPrefix("SIBLINGS 2 "))
        #expect(RESPCommands.value(found, siblingsAsArray: true) == .array([.bulk([1]), .null]))
    }
}
