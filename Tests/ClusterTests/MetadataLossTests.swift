import Coordinator
import Foundation
import Testing

/// A node whose metadata log was lost (its ring kept) abstains from the log's votes, says so in /v1/status,
/// and keeps abstaining across restarts; it still serves data on its ring.
@Suite(.serialized) struct MetadataLossTests {
    static let warning = "lost its metadata log and does not vote"

    @Test func aNodeThatLostItsMetadataLog_abstains_saysSo_andStillServes() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let n3 = cluster[2]
        let path = "\(n3.directory)/n3/METADATA"
        #expect(try Self.storedState(path).abstains == false)
        n3.kill()
        try FileManager.default.removeItem(atPath: path)
        var restarted = try n3.restart()
        defer { restarted.kill() }
        try await FailureScenarios.CrashRestartTests.waitHealthy(restarted)
        #expect(try Self.storedState(path).abstains, "the flag is stored, so the next start abstains too")
        #expect(try await Self.warnings(restarted.httpURL).contains { $0.contains(Self.warning) })
        #expect(try await !Self.warnings(cluster[0].httpURL).contains { $0.contains(Self.warning) })

        restarted.kill()
        restarted = try restarted.restart()
        try await FailureScenarios.CrashRestartTests.waitHealthy(restarted)
        #expect(try await Self.warnings(restarted.httpURL).contains { $0.contains(Self.warning) })
        let put = try await HTTP.send(
            .PUT, restarted.httpURL + "/v1/kv/c/k", text: "v", headers: [("X-Dhrt-W", "quorum")])
        #expect(put.status == 204, "\(put.text)")
    }

    static func storedState(_ path: String) throws -> MetadataState {
        try MetadataState.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    static func warnings(_ url: String) async throws -> [String] {
        try await HTTP.send(.GET, url + "/v1/status").object["warnings"] as? [String] ?? []
    }
}
