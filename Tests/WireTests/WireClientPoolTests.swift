import NIOCore
import Testing

@testable import Wire

@Suite(.timeLimit(.minutes(1)))
struct WireClientPoolTests {
    @Test(arguments: ["127.0.0.1:9701", "localhost:1", "[::1]:80"])
    func address_parsesHostAndPort(text: String) throws {
        let address = try WireAddress(parsing: text)
        #expect(address.description == text)
    }

    @Test(arguments: ["127.0.0.1", ":9701", "host:0", "host:70000", "host:port", ""])
    func malformedAddress_isRejected(text: String) {
        #expect(throws: WireError.invalidAddress(text)) { try WireAddress(parsing: text) }
    }

    @Test func pool_reusesOneClientPerAddress() async throws {
        let pool = WireClientPool(logger: testLogger)
        let first = try pool.client(for: "127.0.0.1:9701")
        #expect(first === (try pool.client(for: "127.0.0.1:9701")))
        #expect(first !== (try pool.client(for: "127.0.0.1:9702")))
        await pool.shutdown()
    }

    @Test func pool_routesRequestsToTheirPeer_andRefusesAfterShutdown() async throws {
        let answerA: WireServer.Handler = { _ in Frame(type: 1, payload: ByteBuffer(string: "a")) }
        let answerB: WireServer.Handler = { _ in Frame(type: 1, payload: ByteBuffer(string: "b")) }
        try await withServer(handler: answerA) { _, a in
            try await withServer(handler: answerB) { _, b in
                let pool = WireClientPool(logger: testLogger)
                let fromA = try await within {
                    try await pool.request(to: "\(a)", type: 1, payload: ByteBuffer(), timeout: .seconds(5))
                }
                let fromB = try await within {
                    try await pool.request(to: "\(b)", type: 1, payload: ByteBuffer(), timeout: .seconds(5))
                }
                #expect(fromA.payload == ByteBuffer(string: "a"))
                #expect(fromB.payload == ByteBuffer(string: "b"))
                await pool.shutdown()
                await #expect(throws: WireError.shutdown) {
                    _ = try await pool.request(to: "\(a)", type: 1, payload: ByteBuffer(), timeout: .seconds(5))
                }
            }
        }
    }

    @Test func clientShutdown_failsRequestsInFlight() async throws {
        let (arrived, arrival) = AsyncStream.makeStream(of: Void.self)
        let handler: WireServer.Handler = { request in
            arrival.yield()
            try? await Task.sleep(for: .seconds(2))
            return Frame(type: request.type, payload: request.payload)
        }
        try await withServer(handler: handler) { _, address in
            let client = WireClient(address: address, logger: testLogger)
            let reply = Task { try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(10)) }
            // The request reached the server, so it is outstanding on the connection when the client shuts down.
            try await within { for await _ in arrived { return } }
            try await within { await client.shutdown() }
            await #expect(throws: WireError.shutdown) { _ = try await reply.value }
        }
    }
}
