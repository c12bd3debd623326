import Logging
import Storage
import Wire

/// Size limits the HTTP layer enforces before anything reaches storage.
struct Limits: Sendable {
    var maxKeySize = 1024
    var maxValueSize = 8 << 20
    var maxBatchSize = 16 << 20
    /// A stored object (every sibling and the causal context): it must fit one inter-node frame, with room for
    /// the collection, the key and the message's framing, or it could no longer be replicated or read remotely.
    var maxObjectSize = FrameFormat.defaultMaxPayloadSize - (64 << 10)
}

/// One running node: its configuration and the parts every handler reaches.
final class Node: Sendable {
    let config: NodeConfig
    let logger: Logger
    let storage: StorageEngine
    let replica: LocalReplica
    let cluster: ClusterState
    /// Membership: detector, gossip, formation, the claimant's staged changes.
    let control: ClusterControl
    /// Range transfer into this node.
    let transfers: TransferService
    let peers: Peers
    let background: BackgroundTasks
    let metrics: NodeMetrics
    let limits: Limits
    /// Hints held for replicas that could not take a write, and their replay pace.
    let hints: HintStore
    let hintRate = HintRate()
    /// The actor id of the writes this node coordinates (`ActorIdentity`).
    let actor: String
    /// Replica-call latency per peer: which replicas a read asks first, when it speculates.
    let latency = PeerLatency()
    /// The event loops as storage completion executors (group commit wakes a loop once per batch).
    let executors = LoopExecutors()
    /// Coordinates client requests; a thin value over the node.
    var kv: KVService { KVService(node: self) }

    init(
        config: NodeConfig, logger: Logger, storage: StorageEngine, cluster: ClusterState, peers: Peers,
        background: BackgroundTasks, metrics: NodeMetrics, limits: Limits, hints: HintStore, actor: String
    ) {
        self.actor = actor
        self.hints = hints
        control = ClusterControl(
            cluster: cluster, peers: peers, seeds: config.seeds.map(\.description), logger: logger,
            metadataPath: config.memory ? nil : config.dataDirectory + "/METADATA")
        transfers = TransferService(
            storage: storage, control: control,
            checkpointPath: config.memory ? nil : config.dataDirectory + "/TRANSFERS",
            concurrency: config.transferConcurrency, maxBatchBytes: config.transferBatchBytes,
            dropGrace: config.dropGrace)
        self.config = config
        self.logger = logger
        self.storage = storage
        self.replica = LocalReplica(storage: storage)
        self.cluster = cluster
        self.peers = peers
        self.background = background
        self.metrics = metrics
        self.limits = limits
    }

    /// Storage figures for `/v1/status`, `GET /` and `/metrics`, named as Prometheus gauges.
    func storageFigures() -> [(name: String, value: Double)] {
        let stats = storage.stats()
        let all = stats.collections.values
        return [
            ("dhrt_storage_collections", Double(stats.collections.count)),
            ("dhrt_storage_keys", Double(stats.keyCount)),
            ("dhrt_storage_tombstones", Double(all.reduce(0) { $0 + $1.tombstoneCount })),
            ("dhrt_storage_keydir_bytes", Double(stats.keydirBytes)),
            ("dhrt_storage_keydir_bytes_per_key", stats.keydirBytesPerKey),
            ("dhrt_storage_data_files", Double(all.reduce(0) { $0 + $1.dataFiles })),
            ("dhrt_storage_data_bytes", Double(all.reduce(0) { $0 + $1.dataBytes })),
            ("dhrt_storage_dead_bytes", Double(all.reduce(0) { $0 + $1.deadBytes })),
            ("dhrt_storage_corrupt_records_skipped", Double(stats.corruptRecordsSkipped)),
            ("dhrt_storage_torn_tails_truncated", Double(stats.tornTailsTruncated)),
            ("dhrt_storage_merges", Double(all.reduce(0) { $0 + $1.merges })),
        ]
    }
}
