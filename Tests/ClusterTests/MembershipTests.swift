import Foundation
import Synchronization
import Testing

/// Joins, leaves and failures of real processes: only planned partitions move, nothing acknowledged is lost,
/// requests keep succeeding, interrupted transfers resume, a stale ring catches up.
@Suite(.serialized) struct MembershipTests {
    /// Keys loaded before the join: 5,000 by default (the debug build loads and reads about 500 a second);
    /// `DHRT_MEMBERSHIP_KEYS=20000` for the full-size run.
    static let keys = ProcessInfo.processInfo.environment["DHRT_MEMBERSHIP_KEYS"].flatMap(Int.init) ?? 5_000

    @Test func aJoinAndALeave_underLoad_moveOnlyPlannedPartitions_andLoseNothing() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let (n1, n2, n3) = (cluster[0], cluster[1], cluster[2])
        let clock = Phases("join and leave")
        try await Load.write(Self.keys, prefix: "k", to: cluster.nodes)
        clock.mark("loaded \(Self.keys) keys")
        let before = try await RingDoc.fetch(n1)
        #expect(before.pending.isEmpty)

        // A fifth name that sorts first, as in the report that recomputed rings lost keys this way.
        let ports = try LocalPorts.free(2)
        let joiner = try NodeProcess(
            name: "a0", httpPort: ports[0], clusterPort: ports[1], seeds: [], directory: cluster.directory,
            extra: ["--join", n2.clusterAddress])
        defer { joiner.kill() }
        let load = Load(nodes: [n1, n2, n3], readKeys: Self.keys)
        let traffic = Task { await load.run() }
        let planned = try await RingDoc.waitForPlan(on: n1, timeout: .seconds(60))
        clock.mark("join committed")
        #expect(!planned.pending.isEmpty)
        #expect(planned.pending.count <= (256 + 3) / 4, "a join moves at most ⌈Q/(S+1)⌉ partitions")
        #expect(planned.pending.allSatisfy { $0.to == "a0" })
        let after = try await RingDoc.waitUntilSettled(on: n1, members: 4, after: planned.epoch, timeout: .seconds(120))
        clock.mark("join complete")
        let moved = before.owners.indices.filter { before.owners[$0] != after.owners[$0] }
        #expect(Set(moved) == Set(planned.pending.map(\.partition)), "only the planned partitions moved")
        #expect(moved.allSatisfy { after.owners[$0] == "a0" })
        try await Load.verify(Self.keys, prefix: "k", on: [joiner, n3])
        clock.mark("verified")

        // A leave moves only the leaver's partitions; its keys stay readable.
        let leave = try await HTTP.send(.POST, "\(n3.httpURL)/v1/cluster/leave?node=n2")
        #expect(leave.status == 200, "\(leave.text)")
        #expect(try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/commit").status == 200)
        let left = try await RingDoc.waitUntilSettled(
            on: n1, members: 4, after: after.epoch, timeout: .seconds(120))
        #expect(left.state["n2"] == "left")
        let leaverMoved = after.owners.indices.filter { after.owners[$0] != left.owners[$0] }
        #expect(leaverMoved.allSatisfy { after.owners[$0] == "n2" })
        #expect(!left.owners.contains("n2"))
        clock.mark("leave complete")
        try await Load.verify(Self.keys, prefix: "k", on: [n1, joiner])
        clock.mark("verified")

