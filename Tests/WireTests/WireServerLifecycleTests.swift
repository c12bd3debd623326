import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import Wire

@Suite(.timeLimit(.minutes(1)))
struct WireServerLifecycleTests {
    @Test func serviceGroupGracefulShutdown_stopsTheServer() async throws {
        let server = WireServer(host: "127.0.0.1", port: 0, logger: testLogger, handler: echo())
        try await server.start()
        let address = WireAddress(host: "127.0.0.1", port: try #require(server.port))
        let group = ServiceGroup(services: [server], logger: testLogger)
        let running = Task { try await group.run() }
        try await withClient(address) { client in
            let reply = try await within {
                try await client.request(type: 1, payload: ByteBuffer(integer: 3), timeout: .seconds(5))
            }
            #expect(reply.payload == ByteBuffer(integer: 3))
            await group.triggerGracefulShutdown()
            try await within { try await running.value }
            await #expect(throws: WireError.self) {
                _ = try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(5))
            }
        }
    }

    @Test func connectionClosedByItsPeer_cancelsItsRunningHandlers() async throws {
        let gauge = ConcurrencyGauge()
        let handler: WireServer.Handler = { request in
            await gauge.enter()
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                await gauge.leave()  // cancelled
            }
            return Frame(type: request.type, payload: request.payload)
        }
        try await withServer(handler: handler) { _, address in
            let client = WireClient(address: address, logger: testLogger)
            let pending = Task { try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(30)) }
            try await eventually { await gauge.peak == 1 }
            await client.shutdown()
            try await eventually { await gauge.current == 0 }
            _ = await pending.result
        }
    }

    @Test func serverNeverStarted_canBeDropped() {
        _ = WireServer(host: "127.0.0.1", port: 0, logger: testLogger, handler: echo())
    }

    @Test func startAfterShutdown_isRefused() async throws {
        let server = WireServer(host: "127.0.0.1", port: 0, logger: testLogger, handler: echo())
        await server.shutdown()
        await #expect(throws: WireError.shutdown) { try await server.start() }
        #expect(server.port == nil)
    }
}
