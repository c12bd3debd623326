import Foundation
import Testing

/// Runs `dhrt-admin bench` for 2 seconds against a real local 3-node cluster started by `dhrt-admin cluster`.
@Suite(.serialized) struct BenchClusterTests {
    @Test func bench_twoSecondsOnThreeNodes_reportsEverySettingWithOrderedPercentiles() throws {
        let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let admin = binaries.appendingPathComponent("dhrt-admin").path
        let node = binaries.appendingPathComponent("dhrt-node").path
        try #require(FileManager.default.isExecutableFile(atPath: admin), "build dhrt-admin first")
        try #require(FileManager.default.isExecutableFile(atPath: node), "build dhrt-node first")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let clusterDir = directory.appendingPathComponent("cluster").path
        defer {
            _ = try? Self.run(admin, ["cluster", "stop", "--dir", clusterDir, "--grace", "5"], seconds: 30)
            try? FileManager.default.removeItem(at: directory)
        }
        let http = try #require(Self.freePortRange(count: 3, from: 20_000))
        let cluster = try #require(Self.freePortRange(count: 3, from: http + 100))
        let start = try Self.run(
            admin,
            ["cluster", "start", "-n", "3", "--dir", clusterDir, "--base-http", "\(http)", "--base-cluster",
                "\(cluster)", "--memory", "--node-binary", node, "--timeout", "60"],
            seconds: 90)
        try #require(start.status == 0, "cluster start failed: \(start.output)")

        let json = directory.appendingPathComponent("bench.json").path
        let svg = directory.appendingPathComponent("bench.svg").path
        let nodes = (0..<3).map { "http://127.0.0.1:\(http + $0)" }.joined(separator: ",")
        let bench = try Self.run(
            admin,
            ["bench", "--nodes", nodes, "--duration", "2s", "--warmup", "500ms", "--keys", "1000",
                "--connections", "8", "--consistency", "one,quorum,all", "--json", json, "--plot", svg],
            seconds: 120)
        try #require(bench.status == 0, "bench failed: \(bench.output)")

        let data = try Data(contentsOf: URL(fileURLWithPath: json))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.map { $0["setting"] as? String } == ["one", "quorum", "all"])
        for result in results {
            #expect((result["ops"] as? Int ?? 0) > 0)
            #expect((result["ops_per_sec"] as? Double ?? 0) > 0)
            let latency = try #require(result["latency_ms"] as? [String: Double])
            let ordered = ["p50", "p90", "p99", "p999", "max"].compactMap { latency[$0] }
            #expect(ordered.count == 5)
            #expect(ordered == ordered.sorted())
            #expect(ordered[0] > 0)
        }
        let plot = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(plot.components(separatedBy: "class=\"series\"").count - 1 == 3)
    }

    /// Runs a program to completion (killed after `seconds`), returning its status and output.
    static func run(_ path: String, _ arguments: [String], seconds: Double) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-out-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // waitpid directly: the child's exit is seen even where Process's own monitoring lags.
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        var exited = false
        while !exited && Date() < deadline {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || result < 0 { exited = true } else { Thread.sleep(forTimeInterval: 0.05) }
        }
        if !exited {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            status = 1 << 8
        }
        let code = (status >> 8) & 0xFF
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return (code, text)
    }

    /// The first of `count` consecutive free loopback ports at or after `from`.
    static func freePortRange(count: Int, from: Int) -> Int? {
        var base = from + Int.random(in: 0..<2000)
        for _ in 0..<200 {
            if (base..<(base + count)).allSatisfy(isFree) { return base }
            base += count + 7
        }
        return nil
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
