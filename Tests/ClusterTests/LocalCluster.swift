import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Real `dhrt-node` processes on free loopback ports, each with a temporary data directory.
final class LocalCluster: Sendable {
    /// The cluster of the running suite (see `ClusterScope`).
    @TaskLocal static var current: LocalCluster?

    let directory: String
    let nodes: [NodeProcess]
    /// Sent as a bearer token on the readiness checks, for clusters started with an admin token.
    let token: String?

    private init(directory: String, nodes: [NodeProcess], token: String?) {
        self.directory = directory
        self.nodes = nodes
        self.token = token
    }

    /// Starts `size` nodes, each given the others as seeds (so they form one cluster), and waits until every
    /// node has the ring with every member. `perNode` adds flags of node `index` (e.g. its own port of a kind).
    static func start(
        size: Int = 3, extra: [String] = [], token: String? = nil, perNode: (Int) -> [String] = { _ in [] }
    ) async throws -> LocalCluster {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("dhrt-cluster-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try LocalPorts.free(size * 2)
        var nodes: [NodeProcess] = []
        do {
            for index in 0..<size {
                let seeds = (0..<size).filter { $0 != index }.map { "127.0.0.1:\(ports[size + $0])" }
                nodes.append(
                    try NodeProcess(
                        name: "n\(index + 1)", httpPort: ports[index], clusterPort: ports[size + index],
                        seeds: seeds, directory: directory, extra: extra + perNode(index)))
            }
            let cluster = LocalCluster(directory: directory, nodes: nodes, token: token)
            try await cluster.waitUntilReady()
            return cluster
        } catch {
            for node in nodes { node.kill() }
            let logs = nodes.map { "--- \($0.name)\n\($0.logTail())" }.joined(separator: "\n")
            try? FileManager.default.removeItem(atPath: directory)
            throw HarnessError("cluster did not start: \(error)\n\(logs)")
        }
    }

    /// Kills every node (SIGKILL) and removes the data directories.
    func stop() {
        for node in nodes { node.kill() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Polls `/health` and `/v1/status` (bounded) until every live node lists every member.
    // Generous bounds: the whole test suite shares two cores, and CPU-heavy suites can starve this one.
    func waitUntilReady(timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        let live = nodes.filter(\.isRunning)
        while ContinuousClock.now < deadline {
            var ready = true
            for node in live {
                guard node.isRunning else { throw HarnessError("\(node.name) exited:\n\(node.logTail())") }
                let auth = token.map { [("Authorization", "Bearer \($0)")] } ?? []
                guard
                    let status = try? await HTTP.send(
                        .GET, "\(node.httpURL)/v1/status", headers: auth, timeout: .seconds(5)),
                    status.status == 200, let json = status.json as? [String: Any],
                    let members = json["members"] as? [Any], members.count == nodes.count
                else {
                    ready = false
                    break
                }
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("nodes did not all see \(nodes.count) members within \(timeout)")
    }

    subscript(_ index: Int) -> NodeProcess { nodes[index] }
}

/// Runs a suite inside one shared cluster, started before its first test and killed after its last.
struct ClusterScope: SuiteTrait, TestScoping {
    var size = 3

    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try await LocalCluster.start(size: size)
        defer { cluster.stop() }
        try await LocalCluster.$current.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == ClusterScope {
    /// A shared 3-node cluster for the suite.
    static var cluster: Self { ClusterScope() }
}

/// The response of one HTTP call, body collected.
struct HTTPReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
}

/// Small wrapper over AsyncHTTPClient with a bounded wait per call.
enum HTTP {
    static func send(
        _ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
        timeout: Duration = .seconds(30)
    ) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let seconds = Int64(timeout.components.seconds)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(max(1, seconds)))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return HTTPReply(
            status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
    }

    static func send(
        _ method: HTTPMethod, _ url: String, text: String, headers: [(String, String)] = []
    ) async throws -> HTTPReply {
        try await send(method, url, body: Array(text.utf8), headers: headers)
    }
}
