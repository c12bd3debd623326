import ArgumentParser
import Foundation

/// `dhrt-admin bench`: YCSB-style load against a cluster, comparing quorum settings.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a cluster with YCSB workloads and compare quorum settings (latency percentiles, ops/s).",
        discussion: """
            Every setting runs for the same time; with --rounds K the settings take turns (A B C A B C …) so that \
            the machine's drift favours none. Closed loop by default; --rate makes it open loop, measuring latency \
            from each request's intended send time (no coordinated omission).
            Example: dhrt-admin bench --nodes http://127.0.0.1:8701,http://127.0.0.1:8702,http://127.0.0.1:8703 \
            --workload a --consistency one,quorum,all --duration 10s --json out.json --plot out.svg
            """
    )

    @Option(help: "Comma-separated node URLs; connections are spread over them.")
    var nodes: String = "http://127.0.0.1:8701"

    @Option(help: "a (50% reads), b (95%), c (100%), put, get, or mixed:R/W such as mixed:80/20.")
    var workload: String = "a"

    @Option(help: "Settings to compare, from one, quorum, all (comma-separated). Default one,quorum,all.")
    var consistency: String?

    @Option(help: "Settings as explicit R/W pairs, e.g. 1/1,2/2,3/3 (instead of --consistency).")
    var rw: String?

    @Option(help: "Number of keys in the key space.")
    var keys: Int = 100_000

    @Option(help: "Bytes per value.")
    var valueSize: Int = 100

    @Option(help: "Key popularity: zipfian (YCSB's scrambled zipfian, 0.99) or uniform.")
    var distribution: String = "zipfian"

    @Option(help: "Concurrent connections (one request in flight on each).")
    var connections: Int = 64

    @Option(help: "Measured time per setting, e.g. 10s, 500ms, 1m (split over rounds).")
    var duration: String?

    @Option(help: "Measured operations per setting (instead of --duration; split over rounds).")
    var ops: Int?

    @Option(help: "Open loop at this many operations per second in total, e.g. 5000 or 5000/s.")
    var rate: String?

    @Option(help: "Unmeasured time before each measured slice.")
    var warmup: String = "2s"

    @Option(help: "Rounds: each setting's time is cut into this many slices, taken in turns.")
    var rounds: Int = 1

    @Option(help: "Write every figure and the run's parameters to this JSON file.")
    var json: String?

    @Option(help: "Write an SVG chart (latency percentiles per setting, throughput bars) to this file.")
    var plot: String?

    @Option(help: "Collection the benchmark uses.")
    var collection: String = "bench"

    @Option(help: "Event-loop threads of the load generator.")
    var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)

    @Option(help: "Replicas per key, N (to report R and W as numbers); asked from the node when absent.")
    var replicas: Int?

    @Option(help: "Seed of key and operation choice, for repeatable runs.")
    var seed: UInt64 = 42

    @Flag(help: "Skip the load phase (the key space was written before).")
    var noLoad = false

    @Flag(help: "Update without the causal context last read for the key (each such write adds a sibling).")
    var blindUpdates = false

    func validate() throws {
        do {
            _ = try makeConfiguration()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Checks every option and gathers them.
    func makeConfiguration() throws(BenchOptionError) -> BenchConfiguration {
        let urls = nodes.split(separator: ",").map { NodeURL.normalized($0.trimmingCharacters(in: .whitespaces)) }
        var targets: [BenchRunner.Target] = []
        for url in urls {
            if url.hasPrefix("https://") {
                throw BenchOptionError("bench speaks plain HTTP only; --nodes \(url) is https (use wrk for HTTPS)")
            }
            guard let (host, port) = NodeURL.hostAndPort(url), !url.dropFirst(7).contains("/") else {
                throw BenchOptionError("--nodes takes http://HOST:PORT URLs separated by commas, got '\(url)'")
            }
            targets.append(BenchRunner.Target(host: host, port: port))
        }
        guard !targets.isEmpty else { throw BenchOptionError("--nodes needs at least one URL") }
        if consistency != nil && rw != nil { throw BenchOptionError("give either --consistency or --rw, not both") }
        let settings: [QuorumSetting]
        if let rw {
            settings = try QuorumSetting.parseRW(rw)
        } else {
            settings = try QuorumSetting.parseConsistency(consistency ?? "one,quorum,all")
        }
        guard let chosen = KeyDistribution(rawValue: distribution.lowercased()) else {
            throw BenchOptionError("--distribution must be uniform or zipfian, got '\(distribution)'")
        }
        guard keys >= 1 else { throw BenchOptionError("--keys must be at least 1") }
        guard (0...(8 << 20)).contains(valueSize) else { throw BenchOptionError("--value-size must be 0-8388608") }
        guard (1...10_000).contains(connections) else { throw BenchOptionError("--connections must be 1-10000") }
        guard (1...64).contains(threads) else { throw BenchOptionError("--threads must be 1-64") }
        guard (1...1000).contains(rounds) else { throw BenchOptionError("--rounds must be 1-1000") }
        if duration != nil && ops != nil { throw BenchOptionError("give either --duration or --ops, not both") }
        let seconds = try ops == nil ? DurationText.seconds(duration ?? "10s") : nil
        if let seconds, seconds <= 0 { throw BenchOptionError("--duration must be positive") }
        if let ops, ops < rounds { throw BenchOptionError("--ops must be at least --rounds (\(rounds))") }
        let rate = try rate.map(DurationText.rate)
        if let replicas, replicas < 1 { throw BenchOptionError("--replicas must be at least 1") }
        for (flag, path) in [("--json", json), ("--plot", plot)] where path?.isEmpty == true {
            throw BenchOptionError("\(flag) needs a file name")
        }
        return BenchConfiguration(
            nodes: urls, targets: targets, workload: try Workload.parse(workload), settings: settings,
            keys: keys, valueSize: valueSize, distribution: chosen, connections: connections, threads: threads,
            durationSeconds: seconds, ops: ops, rate: rate, warmupSeconds: try DurationText.seconds(warmup),
            rounds: rounds, jsonPath: json, plotPath: plot, collection: collection, seed: seed, load: !noLoad,
            replicas: replicas, blindUpdates: blindUpdates)
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        var n = configuration.replicas ?? 3
        if configuration.replicas == nil, let asked = await BenchSession.askReplicas(configuration.nodes[0]) {
            n = asked
        }
        let session = BenchSession(configuration: configuration, n: n)
        let report = try await session.run()
        print(report.table())
        if let path = configuration.jsonPath {
            try report.json().write(to: URL(fileURLWithPath: path))
            print("wrote \(path)")
        }
        if let path = configuration.plotPath {
            try Data(BenchPlot(report: report).svg().utf8).write(to: URL(fileURLWithPath: path))
            print("wrote \(path)")
        }
    }
}

/// Every benchmark option, checked.
struct BenchConfiguration: Sendable {
    var nodes: [String]
    var targets: [BenchRunner.Target]
    var workload: Workload
    var settings: [QuorumSetting]
    var keys: Int
    var valueSize: Int
    var distribution: KeyDistribution
    var connections: Int
    var threads: Int
    var durationSeconds: Double?
    var ops: Int?
    var rate: Double?
    var warmupSeconds: Double
    var rounds: Int
    var jsonPath: String?
    var plotPath: String?
    var collection: String
    var seed: UInt64
    var load: Bool
    var replicas: Int?
    var blindUpdates: Bool
}
