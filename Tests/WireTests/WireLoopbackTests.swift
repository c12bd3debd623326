import NIOCore
import NIOPosix
import Testing

@testable import Wire

@Suite(.timeLimit(.minutes(1)))
struct WireLoopbackTests {
    @Test func thousandConcurrentRequests_onOneConnection_eachGetTheirOwnReply() async throws {
        let handler = echo(after: { .milliseconds(Int.random(in: 0...20)) })
        try await withServer(handler: handler) { server, address in
            try await withClient(address) { client in
                let mismatches = try await within(.seconds(30)) {
                    try await withThrowingTaskGroup(of: Int.self) { group in
                        for index in 0..<1000 {
                            group.addTask {
                                let reply = try await client.request(
                                    type: UInt8(index % 200), payload: ByteBuffer(integer: index), timeout: .seconds(20)
                                )
                                let echoed = reply.payload.getInteger(at: reply.payload.readerIndex, as: UInt64.self)
                                let matches =
                                    reply.isResponse && echoed == UInt64(index) && reply.type == UInt8(index % 200)
                                return matches ? 0 : 1
                            }
                        }
                        return try await group.reduce(0, +)
                    }
                }
                #expect(mismatches == 0)
                #expect(server.connectionCount == 1)
            }
        }
    }

    @Test func replyFlags_keepTheHandlersErrorBit_andAddTheResponseBit() async throws {
        let handler: WireServer.Handler = { request in
            Frame(type: 9, flags: FrameFlag.error, requestId: 0, payload: ByteBuffer(string: "no such partition"))
        }
        try await withServer(handler: handler) { _, address in
            try await withClient(address) { client in
                let reply = try await client.request(type: 3, payload: ByteBuffer(), timeout: .seconds(5))
                #expect(reply.isResponse && reply.isError)
                #expect(reply.type == 9)
                #expect(reply.payload == ByteBuffer(string: "no such partition"))
                #expect(reply.requestId != 0)
            }
        }
    }

