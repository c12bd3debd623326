public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL

/// One persistent connection to one peer, shared by every request to it.
///
/// The connection is made on first use and again after it closes. Many requests are in flight on it
/// at once; replies are matched to requests by id, in whatever order they arrive. When a connect
/// fails, requests fail fast with ``WireError/unreachable`` for a short, growing pause
/// (``WireClientConfiguration/reconnectBackoff``) so that a dead peer is not hammered.
public final class WireClient: Sendable {
    /// The peer.
    public let address: WireAddress
    private let configuration: WireClientConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger

    private struct Connection: Sendable {
        var channel: any Channel
        var handler: NIOLoopBound<ClientConnectionHandler>
    }

    private enum State {
        case idle(failures: Int, retryAt: NIODeadline?)
        case connecting(EventLoopFuture<Connection>, failures: Int)
        case connected(Connection)
        case shutDown
    }

    private struct Shared {
        var state = State.idle(failures: 0, retryAt: nil)
        var nextRequestId: UInt64 = 1
    }

    private let shared = NIOLockedValueBox(Shared())

    /// Creates a client for `address`; nothing connects until the first request.
    public init(
        address: WireAddress,
        configuration: WireClientConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.address = address
        self.configuration = configuration
        self.group = group
        var logger = logger
        logger[metadataKey: "peer"] = "\(address)"
        self.logger = logger
    }

    /// Sends a request and waits for its reply.
    ///
    /// The reply may carry ``FrameFlag/error`` when the peer's handler failed; that is a reply, not a throw.
    /// - Throws: ``WireError/timeout`` when no reply arrives within `timeout` (connecting included),
    ///   ``WireError/connectionClosed`` when the connection drops first, ``WireError/unreachable`` when no
    ///   connection can be made, ``WireError/overloaded``, ``WireError/payloadTooLarge(size:limit:)``,
    ///   ``WireError/shutdown``, or `CancellationError` when the calling task is cancelled.
    public func request(type: UInt8, payload: ByteBuffer, timeout: Duration) async throws -> Frame {
        guard payload.readableBytes <= self.configuration.maxPayloadSize else {
            throw WireError.payloadTooLarge(size: payload.readableBytes, limit: self.configuration.maxPayloadSize)
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let connection = try await self.connection(deadline: deadline)
        let requestId = self.shared.withLockedValue { shared in
            defer { shared.nextRequestId &+= 1 }
            return shared.nextRequestId
        }
        let request = Frame(type: type, flags: 0, requestId: requestId, payload: payload)
        let eventLoop = connection.channel.eventLoop
        let reply = eventLoop.makePromise(of: Frame.self)
        let handler = connection.handler
        return try await withTaskCancellationHandler {
            // Cancelled already: the cancel hop could overtake the submit hop, so do not submit at all.
            try Task.checkCancellation()
            eventLoop.execute { handler.value.submit(request, promise: reply, deadline: deadline) }
            return try await reply.futureResult.get()
        } onCancel: {
            eventLoop.execute { handler.value.cancel(requestId) }
        }
    }

    /// Sends a request without suspending: the reply (or a ``WireError``) completes the returned future, on the
    /// connection's event loop. The same errors as ``request(type:payload:timeout:)``, cancellation aside.
    /// Called on the connection's event loop, the request is written at once, without a hop.
    public func submit(type: UInt8, payload: ByteBuffer, deadline: NIODeadline) -> EventLoopFuture<Frame> {
        guard payload.readableBytes <= self.configuration.maxPayloadSize else {
            return self.group.any().makeFailedFuture(
                WireError.payloadTooLarge(size: payload.readableBytes, limit: self.configuration.maxPayloadSize))
        }
        let (step, requestId) = self.shared.withLockedValue { shared -> (Step, UInt64) in
            defer { shared.nextRequestId &+= 1 }
            return (self.nextStep(&shared), shared.nextRequestId)
        }
        let request = Frame(type: type, flags: 0, requestId: requestId, payload: payload)
        switch step {
        case .use(let connection):
            return Self.submit(request, on: connection, deadline: deadline)
        case .fail(let error):
            return self.group.any().makeFailedFuture(error)
        case .wait(let pending):
            return Self.bounded(pending, until: deadline).flatMap { Self.submit(request, on: $0, deadline: deadline) }
        case .connect(let promise):
            self.connect(completing: promise)
            return Self.bounded(promise.futureResult, until: deadline).flatMap {
                Self.submit(request, on: $0, deadline: deadline)
            }
        }
    }

    private static func submit(_ request: Frame, on connection: Connection, deadline: NIODeadline)
        -> EventLoopFuture<Frame>
    {
        let eventLoop = connection.channel.eventLoop
        let reply = eventLoop.makePromise(of: Frame.self)
        let handler = connection.handler
        if eventLoop.inEventLoop {
            handler.value.submit(request, promise: reply, deadline: deadline)
        } else {
            eventLoop.execute { handler.value.submit(request, promise: reply, deadline: deadline) }
        }
        return reply.futureResult
    }

    /// Fails outstanding requests with ``WireError/shutdown``, closes the connection and refuses new requests.
    public func shutdown() async {
        let previous = self.shared.withLockedValue { shared in
            defer { shared.state = .shutDown }
            return shared.state
        }
        let channel: (any Channel)?
        switch previous {
        case .connected(let connection):
            connection.channel.eventLoop.execute { connection.handler.value.shutDown() }
            channel = connection.channel
        case .connecting(let future, _):
            channel = try? await future.get().channel
            channel?.close(promise: nil)
        case .idle, .shutDown:
            channel = nil
        }
        try? await channel?.closeFuture.get()
    }

    private enum Step {
        case use(Connection)
        case wait(EventLoopFuture<Connection>)
        case connect(EventLoopPromise<Connection>)
        case fail(WireError)
    }

    /// The current connection, or one being made, honouring the backoff after failures.
    private func connection(deadline: NIODeadline) async throws -> Connection {
        let step = self.shared.withLockedValue { self.nextStep(&$0) }
        let future: EventLoopFuture<Connection>
        switch step {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let pending):
            future = pending
        case .connect(let promise):
            self.connect(completing: promise)
            future = promise.futureResult
        }
        return try await Self.wait(for: future, until: deadline)
    }

