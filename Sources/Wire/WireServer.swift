public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// Accepts inter-node connections and answers their request frames with a handler.
///
/// Usage: create it, optionally ``start()`` to bind early and learn ``port``, then ``run()`` it (directly
/// or in a `ServiceGroup`). A graceful shutdown, task cancellation or ``shutdown()`` stops accepting,
/// lets every connection finish the requests it has received (up to ``WireServerConfiguration/drainTimeout``)
/// and then closes it. A connection that sends bytes which do not decode is logged and closed;
/// other connections are unaffected.
public final class WireServer: Service, Sendable {
    /// Answers one request. The returned frame supplies type, payload and optionally ``FrameFlag/error``;
    /// the server sets ``FrameFlag/response`` and the request's id.
    public typealias Handler = @Sendable (Frame) async -> Frame
    /// Answers one request on the connection's event loop (given) without a task: it MUST call `reply` exactly once,
    /// at once or later, from any thread. Work that blocks belongs elsewhere, with `reply` called when done.
    public typealias Responder = @Sendable (Frame, any EventLoop, _ reply: @escaping @Sendable (Frame) -> Void) -> Void

    /// The host the server binds.
    public let host: String
    private let requestedPort: Int
    private let configuration: WireServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let serve: ServerConnectionHandler.Serve

    private enum State {
        case idle
        case binding
        case bound(any Channel)
        case shuttingDown
        case finished
    }

    /// Lifecycle and open connections share one lock so that no connection slips past a drain.
    private struct Shared {
        var state = State.idle
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    private let shared = NIOLockedValueBox(Shared())
    private let boundAddress = NIOLockedValueBox<SocketAddress?>(nil)
    private let finished: EventLoopPromise<Void>

    /// Creates a server that will listen on `host:port`; port 0 picks a free port (see ``port``).
    public convenience init(
        host: String,
        port: Int,
        configuration: WireServerConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        handler: @escaping Handler
    ) {
        self.init(
            host: host, port: port, configuration: configuration, group: group, logger: logger,
            serve: .task(handler))
    }

    /// Creates a server whose requests are answered on the event loop by `responder` (see ``Responder``).
    public convenience init(
        host: String,
        port: Int,
        configuration: WireServerConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        responder: @escaping Responder
    ) {
        self.init(
            host: host, port: port, configuration: configuration, group: group, logger: logger,
            serve: .respond(responder))
    }

    private init(
        host: String, port: Int, configuration: WireServerConfiguration, group: any EventLoopGroup, logger: Logger,
        serve: ServerConnectionHandler.Serve
    ) {
        self.host = host
        self.requestedPort = port
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.serve = serve
        self.finished = group.any().makePromise(of: Void.self)
    }

    /// The bound address, once ``start()`` has returned.
    public var localAddress: SocketAddress? { self.boundAddress.withLockedValue { $0 } }

    /// The bound port, once ``start()`` has returned.
    public var port: Int? { self.localAddress?.port }

    deinit {
        // A server dropped without ever running must not leak its promise (NIO traps on that).
        self.finished.succeed()
    }

    /// Open inbound connections.
    var connectionCount: Int { self.shared.withLockedValue { $0.connections.count } }

