import Foundation
import Testing

/// TLS through real `dhrt-node` processes: HTTPS and RESP over TLS on the client ports (spoken by curl and
/// redis-cli), and mutual TLS on the inter-node port.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct TLSTests {
    let secret = "a-cluster-secret-for-tls-tests"

    /// curl's exit status, and its output with the status code on the last line (`-w`).
    func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let path = try #require(ToolProcess.find("curl"), "curl is required (scripts/test.sh installs it)")
        return try await ToolProcess.run(path, ["-sS", "--max-time", "10", "-w", "\n%{http_code}"] + arguments)
    }

    /// Polls `GET /v1/ready` over HTTPS with the CA until it answers 200 (bounded).
    func waitReady(_ url: String, ca: String, node: NodeProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard node.isRunning else { throw HarnessError("\(node.name) exited:\n\(node.logTail())") }
            if try await curl(["--cacert", ca, "\(url)/v1/ready"]).output.hasSuffix("200") { return }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw HarnessError("\(node.name) not ready over HTTPS within 60 s:\n\(node.logTail())")
    }

    @Test func anHTTPSNode_answersCurlWithTheCA_andRefusesPlainHTTPAndUnknownCAs() async throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let files = try tls.issue("n1")
        let ports = try LocalPorts.free(3)
        let node = try NodeProcess(
            name: "n1", httpPort: ports[0], clusterPort: ports[1], seeds: [], directory: tls.directory,
            extra: [
                "--memory", "--n", "1", "--tls-cert", files.certificate, "--tls-key", files.key,
                "--resp", "127.0.0.1:\(ports[2])",
            ])
        defer { node.kill() }
        let url = "https://127.0.0.1:\(ports[0])"
        try await waitReady(url, ca: tls.caPath, node: node)

        let put = try await curl([
            "--cacert", tls.caPath, "-X", "PUT", "--data-binary", "over https", "\(url)/v1/kv/c/k",
        ])
        #expect(put.status == 0 && put.output.hasSuffix("204"), "\(put)")
        let get = try await curl(["--cacert", tls.caPath, "\(url)/v1/kv/c/k"])
        #expect(get.status == 0 && get.output == "over https\n200", "\(get)")
        // localhost is in the certificate's names too.
        let byName = try await curl(["--cacert", tls.caPath, "https://localhost:\(ports[0])/v1/kv/c/k"])
        #expect(byName.output == "over https\n200", "\(byName)")

        // Plain HTTP on the HTTPS port: the TLS handshake fails and the connection closes, no answer.
        let plain = try await curl(["http://127.0.0.1:\(ports[0])/v1/kv/c/k"])
        #expect(plain.status != 0 && plain.output.hasSuffix("000"), "\(plain)")
        // Without the CA, curl cannot verify the node (exit 60: peer certificate cannot be authenticated).
        let unknown = try await curl(["\(url)/v1/kv/c/k"])
        #expect(unknown.status == 60, "\(unknown)")
        #expect(node.isRunning)

        if let redis = ToolProcess.find("redis-cli") {
            let tlsArgs = ["--tls", "--cacert", tls.caPath, "-h", "127.0.0.1", "-p", "\(ports[2])"]
            #expect(try await ToolProcess.run(redis, tlsArgs + ["SET", "c2", "over resp tls"]).output == "OK")
            #expect(try await ToolProcess.run(redis, tlsArgs + ["GET", "c2"]).output == "over resp tls")
            // A plain RESP client gets no answer from the TLS port.
            let plainRESP = try await ToolProcess.run(redis, ["-h", "127.0.0.1", "-p", "\(ports[2])", "PING"])
            #expect(!plainRESP.output.contains("PONG"), "\(plainRESP)")
        }
        #expect(node.isRunning)
    }

    @Test func aClusterWithMutualTLS_doesQuorumWritesAndReads() async throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let flags = try (1...3).map { try tls.clusterFlags("n\($0)") }
        let cluster = try await LocalCluster.start(size: 3, extra: ["--cluster-secret", secret]) { flags[$0] }
        defer { cluster.stop() }
        let put = try await HTTP.send(
            .PUT, "\(cluster[0].httpURL)/v1/kv/c/quorum", text: "replicated over tls", headers: [("X-Dhrt-W", "all")])
        #expect(put.status == 204, "\(put.text)")
        for index in 0..<3 {
            let get = try await HTTP.send(
                .GET, "\(cluster[index].httpURL)/v1/kv/c/quorum", headers: [("X-Dhrt-R", "all")])
            #expect(get.status == 200 && get.text == "replicated over tls", "n\(index + 1): \(get.status) \(get.text)")
        }
        let log = try String(contentsOfFile: cluster[0].logPath, encoding: .utf8)
        #expect(log.contains("cluster_tls=mutual"))
        #expect(!log.contains("refused inter-node connection"))
    }

    @Test func peersWithoutAValidCertificate_areRefused_andTheNodeKeepsServing() async throws {
        let tls = try TLSFixture()
        let rogueCA = try TLSFixture()
        defer {
            tls.remove()
            rogueCA.remove()
        }
        let flags = try tls.clusterFlags("n1")
        let cluster = try await LocalCluster.start(size: 1, extra: ["--cluster-secret", secret, "--n", "1"]) { _ in
            flags
        }
        defer { cluster.stop() }
        let seed = cluster[0].clusterAddress
        // One rogue trusts the cluster's CA but holds a certificate of another CA; the other speaks no TLS.
        let rogues: [(String, [String])] = [
            ("wrong-ca", try rogueCA.clusterFlags("wrong-ca", trusting: tls.caPath)),
            ("plain", []),
        ]
        for (name, extra) in rogues {
            let refusedBefore = refusals(cluster[0])
            let ports = try LocalPorts.free(2)
            let rogue = try NodeProcess(
                name: name, httpPort: ports[0], clusterPort: ports[1], seeds: [seed], directory: tls.directory,
                extra: ["--memory", "--cluster-secret", secret] + extra)
            defer { rogue.kill() }
            let deadline = ContinuousClock.now + .seconds(30)
            while refusals(cluster[0]) == refusedBefore, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(refusals(cluster[0]) > refusedBefore, "\(name) was not refused:\n\(cluster[0].logTail())")
            rogue.kill()
            #expect(cluster[0].isRunning)
            let status = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/status")
            #expect((status.object["members"] as? [Any])?.count == 1, "\(name) got in: \(status.text)")
            let put = try await HTTP.send(.PUT, "\(cluster[0].httpURL)/v1/kv/c/\(name)", text: "still serving")
            #expect(put.status == 204)
        }
    }

    /// The node's log lines that refuse an inter-node connection for its TLS handshake.
    private func refusals(_ node: NodeProcess) -> Int {
        let text = (try? String(contentsOfFile: node.logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter {
            $0.contains("refused inter-node connection") && $0.contains("TLS handshake failed")
        }.count
    }
}