    /// What a request does next, under the lock: use, wait for or start a connection, or fail fast.
    private func nextStep(_ shared: inout Shared) -> Step {
        switch shared.state {
        case .connected(let connection) where connection.channel.isActive:
            return .use(connection)
        case .connected:
            // Closed, and its close callback has not run yet: reconnect now.
            let promise = self.group.any().makePromise(of: Connection.self)
            shared.state = .connecting(promise.futureResult, failures: 0)
            return .connect(promise)
        case .connecting(let future, _):
            return .wait(future)
        case .idle(_, let retryAt?) where retryAt > .now():
            return .fail(.unreachable)
        case .idle(let failures, _):
            let promise = self.group.any().makePromise(of: Connection.self)
            shared.state = .connecting(promise.futureResult, failures: failures)
            return .connect(promise)
        case .shutDown:
            return .fail(.shutdown)
        }
    }

    /// Waits for a shared connect without letting it outlast this request's deadline.
    private static func wait(
        for future: EventLoopFuture<Connection>,
        until deadline: NIODeadline
    ) async throws -> Connection {
        try await bounded(future, until: deadline).get()
    }

    private static func bounded(
        _ future: EventLoopFuture<Connection>, until deadline: NIODeadline
    ) -> EventLoopFuture<Connection> {
        let eventLoop = future.eventLoop
        let bounded = eventLoop.makePromise(of: Connection.self)
        let timeout = eventLoop.scheduleTask(deadline: deadline) { bounded.fail(WireError.timeout) }
        future.whenComplete { result in
            timeout.cancel()
            bounded.completeWith(result)
        }
        return bounded.futureResult
    }