    /// Binds the listening socket. Calling it again after success does nothing; a call made while another
    /// is still binding returns at once (``port`` may then still be nil).
    ///
    /// - Throws: the bind error, or ``WireError/shutdown`` after a shutdown.
    public func start() async throws {
        let mayBind = self.shared.withLockedValue { shared -> Bool? in
            switch shared.state {
            case .idle:
                shared.state = .binding
                return true
            case .binding, .bound: return false
            case .shuttingDown, .finished: return nil
            }
        }
        guard let mayBind else { throw WireError.shutdown }
        guard mayBind else { return }
        let channel: any Channel
        do {
            channel = try await self.bootstrap().bind(host: self.host, port: self.requestedPort).get()
        } catch {
            self.shared.withLockedValue { shared in
                if case .binding = shared.state { shared.state = .idle }
            }
            throw error
        }
        self.boundAddress.withLockedValue { $0 = channel.localAddress }
        let shutDownMeanwhile = self.shared.withLockedValue { shared -> Bool in
            guard case .binding = shared.state else { return true }
            shared.state = .bound(channel)
            return false
        }
        if shutDownMeanwhile {
            try? await channel.close()
            throw WireError.shutdown
        }
        self.logger.info(
            "inter-node server listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    }

    /// Serves until a graceful shutdown, cancellation or ``shutdown()``; returns once connections are drained.
    public func run() async throws {
        try await self.start()
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await self.finished.futureResult.get()
            } onCancel: {
                self.beginShutdown()
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
    }

    /// Stops accepting, drains and closes every connection; returns when done. Safe to call more than once.
    public func shutdown() async {
        self.beginShutdown()
        try? await self.finished.futureResult.get()
    }

    private func beginShutdown() {
        let listener = self.shared.withLockedValue { shared -> (any Channel)?? in
            switch shared.state {
            case .idle, .binding:
                shared.state = .finished
                return .some(nil)
            case .bound(let channel):
                shared.state = .shuttingDown
                return .some(channel)
            case .shuttingDown, .finished:
                return nil
            }
        }
        guard let listener else { return }
        guard let listener else {
            self.finished.succeed()
            return
        }
        listener.close(promise: nil)
        listener.closeFuture.whenComplete { _ in self.drainConnections() }
    }

    private func drainConnections() {
        // Registration stopped when the state left `.bound`, so this list is final.
        let open = Array(self.shared.withLockedValue { $0.connections.values })
        self.logger.info("inter-node server draining", metadata: ["connections": "\(open.count)"])
        for channel in open {
            channel.triggerUserOutboundEvent(DrainConnectionEvent(), promise: nil)
        }
        let eventLoop = self.finished.futureResult.eventLoop
        let forceClose = eventLoop.scheduleTask(in: TimeAmount(self.configuration.drainTimeout)) {
            for channel in open { channel.close(promise: nil) }
        }
        EventLoopFuture.andAllComplete(open.map { $0.closeFuture }, on: eventLoop).whenComplete { _ in
            forceClose.cancel()
            self.shared.withLockedValue { $0.state = .finished }
            self.logger.info("inter-node server stopped")
            self.finished.succeed()
        }
    }

    private func bootstrap() -> ServerBootstrap {
        let configuration = self.configuration
        let serve = self.serve
        let logger = self.logger
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: Int32(clamping: configuration.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard self.register(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandlers(
                            NIOSSLServerHandler(context: tls), Self.tlsWatch(channel: channel, configuration, logger))
                    }
                    if let secret = configuration.secret {
                        try channel.pipeline.syncOperations.addHandler(
                            Self.handshake(
                                secret: secret, channel: channel, configuration: configuration, logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxPayloadSize: configuration.maxPayloadSize)),
                        MessageToByteHandler(FrameEncoder(maxPayloadSize: configuration.maxPayloadSize)),
                        ServerConnectionHandler(
                            serve: serve,
                            maxInFlight: configuration.maxInFlightPerConnection,
                            maxPayloadSize: configuration.maxPayloadSize,
                            firstFrameTimeout: configuration.handshakeTimeout,
                            logger: logger
                        )
                    )
                }
            }
    }

    private static func handshake(
        secret: [UInt8], channel: any Channel, configuration: WireServerConfiguration, logger: Logger
    ) -> WireHandshakeHandler {
        let established = channel.eventLoop.makePromise(of: Void.self)
        let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
        return WireHandshakeHandler(
            handshake: WireHandshake(role: .server, secret: secret, nonce: WireHandshake.randomNonce()),
            timeout: configuration.handshakeTimeout, established: established,
            onRefuse: { reason in
                logger.warning("refused inter-node connection", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
            })
    }

    /// Logs a peer that fails the TLS handshake (e.g. no certificate, or one not from the cluster's CA).
    private static func tlsWatch(channel: any Channel, _ configuration: WireServerConfiguration, _ logger: Logger)
        -> TLSHandshakeWatch
    {
        let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
        return TLSHandshakeWatch(
            timeout: configuration.handshakeTimeout, done: channel.eventLoop.makePromise(of: Void.self),
            onFailure: { reason in
                logger.warning("refused inter-node connection", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
            })
    }

    /// Tracks a new connection for draining; refuses it once shutdown has begun or when too many are open.
    private func register(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let limit = self.configuration.maxConnections
        let accepted = self.shared.withLockedValue { shared -> Bool? in
            guard case .bound = shared.state else { return false }
            guard shared.connections.count < limit else { return nil }
            shared.connections[key] = channel
            return true
        }
        guard let accepted else {
            self.logger.warning(
                "refused inter-node connection: too many open",
                metadata: ["peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")", "limit": "\(limit)"])
            return false
        }
        guard accepted else { return false }
        channel.closeFuture.whenComplete { _ in
            _ = self.shared.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
        return true
    }
}
