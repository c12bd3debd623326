import Foundation
import Testing

/// `dhrt-admin kv …` as a person runs it, against a real node: what it prints and its exit status.
@Suite struct AdminKVTests {
    static let token = "admin-token-0123456789ab"

    @Test func kvCommands_printWhatTheNodeSaid() async throws {
        let cluster = try await LocalCluster.start(
            size: 1, extra: ["--n", "1", "--client-token", "client-token-0123456789", "--admin-token", Self.token],
            token: Self.token)
        defer { cluster.stop() }
        let node = ["--node", cluster[0].httpURL, "--token", Self.token]
        func admin(_ arguments: String...) async throws -> (status: Int32, output: String) {
            try await Self.run(arguments + node)
        }

        #expect(
            try await admin("kv", "set", "notes", "a/b é", "hello", "--content-type", "text/plain") == (
                0, "ok, acks 1, replicas n1"
            ))
        #expect(try await admin("kv", "get", "notes", "a/b é") == (0, "hello"))
        let verbose = try await admin("kv", "get", "notes", "a/b é", "--verbose")
        #expect(
            verbose.output.split(separator: "\n").map { $0.split(separator: ":")[0] } == [
                "hello", "context", "replicas", "acks", "repaired",
            ])
        #expect(verbose.output.hasSuffix("replicas: n1\nacks: 1\nrepaired: 0"))
        let json =
            try JSONSerialization.jsonObject(
                with: Data(try await admin("kv", "get", "notes", "a/b é", "--json").output.utf8))
            as? [String: Any]
        #expect(json?["status"] as? Int == 200)
        #expect(json?["values"] as? [String] == ["hello"])
        #expect(json?["acks"] as? String == "1")

        // Two blind writes of one key are siblings; a write with their context resolves them.
        #expect(try await admin("kv", "set", "notes", "doc", "one").status == 0)
        #expect(try await admin("kv", "set", "notes", "doc", "two").status == 0)
        let siblings = try await admin("kv", "get", "notes", "doc")
        let lines = siblings.output.split(separator: "\n").map(String.init)
        #expect(
            lines.prefix(3) == [
                "2 siblings (concurrent writes); write with --context to resolve:", "  [1] one", "  [2] two",
            ])
        let context = try #require(lines.last?.split(separator: " ").last.map(String.init))
        #expect(try await admin("kv", "set", "notes", "doc", "merged", "--context", context).status == 0)
        #expect(try await admin("kv", "get", "notes", "doc") == (0, "merged"))

        #expect(try await admin("kv", "list", "notes", "--limit", "1") == (0, "a/b é\n… more: --cursor YS9iIMOp"))
        #expect(try await admin("kv", "list", "notes", "--cursor", "YS9iIMOp") == (0, "doc"))
        #expect(
            try await admin("kv", "list", "notes", "--limit", "1", "--json") == (
                0, #"{"collection":"notes","keys":["a/b é"],"next":"YS9iIMOp"}"#
            ))
        #expect(try await admin("kv", "del", "notes", "doc") == (0, "ok, acks 1, replicas n1"))
        #expect(try await admin("kv", "get", "notes", "doc") == (1, "Error: 404: not_found (key not found)"))
        #expect(
            try await admin("kv", "get", "notes", "doc", "--r", "2") == (
                1, "Error: 400: bad_consistency (X-Dhrt-R: 2 exceeds the replication factor N=1)"
            ))
        #expect(
            try await admin("kv", "list", "notes", "--cursor", "!!") == (
                1, "Error: 400: bad_cursor (cursor is not the 'next' of a listing page)"
            ))
        let denied = try await Self.run(
            ["kv", "get", "notes", "doc", "--node", cluster[0].httpURL, "--token", "wrong-token-0123456789"])
        #expect(denied.status == 1)
        #expect(denied.output.hasPrefix("Error: 401: unauthorized"))
    }

    /// Runs dhrt-admin (beside dhrt-node) to its end, killed after 30 s; its status and output, trimmed.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let admin = URL(fileURLWithPath: try NodeProcess.binary()).deletingLastPathComponent()
            .appendingPathComponent("dhrt-admin").path
        return try await ToolProcess.run(admin, arguments, limit: .seconds(30))
    }
}
