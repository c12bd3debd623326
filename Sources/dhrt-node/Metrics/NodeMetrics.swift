import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The node's metrics: swift-metrics instruments exported by swift-prometheus at `GET /metrics`.
struct NodeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let readRepairs: CoreMetrics.Counter
    private let replicaFailures: CoreMetrics.Counter
    private let fencedRequests: CoreMetrics.Counter
    private let ringRetries: CoreMetrics.Counter
    private let requestInstruments: RequestInstruments
    private let hintsReplayed: CoreMetrics.Counter
    private let hintBytesReplayed: CoreMetrics.Counter

    /// Bootstraps the process-wide metrics system onto a Prometheus registry; call once per process.
    static func bootstrap() -> NodeMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return NodeMetrics(registry: registry)
    }

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        readRepairs = CoreMetrics.Counter(label: "dhrt_read_repairs_total")
        replicaFailures = CoreMetrics.Counter(label: "dhrt_replica_failures_total")
        fencedRequests = CoreMetrics.Counter(label: "dhrt_fenced_requests_total")
        ringRetries = CoreMetrics.Counter(label: "dhrt_ring_moved_retries_total")
        requestInstruments = RequestInstruments()
        hintsReplayed = CoreMetrics.Counter(label: "dhrt_hints_replayed_total")
        hintBytesReplayed = CoreMetrics.Counter(label: "dhrt_hints_replayed_bytes_total")
    }

    /// Counts a hint its owner acknowledged (and that was then deleted).
    func recordHintReplayed(bytes: Int) {
        hintsReplayed.increment()
        hintBytesReplayed.increment(by: bytes)
    }

    /// Counts one client request and records its latency, by operation, consistency level and status code.
    func recordRequest(operation: String, consistency: String, status: Int, duration: Duration) {
        let (counter, timer) = requestInstruments.instruments(
            operation: operation, consistency: consistency, code: status)
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }

    /// Counts replicas sent a repair after a read.
    func recordReadRepairs(_ count: Int) {
        if count > 0 { readRepairs.increment(by: count) }
    }

    /// Counts replica requests that failed (timeout, refused, error reply).
    func recordReplicaFailure() {
        replicaFailures.increment()
    }

    /// A replica request from a coordinator on an older ring was refused here (`ring_moved`).
    func recordFencedRequest() {
        fencedRequests.increment()
    }

    /// A request was run again on a newer ring after a replica refused it.
    func recordRingRetry() {
        ringRetries.increment()
    }

    /// The text exposition, with storage figures sampled now.
    func exposition(
        storage: [(name: String, value: Double)], members: Int, hints: HintFigures = HintFigures()
    ) -> [UInt8] {
        for (name, value) in storage {
            registry.makeGauge(descriptor: Self.descriptor(name)).set(value)
        }
        hints.export(to: registry)
        registry.makeGauge(descriptor: Self.descriptor("dhrt_cluster_members")).set(Double(members))
        return registry.emitToBuffer()
    }
}

/// The request counters and timers, made once per label set rather than per request (making one takes the
/// registry's lock and hashes its labels).
private final class RequestInstruments: Sendable {
    private struct Labels: Hashable {
        var operation: String
        var consistency: String
        var code: Int
    }

    private let made = Mutex<[Labels: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])

    func instruments(operation: String, consistency: String, code: Int) -> (CoreMetrics.Counter, CoreMetrics.Timer) {
        let labels = Labels(operation: operation, consistency: consistency, code: code)
        return made.withLock { made in
            if let known = made[labels] { return known }
            // `code` tells 200 from 300 (siblings) and 404 from 412; `status` keeps the class for older queries.
            let counter = CoreMetrics.Counter(
                label: "dhrt_requests_total",
                dimensions: [
                    ("operation", operation), ("consistency", consistency), ("status", "\(code / 100)xx"),
                    ("code", "\(code)"),
                ])
            let timer = CoreMetrics.Timer(
                label: "dhrt_request_duration_seconds",
                dimensions: [("operation", operation), ("consistency", consistency)])
            made[labels] = (counter, timer)
            return (counter, timer)
        }
    }
}

extension NodeMetrics {
    fileprivate static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: "")
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var milliseconds: Double { Double(nanoseconds) / 1_000_000 }
}

/// The hint queue's figures for `/metrics`: per target, hints queued, their bytes and the oldest one's age.
struct HintFigures: Sendable {
    var perTarget: [(target: String, count: Int, bytes: Int, oldestAgeSeconds: Double)] = []
    /// Targets that had hints before: their gauges go back to 0 rather than keeping the last value.
    var cleared: [String] = []
    var dropped = 0
    var replayRate = 0.0

    fileprivate func export(to registry: PrometheusCollectorRegistry) {
        for (target, count, bytes, age) in perTarget {
            registry.makeGauge(name: "dhrt_hints_queued", labels: [("target", target)]).set(Double(count))
            registry.makeGauge(name: "dhrt_hints_queued_bytes", labels: [("target", target)]).set(Double(bytes))
            registry.makeGauge(name: "dhrt_hints_oldest_age_seconds", labels: [("target", target)]).set(age)
        }
        for target in cleared {
            registry.makeGauge(name: "dhrt_hints_queued", labels: [("target", target)]).set(0.0)
            registry.makeGauge(name: "dhrt_hints_queued_bytes", labels: [("target", target)]).set(0.0)
            registry.makeGauge(name: "dhrt_hints_oldest_age_seconds", labels: [("target", target)]).set(0.0)
        }
        registry.makeGauge(name: "dhrt_hints_dropped").set(Double(dropped))
        registry.makeGauge(name: "dhrt_hints_replay_rate").set(replayRate)
    }
}
