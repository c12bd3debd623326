import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// Starts `dhrt-node` with NIO's event loops as Swift concurrency's global executor: HTTP handlers, replica
/// calls and their callbacks then share the same two threads, without hops to a separate cooperative pool.
@main
enum DhrtNodeMain {
    static func main() async {
        // The loop count is fixed before the group starts: DHRT_EVENT_LOOPS overrides one per core.
        if let text = ProcessInfo.processInfo.environment["DHRT_EVENT_LOOPS"], let loops = Int(text), loops > 0 {
            NIOSingletons.groupLoopCountSuggestion = loops
        }
        // DHRT_NIO_EXECUTOR=0 keeps Swift's own cooperative pool (for comparison).
        if ProcessInfo.processInfo.environment["DHRT_NIO_EXECUTOR"] != "0" {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await DhrtNode.main()
    }
}

/// `dhrt-node`: one storage node of a dhrt cluster.
struct DhrtNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhrt-node",
        abstract: "A dhrt storage node: serves the HTTP API and replicates over the cluster port.",
        discussion: "Every option may also be set in a TOML file (--config) under its long name; flags win."
    )

    @Option(help: "Unique node name; with a suffix per incarnation, also the actor id in versions.")
    var name: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (default ./data/NAME).")
    var dataDirectory: String?

    @Option(help: "HTTP API address HOST:PORT (default 127.0.0.1:8701).")
    var http: String?

    @Option(help: "Inter-node address HOST:PORT (default 127.0.0.1:9701).")
    var cluster: String?

    @Option(help: "Redis protocol (RESP2/RESP3) address HOST:PORT (default: none; see Docs/RESP.md).")
    var resp: String?

    @Option(
        name: .customLong("seed"),
        help: "Cluster address of a node to form the cluster with (give each the others); repeatable.")
    var seeds: [String] = []

    @Option(help: "Partition count Q, a power of two; the same on every node (default 256).")
    var partitions: Int?

    @Option(name: .customLong("n"), help: "Replicas per key N; the same on every node (default 3).")
    var replicas: Int?

    @Flag(help: "Keep data in memory only (nothing is written to disk).")
    var memory = false

    @Option(help: "Durability before acknowledging a write: group, always or none (default group).")
    var sync: String?

    @Option(name: .customLong("timeout-ms"), help: "Per-request replica timeout in milliseconds (default 2000).")
    var timeoutMilliseconds: Int?

    @Option(
        name: .customLong("read-repair-chance"),
        help: "Share of reads (0-1) that ask every replica, not only R, for read repair (default 0.1).")
    var readRepairChance: Double?

    @Option(help: "Cluster address HOST:PORT of any member: join that cluster at start (stage and commit).")
    var join: String?

    @Option(
        name: .customLong("transfer-concurrency"),
        help: "Partitions copied into this node at once during range transfer (default 8).")
    var transferConcurrency: Int?

    @Option(
        name: .customLong("transfer-batch-bytes"),
        help: "Record bytes per range-transfer batch, 1024 to 8388608 (default 1048576).")
    var transferBatchBytes: Int?

    @OptionGroup(title: "Limits and credentials")
    var frontDoor: FrontDoorOptions

    @OptionGroup(title: "TLS")
    var tls: TLSOptions

    @Option(
        name: .customLong("hint-max-bytes"),
        help: "Total bytes of hints this node holds for down replicas; more are refused (default 1073741824).")
    var hintMaxBytes: Int?

    @Option(
        name: .customLong("hint-max-age-s"),
        help: "Seconds after which an unreplayed hint is dropped and left to anti-entropy (default 86400).")
    var hintMaxAgeSeconds: Int?

    @Option(
        name: .customLong("hint-replay-rate"),
        help: "Hints replayed per second to each returning replica (default 2000).")
    var hintReplayRate: Int?

    @Option(help: "TOML file with any of the options above.")
    var config: String?

    func run() async throws {
        let resolved: NodeConfig
        do {
            let file = try config.map { path throws(ConfigError) in try ConfigValues.load(tomlFile: path) }
            resolved = try NodeConfig.resolve(flags: flagValues, file: file ?? ConfigValues())
        } catch {
            throw ValidationError(error.description)
        }
        try await runNode(resolved)
    }

    private var flagValues: ConfigValues {
        ConfigValues(
            name: name, dataDirectory: dataDirectory, http: http, cluster: cluster,
            seeds: seeds.isEmpty ? nil : seeds, partitions: partitions, replicas: replicas,
            memory: memory ? true : nil, sync: sync, timeoutMilliseconds: timeoutMilliseconds,
            readRepairChance: readRepairChance, join: join, transferConcurrency: transferConcurrency,
            transferBatchBytes: transferBatchBytes, resp: resp
        ).withFrontDoor(frontDoor).withTLS(tls).withHints(
            maxBytes: hintMaxBytes, maxAgeSeconds: hintMaxAgeSeconds, replayRate: hintReplayRate)
    }
}
