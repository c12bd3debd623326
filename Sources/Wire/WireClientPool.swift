public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix

/// The node's clients to its peers, one ``WireClient`` (one persistent connection) per `host:port`.
public final class WireClientPool: Sendable {
    private let configuration: WireClientConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger

    private struct Shared {
        var clients: [WireAddress: WireClient] = [:]
        var isShutDown = false
    }

    private let shared = NIOLockedValueBox(Shared())

    /// Creates an empty pool; clients are made on first use.
    public init(
        configuration: WireClientConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    /// The client for `address` (`host:port`), created if needed.
    /// - Throws: ``WireError/invalidAddress(_:)`` or ``WireError/shutdown``.
    public func client(for address: String) throws(WireError) -> WireClient {
        let parsed = try WireAddress(parsing: address)
        let client = self.shared.withLockedValue { shared -> WireClient? in
            guard !shared.isShutDown else { return nil }
            if let client = shared.clients[parsed] { return client }
            let client = WireClient(
                address: parsed, configuration: self.configuration, group: self.group, logger: self.logger
            )
            shared.clients[parsed] = client
            return client
        }
        guard let client else { throw .shutdown }
        return client
    }

    /// Sends a request to the peer at `address` and waits for its reply; see ``WireClient/request(type:payload:timeout:)``.
    public func request(to address: String, type: UInt8, payload: ByteBuffer, timeout: Duration) async throws -> Frame {
        try await self.client(for: address).request(type: type, payload: payload, timeout: timeout)
    }

    /// Shuts every client down; later requests fail with ``WireError/shutdown``.
    public func shutdown() async {
        let clients = self.shared.withLockedValue { shared in
            shared.isShutDown = true
            defer { shared.clients.removeAll() }
            return Array(shared.clients.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.shutdown() } }
        }
    }
}
