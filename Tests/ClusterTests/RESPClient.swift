import Foundation

/// A reply as a test reads it off the socket.
indirect enum RESPReply: Equatable, CustomStringConvertible {
    case simple(String)
    case error(String)
    case integer(Int)
    /// nil: RESP2's null bulk string or RESP3's null.
    case bulk([UInt8]?)
    case array([RESPReply]?)
    case map([RESPReply])

    static func text(_ text: String) -> RESPReply { .bulk(Array(text.utf8)) }

    var string: String? {
        switch self {
        case .simple(let text): text
        case .bulk(let bytes?): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    var elements: [RESPReply] {
        switch self {
        case .array(let elements?): elements
        case .map(let elements): elements
        default: []
        }
    }

    var description: String {
        switch self {
        case .simple(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(nil), .array(nil): "(nil)"
        case .bulk(let bytes?): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .array(let elements?): "[\(elements.map(\.description).joined(separator: ", "))]"
        case .map(let elements): "{\(elements.map(\.description).joined(separator: ", "))}"
        }
    }
}

/// A blocking RESP connection over `RawSocket`, for tests that send exactly what they mean.
final class RESPClient {
    let socket: RawSocket
    private var received: [UInt8] = []

    /// Connects to `127.0.0.1:port`, retrying (bounded) while the node is still binding its RESP port.
    init(port: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            do {
                socket = try RawSocket(port: port, timeout: timeout)
                return
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func encode(_ words: [String]) -> [UInt8] {
        var bytes = Array("*\(words.count)\r\n".utf8)
        for word in words { bytes += Array("$\(word.utf8.count)\r\n".utf8) + Array(word.utf8) + [0x0D, 0x0A] }
        return bytes
    }

    func send(_ words: [String]) { socket.write(Self.encode(words)) }

    /// Sends one command and reads its reply; nil if none came within the socket's timeout.
    func call(_ words: String...) -> RESPReply? {
        send(words)
        return read()
    }

    /// The next reply; nil when the peer closed or went silent first.
    func read() -> RESPReply? {
        while true {
            if let (reply, length) = Self.parse(received[...]) {
                received.removeFirst(length)
                return reply
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received += buffer[0..<count]
        }
    }

    /// One reply at the start of `bytes` and its length; nil while incomplete.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (RESPReply, Int)? {
        guard let marker = bytes.first, let lf = bytes.firstIndex(of: 0x0A) else { return nil }
        let line = String(decoding: bytes[(bytes.startIndex + 1)..<(lf - 1)], as: UTF8.self)
        let head = lf - bytes.startIndex + 1
        switch marker {
        case UInt8(ascii: "+"): return (.simple(line), head)
        case UInt8(ascii: "-"): return (.error(line), head)
        case UInt8(ascii: ":"): return (.integer(Int(line) ?? 0), head)
        case UInt8(ascii: "_"): return (.bulk(nil), head)
        case UInt8(ascii: "$"):
            let length = Int(line) ?? -1
            if length < 0 { return (.bulk(nil), head) }
            guard bytes.count >= head + length + 2 else { return nil }
            let start = bytes.startIndex + head
            return (.bulk(Array(bytes[start..<(start + length)])), head + length + 2)
        case UInt8(ascii: "*"), UInt8(ascii: "%"):
            let count = (Int(line) ?? -1) * (marker == UInt8(ascii: "%") ? 2 : 1)
            if count < 0 { return (.array(nil), head) }
            var elements: [RESPReply] = []
            var offset = head
            for _ in 0..<count {
                guard let (element, length) = parse(bytes[(bytes.startIndex + offset)...]) else { return nil }
                elements.append(element)
                offset += length
            }
            return (marker == UInt8(ascii: "%") ? .map(elements) : .array(elements), offset)
        default:
            return (.error("unparsed reply \(line)"), head)
        }
    }
}