        // A replace gives a fresh node exactly the replaced member's partitions.
        let more = try LocalPorts.free(2)
        let newcomer = try NodeProcess(
            name: "n5", httpPort: more[0], clusterPort: more[1], seeds: [], directory: cluster.directory)
        defer { newcomer.kill() }
        let staged = try await poll(.seconds(60), "n5 never answered the replace") { () async throws -> HTTPReply? in
            let reply = try await HTTP.send(
                .POST, "\(joiner.httpURL)/v1/cluster/replace?old=n3&new=\(newcomer.clusterAddress)")
            return reply.status == 200 ? reply : nil
        }
        #expect((staged.object["transfers"] as? [Any])?.count == left.owners.filter { $0 == "n3" }.count)
        #expect(try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/commit").status == 200)
        let replaced = try await RingDoc.waitUntilSettled(
            on: n1, members: 4, after: left.epoch, timeout: .seconds(120))
        #expect(replaced.state["n3"] == "left" && replaced.state["n5"] == "up")
        for partition in left.owners.indices {
            let expected = left.owners[partition] == "n3" ? "n5" : left.owners[partition]
            #expect(replaced.owners[partition] == expected, "partition \(partition) moved though n3 did not own it")
        }
        load.stop()
        let (requests, failures) = await traffic.value
        clock.mark("replace complete; \(requests) requests under load through the join, leave and replace")
        #expect(requests > 0)
        #expect(failures.isEmpty, "requests failed during the changes: \(failures.prefix(5))")
        try await Load.verify(Self.keys, prefix: "k", on: [newcomer])
        try await Load.verify(load.written, prefix: "live", on: [newcomer, joiner])
    }

    @Test func aReceiverKilledMidTransfer_resumesFromItsCheckpoint_andAStaleRingCatchesUp() async throws {
        let cluster = try await LocalCluster.start(size: 3)
        defer { cluster.stop() }
        let n1 = cluster[0]
        try await Load.write(4_000, prefix: "r", to: cluster.nodes, value: String(repeating: "x", count: 200))
        let ports = try LocalPorts.free(2)
        // Small batches, one partition at a time: slow enough to be caught in the middle.
        let slow = ["--transfer-batch-bytes", "1024", "--transfer-concurrency", "1"]
        var receiver = try NodeProcess(
            name: "n4", httpPort: ports[0], clusterPort: ports[1], seeds: [], directory: cluster.directory,
            extra: ["--join", n1.clusterAddress] + slow)
        defer { receiver.kill() }
        let firstRun = try await Transfers.waitForProgress(on: receiver, share: 2.0 / 3, timeout: .seconds(60))
        receiver.kill()
        // Restarted on its data directory: its ring and checkpoint bring it back without --join.
        receiver = try NodeProcess(
            name: "n4", httpPort: ports[0], clusterPort: ports[1], seeds: [], directory: cluster.directory,
            extra: slow)
        let settled = try await RingDoc.waitUntilSettled(on: n1, members: 4, after: 1, timeout: .seconds(180))
        #expect(settled.state["n4"] == "up")
        let secondRun = try await Transfers.totals(on: receiver)
        // Resumed, the second run copies about the third left (half the first run's bytes); from zero it would
        // copy everything again (about 1.5 times the first run's).
        #expect(firstRun.bytes > 0)
        #expect(
            secondRun.bytes < firstRun.bytes,
            "after the restart \(secondRun.bytes) bytes were copied; before it \(firstRun.bytes)")
        try await Load.verify(4_000, prefix: "r", on: [receiver], value: String(repeating: "x", count: 200))

        // A member down while the ring changes catches up by gossip when it returns.
        let n3 = cluster[2]
        n3.kill()
        #expect(try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/leave?node=n4").status == 200)
        #expect(try await HTTP.send(.POST, "\(n1.httpURL)/v1/cluster/commit").status == 200)
        let changedAt = settled.epoch
        let restarted = try NodeProcess(
            name: n3.name, httpPort: n3.httpPort, clusterPort: n3.clusterPort, seeds: [],
            directory: cluster.directory)
        defer { restarted.kill() }
        let final = try await RingDoc.waitUntilSettled(
            on: n1, members: 4, after: changedAt, timeout: .seconds(180))
        #expect(final.state["n4"] == "left")
        let caughtUp = try await RingDoc.waitForEpoch(final.epoch, on: restarted, timeout: .seconds(60))
        #expect(caughtUp.owners == final.owners)
        try await Load.verify(4_000, prefix: "r", on: [restarted], value: String(repeating: "x", count: 200))
    }
}

/// `/v1/ring` as the tests read it.
struct RingDoc {
    var epoch: Int
    var owners: [String]
    var pending: [(partition: Int, from: String, to: String)]
    var state: [String: String]

