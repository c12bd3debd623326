import Foundation
import Testing

@testable import dhrt_node

/// A node that lost writes it had already replicated coordinates under a new actor id, so its next write of
/// such a key cannot reuse a dot the other replicas hold for another value; a clean restart keeps the id.
@Suite(.serialized) struct ActorIncarnationTests {
    @Test func aNodeThatLostItsWritesCoordinatesUnderANewActor_andNoAcknowledgedWriteIsDropped() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let n1 = cluster[0]
        let url = "/v1/kv/incarnation/doc"
        // N=3 on 3 nodes: n1 holds a replica of every key, so it coordinates; W=all puts it on every replica.
        let first = try await HTTP.send(.PUT, n1.httpURL + url, text: "first", headers: [("X-Dhrt-W", "all")])
        #expect(first.status == 204)
        n1.kill()
        // What a power loss before the fsync, or a replaced disk, leaves: the ring, not the collection's files.
        try FileManager.default.removeItem(atPath: "\(n1.directory)/n1/incarnation")
        let restarted = try n1.restart()
        defer { restarted.kill() }
        try await FailureScenarios.CrashRestartTests.waitHealthy(restarted)

        let second = try await HTTP.send(
            .PUT, restarted.httpURL + url, text: "second", headers: [("X-Dhrt-W", "all")])
        #expect(second.status == 204, "\(second.text)")
        // Both blind writes were acknowledged and neither saw the other: both must be there, as siblings.
        // n2 may still hold its connection to n1's first process: retried, bounded, while it reconnects.
        var read = try await HTTP.send(.GET, cluster[1].httpURL + url, headers: [("X-Dhrt-R", "all")])
        let deadline = ContinuousClock.now + .seconds(20)
        while read.status == 503, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            read = try await HTTP.send(.GET, cluster[1].httpURL + url, headers: [("X-Dhrt-R", "all")])
        }
        #expect(read.status == 300, "expected two siblings, got \(read.status) \(read.text)")
        let values = (read.object["siblings"] as? [[String: Any]] ?? []).compactMap { sibling in
            (sibling["value"] as? String).flatMap { Data(base64Encoded: $0) }.map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        #expect(Set(values) == ["first", "second"])
    }

    @Test func aCleanRestartKeepsTheActor_aKillChangesIt() async throws {
        let cluster = try await LocalCluster.start(size: 1)
        defer { cluster.stop() }
        let node = cluster[0]
        let path = "\(node.directory)/n1/ACTOR"
        let running = try #require(ActorRecord(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        #expect(!running.clean)
        #expect(await node.terminate())
        let stopped = try #require(ActorRecord(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        #expect(stopped.clean && stopped.suffix == running.suffix)

        let again = try node.restart()
        defer { again.kill() }
        try await FailureScenarios.CrashRestartTests.waitHealthy(again)
        let kept = try #require(ActorRecord(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        #expect(kept.suffix == running.suffix && !kept.clean)
        again.kill()
        let third = try again.restart()
        defer { third.kill() }
        try await FailureScenarios.CrashRestartTests.waitHealthy(third)
        let changed = try #require(ActorRecord(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        #expect(changed.suffix != running.suffix)
    }

    @Test func theRecordedIdIsKeptOnlyAfterACleanShutdownOfTheSameName() {
        let clean = ActorRecord(ActorIdentity(name: "n1", suffix: 0xabc), clean: true)
        #expect(ActorIdentity.next(recorded: clean, name: "n1", fresh: 7).suffix == 0xabc)
        #expect(ActorIdentity.next(recorded: clean, name: "n2", fresh: 7).suffix == 7)
        let running = ActorRecord(ActorIdentity(name: "n1", suffix: 0xabc), clean: false)
        #expect(ActorIdentity.next(recorded: running, name: "n1", fresh: 7).suffix == 7)
        #expect(ActorIdentity.next(recorded: nil, name: "n1", fresh: 7).actor == "n1~7")
        #expect(ActorRecord(bytes: clean.bytes) == clean)
        #expect(ActorRecord(bytes: Array("dhrt-actor n1 0 clean\n".utf8)) == nil)
        #expect(ActorRecord(bytes: Array("garbage".utf8)) == nil)
    }
}
