import ArgumentParser
import Foundation

/// `dhrt-admin cluster test`: a smoke test of replication and quorums on the running local cluster.
struct ClusterTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Write on node 1, read on 2 and 3, kill the last node, write and read with quorum, restart it.",
        discussion: "Needs a running cluster of at least 3 nodes (dhrt-admin cluster start -n 3)."
    )

    @OptionGroup var location: ClusterDirectory

    @Option(help: "Seconds to wait for the restarted node.")
    var timeout: Double = 30

    func run() async throws {
        let cluster = location.cluster
        let layout = try cluster.loadLayout()
        guard layout.nodes >= 3 else { throw AdminError.failed("cluster test needs at least 3 nodes") }
        for index in layout.indices where cluster.runningPID(index) == nil {
            throw AdminError.failed("\(layout.name(index)) is not running; start the cluster first")
        }
        let key = "cluster-test-\(UInt32.random(in: 0...UInt32.max))"
        let quorum = [("X-Dhrt-Consistency", "quorum")]
        let client = { (index: Int) in cluster.kvClient(index, layout: layout) }
        let last = layout.nodes
        var steps = StepPrinter()

        try await steps.run("PUT \(key)=one on n1") {
            _ = try await client(1).write(
                collection: "default", key: key, value: Array("one".utf8), contentType: nil, context: nil,
                quorum: quorum)
        }
        for index in [2, 3] {
            try await steps.run("GET on n\(index) returns one") {
                try await ClusterTest.expectValue(client(index), key: key, "one", headers: quorum)
            }
        }
        try await steps.run("kill -9 n\(last)") {
            guard let pid = cluster.runningPID(last) else { throw AdminError.failed("n\(last) already gone") }
            kill(pid, SIGKILL)
            for _ in 0..<100 where cluster.runningPID(last) != nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await steps.run("PUT \(key)=two on n1 with quorum while n\(last) is down") {
            let read = try await client(1).read(collection: "default", key: key, quorum: quorum)
            _ = try await client(1).write(
                collection: "default", key: key, value: Array("two".utf8), contentType: nil, context: read.context,
                quorum: quorum)
        }
        try await steps.run("GET on n2 with quorum returns two") {
            try await ClusterTest.expectValue(client(2), key: key, "two", headers: quorum)
        }
        try await steps.run("restart n\(last)") {
            _ = try cluster.startNode(last, layout: layout)
            try await ClusterStart.waitReady(cluster, layout: layout, indices: [last], seconds: timeout)
        }
        try await steps.run("GET on n\(last) with quorum returns two") {
            try await ClusterTest.expectValue(client(last), key: key, "two", headers: quorum)
        }
        _ = try? await client(1).delete(collection: "default", key: key, context: nil, quorum: quorum)
        print("cluster test passed (\(steps.count) steps)")
    }

    static func expectValue(_ client: KVClient, key: String, _ expected: String, headers: [(String, String)])
        async throws
    {
        let read = try await client.read(collection: "default", key: key, quorum: headers)
        let values = read.values.map { String(decoding: $0, as: UTF8.self) }
        guard values == [expected] else {
            throw AdminError.failed("expected \(expected), got \(values.joined(separator: " | "))")
        }
    }
}

/// Prints one line per step, with its outcome and time.
struct StepPrinter {
    private(set) var count = 0

    mutating func run(_ title: String, _ body: () async throws -> Void) async throws {
        count += 1
        let start = Date()
        do {
            try await body()
        } catch {
            print("✗ \(count). \(title): \(error)")
            throw ExitCode.failure
        }
        print("✓ \(count). \(title) (\(Int(Date().timeIntervalSince(start) * 1000)) ms)")
    }
}
