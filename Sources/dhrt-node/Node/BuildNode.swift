import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Storage
import Wire

/// Composes a node from its configuration and runs it until SIGINT or SIGTERM.
///
/// Services stop in reverse order: HTTP first (in-flight requests finish), then membership, the
/// inter-node server, background work, hint replay (closing the hints), and storage last.
func runNode(_ config: NodeConfig) async throws {
    let logger = bootstrapLogging(config)
    let metrics = NodeMetrics.bootstrap()
    let limits = Limits()
    var storageLogger = logger
    storageLogger[metadataKey: "component"] = "storage"
    let storage = try await StorageEngine.open(storageOptions(config, limits: limits), logger: storageLogger)
    let identity = try ActorIdentity.start(name: config.name, directory: config.memory ? nil : config.dataDirectory)
    let local = MemberInfo(
        name: config.name, clusterAddress: config.cluster.description, httpAddress: config.http.description)
    let door = config.frontDoor
    let tls = config.tls
    let pool = WireClientPool(
        configuration: WireClientConfiguration(secret: door.clusterSecret, tls: tls.clusterClient), logger: logger)
    let cluster = try ClusterState(
        local: local, partitions: config.partitions, replicas: config.replicas, pool: pool,
        ringPath: config.memory ? nil : config.dataDirectory + "/RING", logger: logger)
    var hintLogger = logger
    hintLogger[metadataKey: "component"] = "hints"
    let options = storageOptions(config, limits: limits)
    let hints = try await HintStore.open(
        directory: config.memory ? nil : config.dataDirectory + "/@hints", partitions: config.partitions,
        sync: config.sync, maxKeySize: options.maxKeySize, maxValueSize: options.maxValueSize, limits: config.hints,
        logger: hintLogger)
    let background = BackgroundTasks()
    let node = Node(
        config: config, logger: logger, storage: storage, cluster: cluster, peers: Peers(pool: pool),
        background: background, metrics: metrics, limits: limits, hints: hints, actor: identity.actor)

    let interNode = InterNodeHandler(node: node)
    let wireServer = WireServer(
        host: config.cluster.host, port: config.cluster.port,
        configuration: WireServerConfiguration(
            maxConnections: door.maxClusterConnections, handshakeTimeout: door.handshakeTimeout,
            secret: door.clusterSecret, tls: tls.clusterServer),
        logger: logger,
        responder: { frame, loop, reply in interNode.respond(frame, on: loop, reply: reply) })
    let http = Application(
        responder: NodeResponder(node: node),
        server: GuardedHTTPChannel.builder(node: node),
        configuration: ApplicationConfiguration(address: .hostname(config.http.host, port: config.http.port)),
        logger: logger)
    let membership = MembershipService(
        control: node.control, joinAddress: config.join?.description, logger: logger)

    logger.info(
        "starting",
        metadata: [
            "http": "\(config.http)", "resp": "\(config.resp.map(\.description) ?? "-")",
            "cluster": "\(config.cluster)", "seeds": "\(config.seeds)",
            "data": "\(config.memory ? "memory" : config.dataDirectory)", "sync": "\(config.sync.rawValue)",
            "partitions": "\(config.partitions)", "n": "\(config.replicas)", "actor": "\(identity.actor)",
            "https": "\(tls.http != nil)", "cluster_tls": "\(tls.clusterTLSMode)",
        ])
    if tls.clusterServer != nil, !tls.verifiesPeers {
        logger.warning(
            "cluster TLS without --cluster-tls-ca encrypts but verifies no peer: any certificate is accepted")
    }
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [
                .init(
                    service: Closer(
                        storage: storage, pool: pool, identity: identity,
                        directory: config.memory ? nil : config.dataDirectory, logger: logger)),
                .init(service: MergeService(storage: storage)),
                .init(service: MergeService(storage: hints.engine)),
                .init(service: HintReplayService(node: node)),
                .init(service: background),
                .init(service: wireServer),
                .init(service: membership),
                .init(service: MetadataService(control: node.control)),
                .init(service: node.transfers),
                .init(service: http),
            ] + (config.resp.map { [.init(service: RESPServer(node: node, address: $0))] } ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    try await group.run()
}

private func storageOptions(_ config: NodeConfig, limits: Limits) -> StorageOptions {
    // A record's value is the whole object (every sibling plus its clock), bounded so that it fits a frame.
    StorageOptions(
        directory: config.memory ? nil : config.dataDirectory, partitionCount: config.partitions,
        sync: config.sync, maxKeySize: limits.maxKeySize, maxValueSize: limits.maxObjectSize)
}

private func bootstrapLogging(_ config: NodeConfig) -> Logger {
    let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "dhrt-node")
    logger[metadataKey: "node"] = "\(config.name)"
    return logger
}

/// Holds storage and the peer connections open while the node runs; closes them when it stops, and then
/// records the clean shutdown that lets the next start keep its actor id.
private struct Closer: Service {
    let storage: StorageEngine
    let pool: WireClientPool
    let identity: ActorIdentity
    let directory: String?
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown()
        do {
            try await storage.close()
            try identity.markClean(directory: directory)
            logger.info("storage closed")
        } catch {
            logger.error("closing storage failed", metadata: ["error": "\(error)"])
            throw error
        }
    }
}

/// Runs storage merge (compaction) periodically while the node runs.
private struct MergeService: Service {
    let storage: StorageEngine

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await storage.runMergeLoop(interval: .seconds(60))
        }
    }
}