    private func connect(completing promise: EventLoopPromise<Connection>) {
        let configuration = self.configuration
        let logger = self.logger
        let bootstrap = ClientBootstrap(group: promise.futureResult.eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        // Peers are dialled by address and verified against the cluster CA, not by name.
                        try channel.pipeline.syncOperations.addHandlers(
                            try NIOSSLClientHandler(context: tls, serverHostname: nil),
                            TLSHandshakeWatch(
                                timeout: configuration.connectTimeout,
                                done: channel.eventLoop.makePromise(of: Void.self), onFailure: { _ in }))
                    }
                    if let secret = configuration.secret {
                        let address = self.address
                        try channel.pipeline.syncOperations.addHandler(
                            WireHandshakeHandler(
                                handshake: WireHandshake(
                                    role: .client, secret: secret, nonce: WireHandshake.randomNonce()),
                                timeout: configuration.connectTimeout,
                                established: channel.eventLoop.makePromise(of: Void.self),
                                onRefuse: { reason in
                                    logger.warning(
                                        "inter-node handshake refused",
                                        metadata: ["peer": "\(address)", "reason": "\(reason)"])
                                }))
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxPayloadSize: configuration.maxPayloadSize)),
                        MessageToByteHandler(FrameEncoder(maxPayloadSize: configuration.maxPayloadSize)),
                        ClientConnectionHandler(
                            maxInFlight: configuration.maxInFlightPerConnection,
                            maxQueued: configuration.maxQueuedPerConnection,
                            logger: logger
                        )
                    )
                }
            }
        bootstrap.connect(host: self.address.host, port: self.address.port).flatMap { channel in
            // With TLS, the connection is usable once its handshake is done; with a secret, once the server
            // has proved it too.
            let tls = try? channel.pipeline.syncOperations.handler(type: TLSHandshakeWatch.self)
            let handshake = try? channel.pipeline.syncOperations.handler(type: WireHandshakeHandler.self)
            let secured = tls?.future ?? channel.eventLoop.makeSucceededVoidFuture()
            let ready = secured.flatMap { handshake?.establishedFuture ?? channel.eventLoop.makeSucceededVoidFuture() }
            return ready.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }.flatMapThrowing {
                let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
                return Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
        }.whenComplete { result in
            switch result {
            case .success(let connection):
                self.connected(connection, completing: promise)
            case .failure(let error):
                self.connectFailed(error, completing: promise)
            }
        }
    }

    private func connected(_ connection: Connection, completing promise: EventLoopPromise<Connection>) {
        let stillWanted = self.shared.withLockedValue { shared -> Bool in
            guard case .connecting = shared.state else { return false }
            shared.state = .connected(connection)
            return true
        }
        guard stillWanted else {
            connection.channel.close(promise: nil)
            promise.fail(WireError.shutdown)
            return
        }
        self.logger.debug("inter-node connection established")
        let channel = connection.channel
        channel.closeFuture.whenComplete { _ in self.connectionClosed(channel) }
        promise.succeed(connection)
    }

    private func connectFailed(_ error: any Error, completing promise: EventLoopPromise<Connection>) {
        let failures = self.shared.withLockedValue { shared -> Int? in
            guard case .connecting(_, let previous) = shared.state else { return nil }
            let failures = previous + 1
            let pause = TimeAmount(self.configuration.backoff(afterFailures: failures))
            shared.state = .idle(failures: failures, retryAt: .now() + pause)
            return failures
        }
        if let failures {
            let level: Logger.Level = failures == 1 ? .notice : .debug
            self.logger.log(
                level: level, "cannot connect to peer", metadata: ["error": "\(error)", "failures": "\(failures)"])
        }
        promise.fail(failures == nil ? WireError.shutdown : WireError.unreachable)
    }

    private func connectionClosed(_ channel: any Channel) {
        let wasCurrent = self.shared.withLockedValue { shared -> Bool in
            guard case .connected(let connection) = shared.state, connection.channel === channel else { return false }
            shared.state = .idle(failures: 0, retryAt: nil)
            return true
        }
        if wasCurrent { self.logger.notice("inter-node connection closed") }
    }
}
