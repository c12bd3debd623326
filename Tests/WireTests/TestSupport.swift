import Logging
import NIOCore
import NIOPosix
import Testing

@testable import Wire

struct TestTimeout: Error, CustomStringConvertible {
    var description: String { "test step did not finish in time" }
}

/// Runs `body`, failing with ``TestTimeout`` if it takes longer than `limit`.
func within<T: Sendable>(
    _ limit: Duration = .seconds(10),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TestTimeout()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Polls `condition` every 10 ms until it holds, failing with ``TestTimeout`` after `limit`.
func eventually(
    _ limit: Duration = .seconds(5),
    _ condition: @escaping @Sendable () async -> Bool
) async throws {
    try await within(limit) {
        while !(await condition()) { try await Task.sleep(for: .milliseconds(10)) }
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "dhrt.wire.test")
    logger.logLevel = .critical
    return logger
}()

/// Echoes the request's type and payload after `delay`.
func echo(after delay: @escaping @Sendable () -> Duration = { .zero }) -> WireServer.Handler {
    { request in
        let pause = delay()
        if pause > .zero { try? await Task.sleep(for: pause) }
        return Frame(type: request.type, payload: request.payload)
    }
}

/// Starts a server on a free loopback port, runs `body`, and always shuts the server down.
@discardableResult
func withServer<T: Sendable>(
    port: Int = 0,
    configuration: WireServerConfiguration = .init(drainTimeout: .milliseconds(200)),
    handler: @escaping WireServer.Handler,
    _ body: (WireServer, WireAddress) async throws -> T
) async throws -> T {
    let server = WireServer(
        host: "127.0.0.1", port: port, configuration: configuration, logger: testLogger, handler: handler
    )
    try await server.start()
    let address = WireAddress(host: "127.0.0.1", port: try #require(server.port))
    do {
        let result = try await body(server, address)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Makes a client, runs `body`, and always shuts the client down.
@discardableResult
func withClient<T: Sendable>(
    _ address: WireAddress,
    configuration: WireClientConfiguration = .init(),
    _ body: (WireClient) async throws -> T
) async throws -> T {
    let client = WireClient(address: address, configuration: configuration, logger: testLogger)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Counts handlers running at once and remembers the peak.
actor ConcurrencyGauge {
    private(set) var current = 0
    private(set) var peak = 0

    func enter() {
        self.current += 1
        self.peak = max(self.peak, self.current)
    }

    func leave() { self.current -= 1 }
}

extension ByteBuffer {
    init(integer: Int) {
        self.init()
        self.writeInteger(UInt64(integer))
    }
}
