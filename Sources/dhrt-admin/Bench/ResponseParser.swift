import Foundation
import NIOCore

/// A minimal HTTP/1.1 response reader for the load generator: status code, Content-Length or chunked
/// bodies (skipped, not kept), and `Connection: close`. It never copies a body.
struct ResponseParser {
    /// A complete response.
    struct Response: Equatable {
        var status: Int
        var closes: Bool
        /// The `X-Dhrt-Context` header, when the node sent one.
        var context: [UInt8]? = nil
    }

    enum ParseError: Error { case malformed(String) }

    private enum State {
        case head
        case body(status: Int, closes: Bool, remaining: Int)
        case chunkSize(status: Int, closes: Bool)
        case chunkData(status: Int, closes: Bool, remaining: Int)
        case trailer(status: Int, closes: Bool)
    }

    private var state = State.head
    private var context: [UInt8]?

    /// Consumes bytes of `buffer` and returns a response once one is complete (call again for the next).
    mutating func next(_ buffer: inout ByteBuffer) throws(ParseError) -> Response? {
        while true {
            switch state {
            case .head:
                guard let end = find(buffer, "\r\n\r\n") else {
                    if buffer.readableBytes > 64 * 1024 { throw .malformed("response head over 64 KiB") }
                    return nil
                }
                let head = buffer.readSlice(length: end + 4)!
                let (status, length, chunked, closes, context) = try parseHead(head)
                self.context = context
                if chunked {
                    state = .chunkSize(status: status, closes: closes)
                } else if let length, length > 0 {
                    state = .body(status: status, closes: closes, remaining: length)
                } else {
                    return Response(status: status, closes: closes, context: context)
                }
            case .body(let status, let closes, let remaining):
                let take = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: take)
                if take < remaining {
                    state = .body(status: status, closes: closes, remaining: remaining - take)
                    return nil
                }
                state = .head
                return Response(status: status, closes: closes, context: context)
            case .chunkSize(let status, let closes):
                guard let end = find(buffer, "\r\n") else { return nil }
                let line = buffer.readString(length: end)!
                buffer.moveReaderIndex(forwardBy: 2)
                let hex = line.split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(hex.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                    throw .malformed("bad chunk size '\(line)'")
                }
                state = size == 0
                    ? .trailer(status: status, closes: closes)
                    : .chunkData(status: status, closes: closes, remaining: size + 2)
            case .chunkData(let status, let closes, let remaining):
                let take = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: take)
                if take < remaining {
                    state = .chunkData(status: status, closes: closes, remaining: remaining - take)
                    return nil
                }
                state = .chunkSize(status: status, closes: closes)
            case .trailer(let status, let closes):
                guard let end = find(buffer, "\r\n") else { return nil }
                buffer.moveReaderIndex(forwardBy: end + 2)
                if end == 0 {
                    state = .head
                    return Response(status: status, closes: closes, context: context)
                }
            }
        }
    }

    private func parseHead(_ head: ByteBuffer) throws(ParseError) -> (Int, Int?, Bool, Bool, [UInt8]?) {
        try head.withUnsafeReadableBytes { bytes throws(ParseError) -> (Int, Int?, Bool, Bool, [UInt8]?) in
            guard bytes.count >= 12, bytes.starts(with: "HTTP/1.".utf8) else {
                throw .malformed("not an HTTP/1.x response")
            }
            var status = 0
            for byte in bytes[9..<12] {
                guard (48...57).contains(byte) else { throw .malformed("bad status code") }
                status = status * 10 + Int(byte - 48)
            }
            var length: Int?
            var chunked = false
            var closes = false
            var context: [UInt8]?
            var lineStart = (bytes.firstIndex(of: 10) ?? bytes.count - 1) + 1
            while lineStart < bytes.count {
                let lineEnd = bytes[lineStart...].firstIndex(of: 10) ?? bytes.count
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                guard let colon = line.firstIndex(of: 58) else { continue }
                let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
                let value = UnsafeRawBufferPointer(rebasing: line[(colon + 1)...])
                if Self.equalsIgnoringCase(name, "content-length") {
                    var parsed = 0
                    var digits = 0
                    for byte in value where byte != 32 && byte != 13 && byte != 9 {
                        guard (48...57).contains(byte), digits < 18 else { throw .malformed("bad Content-Length") }
                        parsed = parsed * 10 + Int(byte - 48)
                        digits += 1
                    }
                    guard digits > 0 else { throw .malformed("bad Content-Length") }
                    length = parsed
                } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = Self.contains(value, "chunked")
                } else if Self.equalsIgnoringCase(name, "connection") {
                    closes = Self.contains(value, "close")
                } else if Self.equalsIgnoringCase(name, "x-dhrt-context") {
                    context = value.filter { $0 != 32 && $0 != 13 && $0 != 9 }
                }
            }
            return (status, length, chunked, closes, context)
        }
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count where bytes[index] | 0x20 != lower.utf8Start[index] { return false }
        return true
    }

    private static func contains(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        let count = lower.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        outer: for start in 0...(bytes.count - count) {
            for offset in 0..<count where bytes[start + offset] | 0x20 != lower.utf8Start[offset] { continue outer }
            return true
        }
        return false
    }

    /// Offset of `needle` in the readable bytes, if there.
    private func find(_ buffer: ByteBuffer, _ needle: StaticString) -> Int? {
        buffer.withUnsafeReadableBytes { haystack -> Int? in
            let count = needle.utf8CodeUnitCount
            guard haystack.count >= count else { return nil }
            let first = needle.utf8Start[0]
            var index = 0
            while index <= haystack.count - count {
                if haystack[index] == first {
                    var match = true
                    for offset in 1..<count where haystack[index + offset] != needle.utf8Start[offset] {
                        match = false
                        break
                    }
                    if match { return index }
                }
                index += 1
            }
            return nil
        }
    }
}
