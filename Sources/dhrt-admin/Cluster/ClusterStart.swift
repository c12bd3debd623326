import ArgumentParser
import Foundation

/// `dhrt-admin cluster start -n 3`.
struct ClusterStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start N dhrt-node processes on consecutive loopback ports and wait until they see each other."
    )

    @OptionGroup var location: ClusterDirectory

    @Option(name: .short, help: "Number of nodes (1-32).")
    var n: Int = 3

    @Option(help: "HTTP port of node 1; node i listens on base + i - 1.")
    var baseHTTP: Int = 8701

    @Option(help: "Inter-node port of node 1; node i listens on base + i - 1.")
    var baseCluster: Int = 9701

    @Option(help: "Redis protocol port of node 1 (node i on base + i - 1); without it no node serves RESP.")
    var baseRESP: Int?

    @Flag(help: "Keep data in memory only (nothing written under --dir/data).")
    var memory = false

    @Option(help: "Durability: group (default), always or none.")
    var sync: String?

    @Option(help: "Partition count of the ring (a power of two; the node's default if absent).")
    var partitions: Int?

    @Option(help: "Replicas per key, N (the node's default if absent).")
    var replicas: Int?

    @Option(help: "Path of the dhrt-node binary (default: beside dhrt-admin, else PATH).")
    var nodeBinary: String?

    @Flag(
        help: ArgumentHelp(
            "Require generated tokens and a cluster secret, and serve TLS with certificates of a new local CA.",
            discussion:
                "Writes DIR/secrets.toml and DIR/tls/ (ca.pem, and per node NAME.pem and NAME-key.pem for "
                + "127.0.0.1 and localhost); the nodes serve HTTPS (and RESP over TLS) and mutual cluster TLS."))
    var secure = false

    @Option(help: "Seconds to wait for every node to be ready (GET /v1/ready) and to know all members.")
    var timeout: Double = 30

    func validate() throws {
        guard (1...32).contains(n) else { throw ValidationError("-n must be 1-32, got \(n).") }
        let bases =
            [("--base-http", baseHTTP), ("--base-cluster", baseCluster)]
            + (baseRESP.map { [("--base-resp", $0)] } ?? [])
        for (flag, base) in bases {
            guard (1024...(65535 - n)).contains(base) else {
                throw ValidationError("\(flag) must leave room for \(n) ports in 1024-65535, got \(base).")
            }
        }
        let httpPorts = baseHTTP..<(baseHTTP + n)
        let clusterPorts = baseCluster..<(baseCluster + n)
        guard !httpPorts.overlaps(clusterPorts) else {
            throw ValidationError("the HTTP ports \(httpPorts) overlap the cluster ports \(clusterPorts).")
        }
        if let baseRESP {
            let respPorts = baseRESP..<(baseRESP + n)
            guard !respPorts.overlaps(httpPorts), !respPorts.overlaps(clusterPorts) else {
                throw ValidationError("the RESP ports \(respPorts) overlap the HTTP or cluster ports.")
            }
        }
        if let sync, !["group", "always", "none"].contains(sync) {
            throw ValidationError("--sync must be group, always or none, got '\(sync)'.")
        }
        if memory, let sync, sync != "none" {
            throw ValidationError("--memory keeps nothing on disk, so --sync \(sync) cannot hold; drop one of them.")
        }
        if let partitions, partitions < 1 || partitions & (partitions - 1) != 0 {
            throw ValidationError("--partitions must be a power of two, got \(partitions).")
        }
        if let replicas, replicas < 1 { throw ValidationError("--replicas must be at least 1.") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive.") }
    }

    func run() async throws {
        let cluster = location.cluster
        if let old = try? cluster.loadLayout(), old.indices.contains(where: { cluster.runningPID($0) != nil }) {
            throw AdminError.failed("a cluster is already running in \(cluster.directory); stop it first")
        }
        guard let binary = nodeBinary ?? ProcessControl.findNodeBinary() else {
            throw AdminError.failed("dhrt-node not found beside dhrt-admin nor on PATH; pass --node-binary")
        }
        let layout = ClusterLayout(
            nodes: n, baseHTTP: baseHTTP, baseCluster: baseCluster, memory: memory, sync: sync,
            partitions: partitions, replicas: replicas, binary: binary, secure: secure ? true : nil, baseRESP: baseRESP,
            tls: secure ? true : nil)
        for index in layout.indices {
            let ports = [baseHTTP + index - 1, baseCluster + index - 1] + (baseRESP.map { [$0 + index - 1] } ?? [])
            for port in ports where !ProcessControl.isPortFree(port) {
                throw AdminError.failed(
                    "port \(port) on 127.0.0.1 is in use; choose --base-http/--base-cluster/--base-resp")
            }
        }
        try cluster.saveLayout(layout)
        if secure {
            let tokens = try cluster.writeSecrets()
            print("client token: \(tokens.client)")
            print("admin token:  \(tokens.admin)")
            print("(kept in \(cluster.secretsPath); e.g. export DHRT_TOKEN=\(tokens.admin))")
            try cluster.writeCertificates(layout)
            print("TLS: a new CA in \(cluster.caPath); HTTPS, RESP over TLS and mutual cluster TLS")
        }
        for index in layout.indices {
            let pid = try cluster.startNode(index, layout: layout)
            let resp = layout.respAddress(index).map { " resp \($0)" } ?? ""
            print("started \(layout.name(index)) pid \(pid) \(layout.url(index))\(resp)")
        }
        try await ClusterStart.waitReady(cluster, layout: layout, indices: Array(layout.indices), seconds: timeout)
        print("cluster of \(n) ready in \(cluster.directory)")
        if secure {
            print("try: curl --cacert \(cluster.caPath) \(layout.url(1))/v1/ready")
            print("     dhrt-admin status --node \(layout.url(1)) --cacert \(cluster.caPath)")
        }
    }

    /// Waits for readiness of `indices`, then for every node to list all members; fails naming the log to read.
    static func waitReady(
        _ cluster: LocalCluster, layout: ClusterLayout, indices: [Int], seconds: Double
    ) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        for index in indices {
            let ready = await Readiness.waitReady(
                cluster.client(index, layout: layout), seconds: max(1, deadline.timeIntervalSinceNow),
                alive: { cluster.runningPID(index) != nil })
            guard ready else {
                let reason = cluster.runningPID(index) == nil ? "exited" : "is not ready after \(Int(seconds)) s"
                throw AdminError.failed("\(layout.name(index)) \(reason); see \(cluster.logPath(index))")
            }
        }
        for index in layout.indices where cluster.runningPID(index) != nil {
            let seen = await Readiness.waitMembers(
                cluster.client(index, layout: layout), count: layout.nodes,
                seconds: max(1, deadline.timeIntervalSinceNow))
            if seen < layout.nodes {
                print("warning: \(layout.name(index)) lists \(seen) of \(layout.nodes) members so far")
            }
        }
    }
}
