import Coordinator
import Ring
import Storage

/// Everything a node needs to start, after merging flags over the TOML file over defaults.
struct NodeConfig: Sendable {
    static let defaultHTTP = HostPort(host: "127.0.0.1", port: 8701)
    static let defaultCluster = HostPort(host: "127.0.0.1", port: 9701)

    /// The node's unique name; it is also its actor id in versions.
    var name: String
    /// Where the collections live; ignored in memory mode.
    var dataDirectory: String
    var http: HostPort
    var cluster: HostPort
    /// The Redis protocol front door (`--resp`); nil serves none.
    var resp: HostPort? = nil
    var seeds: [HostPort]
    /// Q: the same on every node of a cluster.
    var partitions: Int
    /// N: replicas per key, the same on every node of a cluster.
    var replicas: Int
    var memory: Bool
    var sync: SyncPolicy
    /// How long a coordinator waits for replicas before answering with what it has.
    var requestTimeout: Duration
    /// The share of reads that ask every replica rather than only R, so that read repair reaches them all.
    var readRepairChance: Double = 0.1
    /// A member's cluster address to join through at start (`--join`); nil to form or rejoin from seeds.
    var join: HostPort? = nil
    /// Partitions copied into this node at once during range transfer.
    var transferConcurrency = 8
    /// Record bytes asked for per transfer batch.
    var transferBatchBytes = 1 << 20
    /// How long a completed plan stands before this node drops the partitions it no longer replicates.
    var dropGrace: Duration = .seconds(10)
    /// Connection limits, timeouts and credentials of both ports.
    var frontDoor = FrontDoor.defaults
    /// Bounds and pace of the hints this node holds as a fallback.
    var hints = HintQueue.Limits()
    /// The certificate files as configured.
    var tlsFiles = TLSFiles()
    /// TLS of the client ports and of the inter-node port, loaded from `tlsFiles`.
    var tls = NodeTLS.none
}

/// A configuration problem, reported to the operator as is.
struct ConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension NodeConfig {
    /// Merges flag values over file values over defaults and validates the result.
    static func resolve(flags: ConfigValues, file: ConfigValues) throws(ConfigError) -> NodeConfig {
        let merged = flags.overriding(file)
        guard let name = merged.name, !name.isEmpty else {
            throw ConfigError("a node name is required: pass --name NAME or set name = \"NAME\" in the config file")
        }
        guard Member.isValidName(name) else {
            throw ConfigError("node name '\(name)' must be 1-64 ASCII letters, digits, '-', '_' or '.'")
        }
        let http = try parseAddress(merged.http, option: "http") ?? defaultHTTP
        let cluster = try parseAddress(merged.cluster, option: "cluster") ?? defaultCluster
        var seeds: [HostPort] = []
        for seed in merged.seeds ?? [] {
            guard let address = HostPort(seed) else {
                throw ConfigError("--seed '\(seed)' is not HOST:PORT (e.g. 127.0.0.1:9701)")
            }
            seeds.append(address)
        }
        let partitions = merged.partitions ?? 256
        guard partitions >= 8, partitions <= 4096, partitions & (partitions - 1) == 0 else {
            throw ConfigError("--partitions \(partitions) must be a power of two between 8 and 4096")
        }
        let replicas = merged.replicas ?? 3
        guard (1...9).contains(replicas) else {
            throw ConfigError("--n \(replicas) must be between 1 and 9")
        }
        let memory = merged.memory ?? false
        let sync: SyncPolicy
        if let text = merged.sync {
            guard let policy = SyncPolicy(rawValue: text) else {
                throw ConfigError("--sync '\(text)' must be one of: group, always, none")
            }
            sync = policy
        } else {
            sync = memory ? .none : .group
        }
        // Memory mode writes nothing to disk: a policy that promises fsyncs would be a lie in the log and status.
        if memory, sync != .none {
            throw ConfigError(
                "--memory keeps no data on disk, so --sync \(sync.rawValue) cannot hold: drop --sync (or pass "
                    + "--sync none) with --memory")
        }
        let timeoutMilliseconds = merged.timeoutMilliseconds ?? 2000
        guard (10...600_000).contains(timeoutMilliseconds) else {
            throw ConfigError("--timeout-ms \(timeoutMilliseconds) must be between 10 and 600000")
        }
        let readRepairChance = merged.readRepairChance ?? 0.1
        guard (0...1).contains(readRepairChance) else {
            throw ConfigError("--read-repair-chance \(readRepairChance) must be between 0 and 1")
        }
        let join = try parseAddress(merged.join, option: "join")
        let resp = try parseAddress(merged.resp, option: "resp")
        let transferConcurrency = merged.transferConcurrency ?? 8
        guard (1...64).contains(transferConcurrency) else {
            throw ConfigError("--transfer-concurrency \(transferConcurrency) must be between 1 and 64")
        }
        let transferBatchBytes = merged.transferBatchBytes ?? (1 << 20)
        guard (1024...(8 << 20)).contains(transferBatchBytes) else {
            throw ConfigError("--transfer-batch-bytes \(transferBatchBytes) must be between 1024 and 8388608")
        }
        let frontDoor = try FrontDoor.resolve(merged)
        let hints = try hintLimits(merged)
        let tlsFiles = try TLSFiles.resolve(merged)
        return NodeConfig(
            name: name,
            dataDirectory: merged.dataDirectory ?? "./data/\(name)",
            http: http,
            cluster: cluster,
            resp: resp,
            seeds: seeds,
            partitions: partitions,
            replicas: replicas,
            memory: memory,
            sync: sync,
            requestTimeout: .milliseconds(timeoutMilliseconds),
            readRepairChance: readRepairChance,
            join: join,
            transferConcurrency: transferConcurrency,
            transferBatchBytes: transferBatchBytes,
            frontDoor: frontDoor,
            hints: hints,
            tlsFiles: tlsFiles,
            tls: try NodeTLS.load(tlsFiles)
        )
    }

    private static func hintLimits(_ merged: ConfigValues) throws(ConfigError) -> HintQueue.Limits {
        var limits = HintQueue.Limits()
        if let bytes = merged.hintMaxBytes {
            guard bytes >= 0 else { throw ConfigError("--hint-max-bytes \(bytes) must not be negative") }
            limits.maxBytes = bytes
        }
        if let seconds = merged.hintMaxAgeSeconds {
            guard (1...(365 * 86_400)).contains(seconds) else {
                throw ConfigError("--hint-max-age-s \(seconds) must be between 1 and 31536000")
            }
            limits.maxAge = UInt64(seconds) * 1_000_000_000
        }
        if let rate = merged.hintReplayRate {
            guard (1...1_000_000).contains(rate) else {
                throw ConfigError("--hint-replay-rate \(rate) must be between 1 and 1000000")
            }
            limits.rate = Double(rate)
        }
        return limits
    }

    private static func parseAddress(_ text: String?, option: String) throws(ConfigError) -> HostPort? {
        guard let text else { return nil }
        guard let address = HostPort(text) else {
            throw ConfigError("--\(option) '\(text)' is not HOST:PORT (e.g. 127.0.0.1:8701)")
        }
        return address
    }
}