    static func fetch(_ node: NodeProcess) async throws -> RingDoc {
        let reply = try await HTTP.send(.GET, "\(node.httpURL)/v1/ring", timeout: .seconds(10))
        let object = reply.object
        let partitions = object["partitions"] as? [[String: Any]] ?? []
        let pending = (object["pending"] as? [[String: Any]] ?? []).map {
            (partition: $0["partition"] as? Int ?? -1, from: $0["from"] as? String ?? "", to: $0["to"] as? String ?? "")
        }
        var state: [String: String] = [:]
        for member in object["members"] as? [[String: Any]] ?? [] {
            if let name = member["name"] as? String { state[name] = member["state"] as? String }
        }
        return RingDoc(
            epoch: object["epoch"] as? Int ?? 0, owners: partitions.map { $0["owner"] as? String ?? "" },
            pending: pending, state: state)
    }

    /// The first ring with pending transfers.
    static func waitForPlan(on node: NodeProcess, timeout: Duration) async throws -> RingDoc {
        try await poll(timeout, "no plan on \(node.name)") {
            let ring = try await fetch(node)
            return ring.pending.isEmpty ? nil : ring
        }
    }

    /// A ring with `members` members (any state), nothing pending, every member up or left.
    static func waitUntilSettled(
        on node: NodeProcess, members: Int, after epoch: Int = 0, timeout: Duration
    ) async throws -> RingDoc {
        try await poll(timeout, "ring on \(node.name) did not settle") {
            let ring = try await fetch(node)
            let settled =
                ring.epoch > epoch && ring.state.count == members && ring.pending.isEmpty
                && ring.state.values.allSatisfy { $0 == "up" || $0 == "left" }
            return settled ? ring : nil
        }
    }

    static func waitForEpoch(_ epoch: Int, on node: NodeProcess, timeout: Duration) async throws -> RingDoc {
        try await poll(timeout, "\(node.name) did not reach epoch \(epoch)") {
            let ring = try? await fetch(node)
            return (ring?.epoch ?? 0) >= epoch ? ring : nil
        }
    }
}

/// `/v1/transfers` as the tests read it.
enum Transfers {
    static func totals(on node: NodeProcess) async throws -> (bytes: Int, done: Int, partitions: Int) {
        let reply = try await HTTP.send(.GET, "\(node.httpURL)/v1/transfers", timeout: .seconds(10))
        let transfers = reply.object["transfers"] as? [String: Any] ?? [:]
        return (
            transfers["received_bytes"] as? Int ?? 0, transfers["done"] as? Int ?? 0,
            transfers["partitions"] as? Int ?? 0
        )
    }

    /// Waits until `share` of the receiver's partitions are copied.
    static func waitForProgress(on node: NodeProcess, share: Double, timeout: Duration) async throws -> (
        bytes: Int, done: Int, partitions: Int
    ) {
        try await poll(timeout, "\(node.name) copied less than \(share) of its partitions") {
            guard let totals = try? await totals(on: node), totals.partitions > 0 else { return nil }
            return Double(totals.done) >= share * Double(totals.partitions) ? totals : nil
        }
    }
}

/// Writes and reads keys through every node; background traffic that records every failed request.
final class Load: Sendable {
    let nodes: [NodeProcess]
    let readKeys: Int
    private let state = Mutex((stopped: false, written: 0, requests: 0, failures: [String]()))

    init(nodes: [NodeProcess], readKeys: Int) {
        self.nodes = nodes
        self.readKeys = readKeys
    }

    var written: Int { state.withLock { $0.written } }

    func stop() { state.withLock { $0.stopped = true } }

