import ArgumentParser
import Foundation
import Testing

@testable import dhrt_admin

/// `--node` URLs (http and https) and `--cacert`.
@Suite struct NodeOptionsTests {
    @Test(arguments: [
        ("http://127.0.0.1:8701", "127.0.0.1", 8701),
        ("https://127.0.0.1:8701", "127.0.0.1", 8701),
        ("https://localhost", "localhost", 443),
        ("http://localhost", "localhost", 80),
    ])
    func nodeURLs_giveTheirHostAndPort(url: String, host: String, port: Int) throws {
        let parsed = try #require(NodeURL.hostAndPort(url))
        #expect(parsed.host == host && parsed.port == port)
    }

    @Test(arguments: ["127.0.0.1:8701", "ftp://127.0.0.1:21", "https://:8701", "https://127.0.0.1:99999"])
    func otherURLs_areRefused(url: String) {
        #expect(!NodeURL.isValid(url))
        #expect(throws: (any Error).self) { try NodeOptions.parse(["--node", url]) }
    }

    @Test func cacert_mustBeAReadablePEMCertificate() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-\(UUID()).pem").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: (any Error).self) { try NodeOptions.parse(["--cacert", path]) }
        try "not a certificate".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try NodeOptions.parse(["--node", "https://127.0.0.1:8701", "--cacert", path])
            Issue.record("a file without a certificate was accepted")
        } catch {
            #expect(NodeOptions.message(for: error).contains("holds no PEM certificate"))
        }
    }

    @Test func httpsNodes_keepTheirScheme() throws {
        let options = try NodeOptions.parse(["--node", "https://127.0.0.1:8701/"])
        #expect(options.client.baseURL == "https://127.0.0.1:8701")
        #expect(NodeURL.scheme(options.node) == "https")
        #expect(options.client.caFile == options.resolvedCACert)
    }

    @Test func bench_refusesHTTPS_withAReason() {
        #expect(throws: (any Error).self) { try Bench.parse(["--nodes", "https://127.0.0.1:8701"]) }
    }
}
