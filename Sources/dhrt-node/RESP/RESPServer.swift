import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The Redis protocol front door (`--resp HOST:PORT`): a TCP server whose connections speak RESP2, or RESP3 after
/// `HELLO 3`, and reach the store through the same `KVService` as HTTP. With the HTTP port's certificate
/// (`--tls-cert`) it speaks TLS only, as `redis-cli --tls` expects.
///
/// Stops accepting on graceful shutdown and closes its connections (a command in flight loses its answer, as an
/// HTTP request cut by the node's stop would).
struct RESPServer: Service {
    let node: Node
    let address: HostPort

    func run() async throws {
        let shared = RESPServerState()
        let commands = RESPCommands(node: node, shared: shared)
        let metrics = RESPMetrics()
        let open = OpenChannels()
        let node = self.node
        let door = node.config.frontDoor
        let limits = RESPLimits(
            maxBulkLength: node.limits.maxValueSize, maxCommandBytes: node.limits.maxBatchSize)
        let ids = ManagedIDs()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let count = shared.connections.wrappingIncrementThenLoad(ordering: .relaxed)
                open.insert(channel)
                channel.closeFuture.whenComplete { _ in
                    shared.connections.wrappingDecrement(ordering: .relaxed)
                    open.remove(channel)
                }
                if let tls = node.config.tls.http {
                    do {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    } catch {
                        return channel.close()
                    }
                }
                guard count <= door.maxHTTPConnections else {
                    node.logger.warning("refusing RESP connection: too many open", metadata: ["open": "\(count - 1)"])
                    var refusal = channel.allocator.buffer(capacity: 40)
                    refusal.writeRESP(.error("ERR max number of clients reached"), version: 2)
                    return channel.writeAndFlush(refusal).flatMap { channel.close() }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let progress = RESPProgress()
                    let session = RESPSession(authenticated: commands.authorization.isOpen, id: ids.next())
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(RESPDecoder(limits: limits, progress: progress)))
                    try channel.pipeline.syncOperations.addHandler(
                        RESPConnection(
                            commands: commands, metrics: metrics, session: session, progress: progress,
                            partialTimeout: TimeAmount(door.bodyTimeout)))
                }
            }
            .bind(host: address.host, port: address.port).get()
        node.logger.info("RESP listening", metadata: ["resp": "\(address)"])
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await server.closeFuture.get()
            } onCancel: {
                server.close(promise: nil)
            }
        } onGracefulShutdown: {
            server.close(promise: nil)
        }
        open.closeAll()
    }
}

/// The server's open connections, closed when it stops.
private final class OpenChannels: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = nil } }

    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

/// Connection ids for `CLIENT ID` and `HELLO`.
private final class ManagedIDs: Sendable {
    private let last = Atomic(0)
    func next() -> Int { last.wrappingAdd(1, ordering: .relaxed).newValue }
}
