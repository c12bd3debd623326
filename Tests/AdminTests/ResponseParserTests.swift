import NIOCore
import Testing

@testable import dhrt_admin

@Suite struct ResponseParserTests {
    private func parseAll(_ chunks: [String]) throws -> [ResponseParser.Response] {
        var parser = ResponseParser()
        var buffer = ByteBuffer()
        var responses: [ResponseParser.Response] = []
        for chunk in chunks {
            buffer.writeString(chunk)
            while let response = try parser.next(&buffer) { responses.append(response) }
        }
        #expect(buffer.readableBytes == 0)
        return responses
    }

    @Test func contentLength_bodyIsSkipped() throws {
        let responses = try parseAll(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"])
        #expect(responses == [.init(status: 200, closes: false)])
    }

    @Test func responses_splitAnywhere_andPipelined() throws {
        let text = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\n\r\nabc"
            + "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        for cut in stride(from: 1, to: text.utf8.count, by: 7) {
            let bytes = Array(text.utf8)
            let chunks = [
                String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self),
            ]
            #expect(try parseAll(chunks) == [.init(status: 503, closes: false), .init(status: 204, closes: true)])
        }
    }

    @Test func contextHeader_isKept() throws {
        let responses = try parseAll(["HTTP/1.1 200 OK\r\nx-dhrt-context: AgECbjEB \r\nContent-Length: 1\r\n\r\nv"])
        #expect(responses == [.init(status: 200, closes: false, context: Array("AgECbjEB".utf8))])
    }

    @Test func chunkedBody_isSkipped() throws {
        let responses = try parseAll(["HTTP/1.1 300 Multiple Choices\r\nTransfer-Encoding: chunked\r\n\r\n",
            "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"])
        #expect(responses == [.init(status: 300, closes: false)])
    }

    @Test func garbage_isAnError() {
        var parser = ResponseParser()
        var buffer = ByteBuffer(string: "SSH-2.0-OpenSSH\r\n\r\n")
        #expect(throws: ResponseParser.ParseError.self) { try parser.next(&buffer) }
    }

    @Test func decimalKeys_writeLikeString() {
        for value: UInt64 in [0, 7, 10, 1_234_567_890, .max] {
            var buffer = ByteBuffer()
            buffer.writeDecimal(value)
            #expect(buffer.readString(length: buffer.readableBytes) == String(value))
        }
    }
}