    @Test func slowReply_failsTheRequestWithTimeout_andTheConnectionKeepsServing() async throws {
        let handler: WireServer.Handler = { request in
            if request.type == 1 { try? await Task.sleep(for: .seconds(3)) }
            return Frame(type: request.type, payload: request.payload)
        }
        try await withServer(handler: handler) { server, address in
            try await withClient(address) { client in
                let started = ContinuousClock.now
                await #expect(throws: WireError.timeout) {
                    _ = try await within {
                        try await client.request(type: 1, payload: ByteBuffer(), timeout: .milliseconds(100))
                    }
                }
                #expect(ContinuousClock.now - started < .seconds(2))
                let reply = try await within {
                    try await client.request(type: 2, payload: ByteBuffer(integer: 7), timeout: .seconds(5))
                }
                #expect(reply.payload == ByteBuffer(integer: 7))
                #expect(server.connectionCount == 1)
            }
        }
    }

    @Test func serverStopped_failsInFlightRequestsQuickly_andTheClientReconnectsAfterRestart() async throws {
        let (arrived, arrival) = AsyncStream.makeStream(of: Void.self)
        let handler: WireServer.Handler = { request in
            if request.type == 1 {
                arrival.yield()
                try? await Task.sleep(for: .seconds(5))
            }
            return Frame(type: request.type, payload: request.payload)
        }
        let stopped = WireServerConfiguration(drainTimeout: .zero)
        let address = try await withServer(configuration: stopped, handler: handler) { server, address in
            try await withClient(address) { client in
                _ = try await within { try await client.request(type: 2, payload: ByteBuffer(), timeout: .seconds(5)) }
                let inFlight = Task { try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(20)) }
                // The server is handling it: it is in flight, not merely queued in the client.
                try await within { for await _ in arrived { return } }
                // Quickly means from the shutdown, not from the request (its 20 s timeout must not be what ends it).
                let started = ContinuousClock.now
                await server.shutdown()
                await #expect(throws: WireError.connectionClosed) { _ = try await inFlight.value }
                #expect(ContinuousClock.now - started < .seconds(3))

                // Nobody listens now: the connect is refused at once, not after the request's timeout.
                let refusedAt = ContinuousClock.now
                await #expect(throws: WireError.unreachable) {
                    _ = try await within {
                        try await client.request(type: 2, payload: ByteBuffer(), timeout: .seconds(20))
                    }
                }
                #expect(ContinuousClock.now - refusedAt < .seconds(2))

                try await withServer(port: address.port, handler: handler) { _, _ in
                    let reply = try await within { try await Self.retryWhileUnreachable(client) }
                    #expect(reply.isResponse)
                }
                return address
            }
        }
        #expect(address.port > 0)
    }

    private static func retryWhileUnreachable(_ client: WireClient) async throws -> Frame {
        while true {
            do {
                return try await client.request(type: 2, payload: ByteBuffer(), timeout: .seconds(5))
            } catch WireError.unreachable, WireError.connectionClosed {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test(arguments: [
        Array("GET / HTTP/1.1\r\nHost: dhrt\r\n\r\n".utf8),
        [0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        [0x00, 0x00, 0x00, 0x0B, 0x07, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 1],
    ])
    func peerSendingGarbage_isDisconnected_whileOtherConnectionsKeepWorking(garbage: [UInt8]) async throws {
        try await withServer(handler: echo()) { server, address in
            try await withClient(address) { client in
                _ = try await within { try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(5)) }
                let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: address.host, port: address.port).get()
                try await raw.writeAndFlush(ByteBuffer(bytes: garbage))
                try await within { try await raw.closeFuture.get() }
                try await eventually { server.connectionCount == 1 }
                let reply = try await within {
                    try await client.request(type: 2, payload: ByteBuffer(integer: 5), timeout: .seconds(5))
                }
                #expect(reply.payload == ByteBuffer(integer: 5))
            }
        }
    }

    @Test func requestsBeyondTheServersInFlightLimit_waitAndStillComplete() async throws {
        let gauge = ConcurrencyGauge()
        let handler: WireServer.Handler = { request in
            await gauge.enter()
            try? await Task.sleep(for: .milliseconds(5))
            await gauge.leave()
            return Frame(type: request.type, payload: request.payload)
        }
        let configuration = WireServerConfiguration(maxInFlightPerConnection: 4, drainTimeout: .milliseconds(200))
        try await withServer(configuration: configuration, handler: handler) { _, address in
            try await withClient(address) { client in
                try await within(.seconds(30)) {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<200 {
                            group.addTask {
                                let reply = try await client.request(
                                    type: 1, payload: ByteBuffer(integer: index), timeout: .seconds(20))
                                #expect(reply.payload == ByteBuffer(integer: index))
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            }
        }
        #expect(await gauge.peak <= 4)
        #expect(await gauge.peak >= 2)
    }

    @Test func largePayloads_beyondTheSocketBuffers_allArriveIntact() async throws {
        // 64 x 1 MiB both ways: both sides run into unwritable channels and must wait, not drop or reorder bytes.
        try await withServer(handler: echo()) { _, address in
            try await withClient(address) { client in
                let intact = try await within(.seconds(30)) {
                    try await withThrowingTaskGroup(of: Bool.self) { group in
                        for index in 0..<64 {
                            group.addTask {
                                let payload = ByteBuffer(repeating: UInt8(index), count: 1 << 20)
                                let reply = try await client.request(type: 1, payload: payload, timeout: .seconds(25))
                                return reply.payload == payload
                            }
                        }
                        return try await group.reduce(true) { $0 && $1 }
                    }
                }
                #expect(intact)
            }
        }
    }

    @Test func clientQueueOverItsBound_failsWithOverloaded() async throws {
        try await withServer(handler: echo(after: { .seconds(1) })) { _, address in
            let configuration = WireClientConfiguration(maxInFlightPerConnection: 1, maxQueuedPerConnection: 2)
            try await withClient(address, configuration: configuration) { client in
                _ = try await client.request(type: 0, payload: ByteBuffer(), timeout: .seconds(5))  // connects
                let outcomes = try await within {
                    await withTaskGroup(of: Bool.self) { group in
                        for _ in 0..<10 {
                            group.addTask {
                                do {
                                    _ = try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(10))
                                    return true
                                } catch {
                                    #expect(error as? WireError == .overloaded)
                                    return false
                                }
                            }
                        }
                        return await group.reduce(into: [Bool]()) { $0.append($1) }
                    }
                }
                #expect(outcomes.filter { $0 }.count == 3)
            }
        }
    }

    @Test func gracefulShutdown_answersRequestsAlreadyReceived() async throws {
        let gauge = ConcurrencyGauge()
        let server = WireServer(
            host: "127.0.0.1", port: 0, configuration: .init(drainTimeout: .seconds(5)), logger: testLogger,
            handler: { request in
                await gauge.enter()
                if request.type == 1 { try? await Task.sleep(for: .milliseconds(300)) }
                return Frame(type: request.type, payload: request.payload)
            }
        )
        try await server.start()
        let address = WireAddress(host: "127.0.0.1", port: try #require(server.port))
        try await withClient(address) { client in
            _ = try await within { try await client.request(type: 0, payload: ByteBuffer(), timeout: .seconds(5)) }
            let reply = Task {
                try await client.request(type: 1, payload: ByteBuffer(integer: 11), timeout: .seconds(5))
            }
            try await eventually { await gauge.current >= 2 }  // the slow request is being handled
            try await within { await server.shutdown() }
            #expect(try await reply.value.payload == ByteBuffer(integer: 11))
        }
    }

    @Test func run_returnsWhenItsTaskIsCancelled() async throws {
        let server = WireServer(host: "127.0.0.1", port: 0, logger: testLogger, handler: echo())
        let running = Task { try await server.run() }
        try await Task.sleep(for: .milliseconds(100))
        running.cancel()
        try await within { try await running.value }
        await #expect(throws: WireError.shutdown) { try await server.start() }
    }

    @Test func oversizedPayload_isRefusedBeforeSending() async throws {
        let address = WireAddress(host: "127.0.0.1", port: 1)
        try await withClient(address, configuration: .init(maxPayloadSize: 16)) { client in
            await #expect(throws: WireError.payloadTooLarge(size: 17, limit: 16)) {
                _ = try await client.request(
                    type: 1, payload: ByteBuffer(repeating: 0, count: 17), timeout: .seconds(1))
            }
        }
    }
}
