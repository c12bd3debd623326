import Foundation
import Testing

/// Sloppy quorum and hinted handoff with real processes: four nodes, N=3, so every key has one fallback.
@Suite(.serialized) struct HandoffTests {
    /// Writes made while a node is down: 5,000 by default (about 20 s in a debug build);
    /// `DHRT_HANDOFF_WRITES=1000` for a quicker run.
    static let writes = ProcessInfo.processInfo.environment["DHRT_HANDOFF_WRITES"].flatMap(Int.init) ?? 5_000

    @Test func writesDuringAnOutageReachTheReturningNode_andPrimariesOnlyRefusesWhileItIsDown() async throws {
        let cluster = try await LocalCluster.start(size: 4)
        defer { cluster.stop() }
        let clock = Phases("handoff")
        let down = cluster[3]
        down.kill()
        let others = Array(cluster.nodes.prefix(3))
        let owned = try await Handoff.write(Self.writes, prefix: "h", to: others, owner: down.name)
        clock.mark("wrote \(Self.writes) keys with \(down.name) down; \(owned.count) of them are its")
        #expect(!owned.isEmpty)
        let queued = try await Handoff.hintCount(on: others)
        #expect(queued >= owned.count, "every write for \(down.name) left a hint (\(queued) of \(owned.count))")

        // W=all is met by the fallback and says so; PW=all needs the down primary itself.
        var probed = false
        for index in 0..<64 where !probed {
            let url = "\(others[0].httpURL)/v1/kv/probe/p\(index)"
            let all = try await HTTP.send(.PUT, url, text: "all", headers: [("X-Dhrt-W", "all")])
            #expect(all.status == 204, "\(all.text)")
            let replicas = all.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",").map(String.init) ?? []
            guard replicas.contains(down.name), replicas.contains(others[0].name) else { continue }
            probed = true
            let hinted = all.headers.first(name: "X-Dhrt-Hinted") ?? ""
            #expect(hinted.contains("owner=\(down.name)"), "X-Dhrt-Hinted: \(hinted)")
            let primariesOnly = try await HTTP.send(.PUT, url, text: "pw", headers: [("X-Dhrt-PW", "all")])
            #expect(primariesOnly.status == 503, "\(primariesOnly.text)")
            #expect(primariesOnly.object["error"] as? String == "unavailable")
        }
        #expect(probed, "no probe key had both \(others[0].name) and \(down.name) as replicas")

        let restarted = try NodeProcess(
            name: down.name, httpPort: down.httpPort, clusterPort: down.clusterPort, seeds: [],
            directory: cluster.directory)
        defer { restarted.kill() }
        try await poll(.seconds(60), "\(down.name) serving") {
            try await HTTP.send(.GET, "\(restarted.httpURL)/health", timeout: .seconds(2)).status == 200 ? true : nil
        }
        let seenUp = try await Handoff.waitUntilSeenUp(down.name, by: others)
        clock.mark("\(down.name) seen up by every holder")
        // Replay starts within 10 s of the owner being seen up.
        try await poll(.seconds(10), "hint replay starting") {
            try await Handoff.replayed(on: others) > 0 ? true : nil
        }
        try await poll(.seconds(120), "every hint replayed") {
            try await Handoff.hintCount(on: others) == 0 ? true : nil
        }
        clock.mark("replayed \(queued) hints, \(ContinuousClock.now - seenUp) after \(down.name) was seen up")

