import Foundation
import Testing

/// `dhrt-admin cluster start --secure`: a local CA, HTTPS, tokens and mutual cluster TLS, reached with curl and
/// `dhrt-admin --cacert`.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SecureClusterTests {
    @Test func secureStart_servesHTTPSWithItsCA_toCurlAndDhrtAdmin() async throws {
        let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let admin = binaries.appendingPathComponent("dhrt-admin").path
        let node = binaries.appendingPathComponent("dhrt-node").path
        try #require(FileManager.default.isExecutableFile(atPath: admin), "build dhrt-admin first")
        let curl = try #require(ToolProcess.find("curl"), "curl is required (scripts/test.sh installs it)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-secure-\(UUID())").path
        defer {
            _ = try? BenchClusterTests.run(admin, ["cluster", "stop", "--dir", directory, "--grace", "5"], seconds: 30)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let http = try #require(BenchClusterTests.freePortRange(count: 3, from: 21_000))
        let cluster = try #require(BenchClusterTests.freePortRange(count: 3, from: http + 100))
        let start = try await ToolProcess.run(
            admin,
            [
                "cluster", "start", "-n", "3", "--secure", "--dir", directory, "--base-http", "\(http)",
                "--base-cluster",
                "\(cluster)", "--memory", "--node-binary", node, "--timeout", "60",
            ],
            limit: .seconds(90))
        try #require(start.status == 0, "cluster start --secure failed: \(start.output)")
        let ca = "\(directory)/tls/ca.pem"
        #expect(start.output.contains("started n1 pid") && start.output.contains("https://127.0.0.1:\(http)"))
        #expect(start.output.contains("curl --cacert \(ca) https://127.0.0.1:\(http)/v1/ready"), "\(start.output)")
        let token = try #require(
            start.output.split(separator: "\n").first { $0.hasPrefix("admin token:") }?.split(separator: " ").last)

        let ready = try await ToolProcess.run(
            curl,
            [
                "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca,
                "https://127.0.0.1:\(http + 1)/v1/ready",
            ], limit: .seconds(20))
        #expect(ready.output == "200", "\(ready.output)")

        let node1 = "https://127.0.0.1:\(http)"
        let set = try await ToolProcess.run(
            admin,
            [
                "kv", "set", "k", "secure value", "--node", node1, "--cacert", ca, "--token", String(token),
                "--w", "all",
            ], limit: .seconds(30))
        #expect(set.status == 0, "\(set.output)")
        let get = try await ToolProcess.run(
            admin,
            [
                "kv", "get", "k", "--node", "https://localhost:\(http + 2)", "--cacert", ca, "--token",
                String(token), "--r", "all",
            ], limit: .seconds(30))
        #expect(get.status == 0 && get.output.contains("secure value"), "\(get.output)")
        // Without the CA the node's certificate is not trusted, and the error says what to pass.
        let untrusted = try await ToolProcess.run(
            admin, ["kv", "get", "k", "--node", node1, "--token", String(token)], limit: .seconds(30))
        #expect(untrusted.status != 0 && untrusted.output.contains("pass --cacert"), "\(untrusted.output)")
        let plain = try await ToolProcess.run(
            admin, ["kv", "get", "k", "--node", "http://127.0.0.1:\(http)", "--token", String(token)],
            limit: .seconds(30))
        #expect(plain.status != 0, "\(plain.output)")

        let status = try await ToolProcess.run(
            admin, ["cluster", "status", "--dir", directory, "--json"], limit: .seconds(30))
        let compact = status.output.replacingOccurrences(of: " ", with: "")
        #expect(status.status == 0 && compact.contains("\"healthy\":true"), "\(status.output)")
        #expect(!compact.contains("\"healthy\":false"), "\(status.output)")
    }
}