    /// Writes new keys `live1…` (W=quorum) and reads loaded keys (R=quorum) until stopped.
    func run() async -> (Int, [String]) {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var step = 0
                    while !self.state.withLock({ $0.stopped }) {
                        step += 1
                        let node = self.nodes[(worker + step) % self.nodes.count]
                        let failure: String?
                        if worker % 2 == 0 {
                            let index = self.state.withLock { state -> Int in
                                state.written += 1
                                return state.written
                            }
                            let reply = try? await HTTP.send(
                                .PUT, "\(node.httpURL)/v1/kv/load/live\(index)", text: "v\(index)")
                            failure = reply?.status == 204 ? nil : "PUT live\(index): \(reply?.status ?? 0)"
                        } else {
                            let key = (worker * 7919 + step * 104_729) % self.readKeys + 1
                            let reply = try? await HTTP.send(.GET, "\(node.httpURL)/v1/kv/load/k\(key)")
                            failure = reply?.text == "v\(key)" ? nil : "GET k\(key): \(reply?.status ?? 0)"
                        }
                        self.state.withLock { state in
                            state.requests += 1
                            if let failure { state.failures.append(failure) }
                        }
                    }
                }
            }
        }
        return state.withLock { ($0.requests, $0.failures) }
    }

    /// Writes `count` keys `prefix1…` with W=all, in batches of 500, four batches at a time.
    static func write(_ count: Int, prefix: String, to nodes: [NodeProcess], value: String? = nil) async throws {
        let batches = (count + 499) / 500
        try await forEach(batches, workers: 4) { batch in
            let node = nodes[batch % nodes.count]
            let range = ((batch - 1) * 500 + 1)...min(count, batch * 500)
            let items = range.map { index in
                "{\"op\":\"put\",\"key\":\"\(prefix)\(index)\",\"value\":\"\(value ?? "v\(index)")\"}"
            }
            let reply = try await HTTP.send(
                .POST, "\(node.httpURL)/v1/kv/load/_batch", text: "[" + items.joined(separator: ",") + "]",
                headers: [("X-Dhrt-W", "all")])
            let results = reply.object["results"] as? [[String: Any]] ?? []
            guard reply.status == 200, results.count == range.count, results.allSatisfy({ $0["status"] as? Int == 204 })
            else { throw HarnessError("batch \(batch): \(reply.status) \(reply.text.prefix(300))") }
        }
    }

    /// Reads `count` keys with R=quorum from the given nodes and checks each value.
    static func verify(_ count: Int, prefix: String, on nodes: [NodeProcess], value: String? = nil) async throws {
        let missing = Findings()
        try await forEach(count) { index in
            let node = nodes[index % nodes.count]
            let reply = try await HTTP.send(.GET, "\(node.httpURL)/v1/kv/load/\(prefix)\(index)")
            if reply.text != (value ?? "v\(index)") {
                missing.add("\(prefix)\(index) on \(node.name): \(reply.status)")
            }
        }
        let lost = missing.all
        #expect(lost.isEmpty, "\(lost.count) keys unreadable, e.g. \(lost.prefix(5))")
    }

    private static func forEach(
        _ count: Int, workers: Int = 16, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        guard count > 0 else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            let tickets = Tickets()
            for _ in 0..<workers {
                group.addTask {
                    while true {
                        let index = tickets.next()
                        if index > count { return }
                        try await body(index)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// Polls `probe` every 200 ms until it returns a value or `timeout` passes.
func poll<T>(_ timeout: Duration, _ what: String, _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try? await probe() { return value }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw HarnessError("\(what) within \(timeout)")
}

/// 1, 2, 3, … shared by workers.
final class Tickets: Sendable {
    private let value = Mutex(0)

    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}

/// Problems found by concurrent checks.
final class Findings: Sendable {
    private let items = Mutex([String]())

    func add(_ item: String) { items.withLock { $0.append(item) } }

    var all: [String] { items.withLock { $0 } }
}

/// Prints how long each phase of a long cluster test took, for the CI log.
final class Phases: Sendable {
    let name: String
    private let last = Mutex(ContinuousClock.now)

    init(_ name: String) { self.name = name }

    func mark(_ phase: String) {
        let now = ContinuousClock.now
        let elapsed = last.withLock { last in
            defer { last = now }
            return now - last
        }
        print("[\(name)] \(phase): \(elapsed)")
    }
}