        // The returned node alone holds every write meant for it.
        for node in others { node.kill() }
        try await Handoff.verifyAlone(owned, on: restarted)
        clock.mark("verified \(owned.count) keys with R=1 on \(down.name) alone")
    }

    /// A write through a node outside the key's preference list (forwarded to a replica) answers as a direct one:
    /// `X-Dhrt-PW` applies, `X-Dhrt-Hinted` names the fallback, headers and errors are the same.
    @Test func aForwardedWriteAnswersAsADirectOne_primariesOnlyAndHintsIncluded() async throws {
        let cluster = try await LocalCluster.start(size: 4)
        defer { cluster.stop() }
        let down = cluster[3]
        down.kill()
        let entry = cluster[0]
        let others = Array(cluster.nodes.prefix(3))
        // Judged down everywhere, so that PW=all is refused before anything is stored, on every coordinator.
        _ = try await Handoff.waitUntilSeen(down.name, as: "down", by: others)
        var checked = 0
        for index in 0..<64 where checked < 3 {
            let path = "/v1/kv/forwarded/f\(index)"
            let all = try await HTTP.send(.PUT, entry.httpURL + path, text: "all", headers: [("X-Dhrt-W", "all")])
            let replicas = all.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",").map(String.init) ?? []
            // With four nodes and N=3, a key the entry node holds no replica of has `down` as one, and the entry
            // node is its only fallback.
            guard !replicas.contains(entry.name) else { continue }
            checked += 1
            #expect(replicas.contains(down.name), "\(replicas)")
            #expect(all.status == 204, "\(all.text)")
            #expect(all.headers.first(name: "X-Dhrt-Hinted") == "\(entry.name);owner=\(down.name)")
            #expect(all.headers.first(name: "X-Dhrt-Acks") == "3")
            #expect(!(all.headers.first(name: "X-Dhrt-Context") ?? "").isEmpty)
            let direct = others.first { $0.name != entry.name && replicas.contains($0.name) }!
            let allDirect = try await HTTP.send(
                .PUT, direct.httpURL + path, text: "all", headers: [("X-Dhrt-W", "all")])
            #expect(allDirect.status == 204)
            #expect(allDirect.headers.first(name: "X-Dhrt-Hinted") == all.headers.first(name: "X-Dhrt-Hinted"))

            // PW=all needs the down primary itself: 503, with the same error and headers either way.
            let pw = try await HTTP.send(.PUT, entry.httpURL + path, text: "pw", headers: [("X-Dhrt-PW", "all")])
            let pwDirect = try await HTTP.send(
                .PUT, direct.httpURL + path, text: "pw", headers: [("X-Dhrt-PW", "all")])
            #expect(pw.status == 503, "\(pw.text)")
            #expect(pw.status == pwDirect.status)
            #expect(pw.object["error"] as? String == "unavailable")
            #expect(pw.object["detail"] as? String == pwDirect.object["detail"] as? String)
            for header in ["X-Dhrt-Acks", "X-Dhrt-Replicas", "X-Dhrt-Hinted"] {
                #expect(pw.headers.first(name: header) == pwDirect.headers.first(name: header), "\(header)")
            }
            #expect(pw.headers.first(name: "X-Dhrt-Replicas") == replicas.joined(separator: ","))

            // A bad PW is a 400 before anything is forwarded.
            let bad = try await HTTP.send(.PUT, entry.httpURL + path, text: "x", headers: [("X-Dhrt-PW", "9")])
            #expect(bad.status == 400, "\(bad.text)")
            #expect(bad.object["error"] as? String == "bad_consistency")

            // A refused precondition carries no quorum headers, forwarded or not.
            let create = try await HTTP.send(
                .PUT, entry.httpURL + path, text: "again", headers: [("If-None-Match", "*")])
            let createDirect = try await HTTP.send(
                .PUT, direct.httpURL + path, text: "again", headers: [("If-None-Match", "*")])
            #expect(create.status == 412, "\(create.text)")
            #expect(createDirect.status == 412)
            #expect(create.headers.first(name: "X-Dhrt-Acks") == createDirect.headers.first(name: "X-Dhrt-Acks"))
        }
        #expect(checked == 3, "only \(checked) of 64 keys have no replica on \(entry.name)")
    }

    @Test func aHintHolderKilledMidReplay_resumes_andLosesAndDuplicatesNothing() async throws {
        // A slow replay (20 hints a second per owner), so that the holders are caught in the middle.
        let cluster = try await LocalCluster.start(size: 4, extra: ["--hint-replay-rate", "20"])
        defer { cluster.stop() }
        let down = cluster[3]
        down.kill()
        let others = Array(cluster.nodes.prefix(3))
        let owned = try await Handoff.write(300, prefix: "m", to: others, owner: down.name)
        let restarted = try NodeProcess(
            name: down.name, httpPort: down.httpPort, clusterPort: down.clusterPort, seeds: [],
            directory: cluster.directory)
        defer { restarted.kill() }
        // The first holder seen replaying is killed while hints are left, then restarted on its data.
        let holder = try await poll(.seconds(60), "a holder replaying") { () async throws -> NodeProcess? in
            for node in others {
                let status = try await Handoff.hints(on: node)
                if status.replayed > 0, status.count > 0 { return node }
            }
            return nil
        }
        holder.kill()
        let revived = try NodeProcess(
            name: holder.name, httpPort: holder.httpPort, clusterPort: holder.clusterPort, seeds: [],
            directory: cluster.directory, extra: ["--hint-replay-rate", "20"])
        defer { revived.kill() }
        let holders = others.map { $0.name == holder.name ? revived : $0 }
        try await poll(.seconds(60), "\(holder.name) back with its hints") {
            try await Handoff.hints(on: revived).count > 0 ? true : nil
        }
        try await poll(.seconds(120), "every hint replayed after the restart") {
            try await Handoff.hintCount(on: holders) == 0 ? true : nil
        }
        for node in holders { node.kill() }
        try await Handoff.verifyAlone(owned, on: restarted)
    }
}

