import Foundation

/// What `cluster start` chose, kept in `cluster.json` so that later commands find the nodes.
struct ClusterLayout: Codable, Equatable {
    var nodes: Int
    var baseHTTP: Int
    var baseCluster: Int
    var memory: Bool
    var sync: String?
    var partitions: Int?
    var replicas: Int?
    var binary: String
    /// Whether the nodes run with the tokens and cluster secret of `secrets.toml` (`cluster start --secure`).
    var secure: Bool? = nil
    /// Redis protocol port of node 1; nil: no RESP front door.
    var baseRESP: Int? = nil
    /// Whether the nodes serve HTTPS (and RESP over TLS) and mutual cluster TLS with the certificates of `tls/`.
    var tls: Bool? = nil

    func name(_ index: Int) -> String { "n\(index)" }
    func httpAddress(_ index: Int) -> String { "127.0.0.1:\(baseHTTP + index - 1)" }
    func clusterAddress(_ index: Int) -> String { "127.0.0.1:\(baseCluster + index - 1)" }
    func url(_ index: Int) -> String { (tls == true ? "https://" : "http://") + httpAddress(index) }
    func respAddress(_ index: Int) -> String? { baseRESP.map { "127.0.0.1:\($0 + index - 1)" } }
    var indices: ClosedRange<Int> { 1...nodes }
}

/// A local cluster's directory: `cluster.json`, `pids/`, `logs/`, `data/`.
struct LocalCluster {
    let directory: String

    init(directory: String) {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    var layoutPath: String { directory + "/cluster.json" }
    func pidPath(_ index: Int) -> String { directory + "/pids/n\(index).pid" }
    func logPath(_ index: Int) -> String { directory + "/logs/n\(index).log" }
    func dataPath(_ index: Int) -> String { directory + "/data/n\(index)" }
    /// The nodes' shared TOML file with the tokens and the cluster secret, readable by its owner only.
    var secretsPath: String { directory + "/secrets.toml" }

    /// Writes fresh random tokens and a cluster secret to `secretsPath`; returns (client, admin).
    func writeSecrets() throws -> (client: String, admin: String) {
        let client = Self.randomHex()
        let admin = Self.randomHex()
        let secret = Self.randomHex()
        let text = "client-token = \"\(client)\"\nadmin-token = \"\(admin)\"\ncluster-secret = \"\(secret)\"\n"
        FileManager.default.createFile(
            atPath: secretsPath, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        return (client, admin)
    }

    /// The admin token of a secure cluster, nil otherwise.
    func adminToken() -> String? {
        guard let text = try? String(contentsOfFile: secretsPath, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("admin-token") {
            return line.split(separator: "\"").dropFirst().first.map(String.init)
        }
        return nil
    }

    /// 32 random bytes as hex.
    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    func loadLayout() throws -> ClusterLayout {
        guard let data = FileManager.default.contents(atPath: layoutPath) else {
            throw AdminError.failed("no cluster in \(directory) (start one with: dhrt-admin cluster start -n 3)")
        }
        return try JSONDecoder().decode(ClusterLayout.self, from: data)
    }

    func saveLayout(_ layout: ClusterLayout) throws {
        let fileManager = FileManager.default
        for sub in ["pids", "logs", "data"] {
            try fileManager.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(layout).write(to: URL(fileURLWithPath: layoutPath))
    }

    func pid(_ index: Int) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidPath(index), encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func runningPID(_ index: Int) -> pid_t? {
        guard let pid = pid(index), ProcessControl.isRunningNode(pid) else { return nil }
        return pid
    }

    /// A client of node `index`: its URL, the admin token of a secure cluster, and the cluster's CA with TLS.
    func client(_ index: Int, layout: ClusterLayout) -> NodeClient {
        NodeClient(baseURL: layout.url(index), token: adminToken(), caFile: layout.tls == true ? caPath : nil)
    }

    /// The kv client of node `index`, with the same token and CA as `client(_:layout:)`.
    func kvClient(_ index: Int, layout: ClusterLayout) -> KVClient {
        KVClient(baseURL: layout.url(index), token: adminToken(), caFile: layout.tls == true ? caPath : nil)
    }

    /// Starts node `index` detached and records its PID.
    func startNode(_ index: Int, layout: ClusterLayout) throws -> pid_t {
        var arguments = [
            "--name", layout.name(index), "--data-dir", dataPath(index),
            "--http", layout.httpAddress(index), "--cluster", layout.clusterAddress(index),
        ]
        for other in layout.indices where other != index { arguments += ["--seed", layout.clusterAddress(other)] }
        if layout.memory { arguments.append("--memory") }
        if let sync = layout.sync { arguments += ["--sync", sync] }
        if let resp = layout.respAddress(index) { arguments += ["--resp", resp] }
        if let partitions = layout.partitions { arguments += ["--partitions", "\(partitions)"] }
        if let replicas = layout.replicas { arguments += ["--n", "\(replicas)"] }
        if layout.secure == true { arguments += ["--config", secretsPath] }
        if layout.tls == true { arguments += tlsArguments(layout.name(index)) }
        try FileManager.default.createDirectory(atPath: dataPath(index), withIntermediateDirectories: true)
        let banner = "---- \(Date()) dhrt-node \(arguments.joined(separator: " "))\n"
        appendToLog(index, banner)
        let pid = try ProcessControl.spawnDetached(layout.binary, arguments, logPath: logPath(index))
        try "\(pid)\n".write(toFile: pidPath(index), atomically: true, encoding: .utf8)
        return pid
    }

    /// Stops node `index` (SIGTERM, then SIGKILL after `grace`).
    func stopNode(_ index: Int, grace: Double) async -> (pid: pid_t, killed: Bool)? {
        defer { try? FileManager.default.removeItem(atPath: pidPath(index)) }
        guard let pid = runningPID(index) else { return nil }
        return (pid, await ProcessControl.stop(pid, grace: grace))
    }

    private func appendToLog(_ index: Int, _ text: String) {
        let path = logPath(index)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(text.utf8))
    }
}

/// Bounded waits on nodes coming up.
enum Readiness {
    /// Polls `GET /v1/ready` until it answers 2xx (data requests can succeed) or `seconds` pass. `/health` would
    /// answer as soon as the node listens, before it is in a cluster.
    static func waitReady(_ client: NodeClient, seconds: Double, alive: () -> Bool = { true }) async -> Bool {
        var client = client
        client.timeout = .seconds(1)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let response = try? await client.send(.GET, "/v1/ready"), response.isSuccess { return true }
            if !alive() { return false }
            try? await Task.sleep(for: .milliseconds(150))
        }
        return false
    }

    /// Polls `/v1/status` until it lists at least `count` members, or `seconds` pass. Returns the members seen.
    static func waitMembers(_ client: NodeClient, count: Int, seconds: Double) async -> Int {
        var client = client
        client.timeout = .seconds(1)
        let deadline = Date().addingTimeInterval(seconds)
        var seen = 0
        while Date() < deadline {
            if let status = try? await client.json("/v1/status") {
                seen = memberCount(in: status)
                if seen >= count { return seen }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return seen
    }

    /// Members in a status document: `ring.members`, `members` or `cluster.members`.
    static func memberCount(in status: Any) -> Int {
        guard let object = status as? [String: Any] else { return 0 }
        for container in [object["ring"], object, object["cluster"]] {
            if let members = (container as? [String: Any])?["members"] as? [Any] { return members.count }
        }
        return 0
    }
}