/// Helpers of the handoff tests.
enum Handoff {
    struct Written: Sendable {
        var key: String
    }

    /// Writes `count` keys with W=quorum, spread over `nodes`; returns those whose replicas include `owner`.
    static func write(_ count: Int, prefix: String, to nodes: [NodeProcess], owner: String) async throws -> [Written] {
        let owned = Findings()
        let failures = Findings()
        let tickets = Tickets()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while true {
                        let index = tickets.next()
                        if index > count { return }
                        let node = nodes[index % nodes.count]
                        let key = "\(prefix)\(index)"
                        let reply = try await HTTP.send(
                            .PUT, "\(node.httpURL)/v1/kv/handoff/\(key)", text: "v-\(key)",
                            headers: [("X-Dhrt-W", "quorum")])
                        guard reply.status == 204 else {
                            failures.add("\(key): \(reply.status) \(reply.text.prefix(200))")
                            continue
                        }
                        let replicas = reply.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",") ?? []
                        if replicas.contains(Substring(owner)) {
                            owned.add(key)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(failures.all.isEmpty, "writes failed during the outage: \(failures.all.prefix(5))")
        return owned.all.map { Written(key: $0) }
    }

    /// `hints` of `/v1/status`.
    static func hints(on node: NodeProcess) async throws -> (count: Int, replayed: Int) {
        let reply = try await HTTP.send(.GET, "\(node.httpURL)/v1/status", timeout: .seconds(10))
        guard reply.status == 200, let hints = reply.object["hints"] as? [String: Any],
            let count = hints["count"] as? Int, let replayed = hints["replayed"] as? Int
        else { throw HarnessError("no hints in the status of \(node.name): \(reply.text.prefix(200))") }
        return (count, replayed)
    }

    static func hintCount(on nodes: [NodeProcess]) async throws -> Int {
        var total = 0
        for node in nodes { total += try await hints(on: node).count }
        return total
    }

    static func replayed(on nodes: [NodeProcess]) async throws -> Int {
        var total = 0
        for node in nodes { total += try await hints(on: node).replayed }
        return total
    }

    /// Waits until every node's detector sees `name` up; returns when that happened.
    static func waitUntilSeenUp(_ name: String, by nodes: [NodeProcess]) async throws -> ContinuousClock.Instant {
        try await waitUntilSeen(name, as: "up", by: nodes)
    }

    /// Waits until every node's detector judges `name` as `liveness`; returns when that happened.
    static func waitUntilSeen(_ name: String, as liveness: String, by nodes: [NodeProcess]) async throws
        -> ContinuousClock.Instant
    {
        try await poll(.seconds(60), "\(name) seen \(liveness)") { () async throws -> Bool? in
            for node in nodes {
                let reply = try await HTTP.send(.GET, "\(node.httpURL)/v1/status", timeout: .seconds(10))
                let members = reply.object["members"] as? [[String: Any]] ?? []
                guard
                    members.contains(where: { $0["name"] as? String == name && $0["liveness"] as? String == liveness })
                else { return nil }
            }
            return true
        }
        return ContinuousClock.now
    }

    /// Reads every key with R=1 from `node`, with every other node stopped: each has its value, no siblings.
    static func verifyAlone(_ written: [Written], on node: NodeProcess) async throws {
        let wrong = Findings()
        let tickets = Tickets()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while true {
                        let index = tickets.next()
                        if index > written.count { return }
                        let key = written[index - 1].key
                        let reply = try await HTTP.send(
                            .GET, "\(node.httpURL)/v1/kv/handoff/\(key)", headers: [("X-Dhrt-R", "1")])
                        if reply.status != 200 || reply.text != "v-\(key)" {
                            wrong.add("\(key): \(reply.status) \(reply.text.prefix(100))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(wrong.all.isEmpty, "\(wrong.all.count) keys wrong on \(node.name) alone, e.g. \(wrong.all.prefix(5))")
    }
}
