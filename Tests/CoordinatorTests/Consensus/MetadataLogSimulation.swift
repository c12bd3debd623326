import TestSupport

@testable import Coordinator

/// A seeded cluster of `MetadataLog`s over a lossy, reordering network with partitions and crashes that keep only
/// what was persisted. It records what the invariants need: leaders per term and every committed entry.
struct MetadataLogSimulation {
    struct Faults {
        var dropRate = 0.05
        var delay: ClosedRange<UInt64> = 1...20
        var duplicateRate = 0.02
        /// Chance per 100 ticks that the network splits into two random sides (healed 300-1000 ticks later).
        var partitionRate = 0.1
        /// Chance per 100 ticks that a member crashes (restarted 100-600 ticks later).
        var crashRate = 0.05
        /// Chance that a crash also loses the member's stored log: it restarts from its ring alone (the last
        /// entry it applied), as a node whose METADATA file was lost does.
        var amnesiaRate = 0.0
    }

    static let settings = MetadataLog.Settings(electionTimeout: 150...300, heartbeatInterval: 50)

    private(set) var now: UInt64 = 0
    var random: SeededGenerator
    /// Message-level faults, in effect all the time (partitions and crashes only under `run(ticks:faults:)`).
    var network = Faults(dropRate: 0.02, duplicateRate: 0.02)
    var logs: [String: MetadataLog] = [:]
    /// What each member last persisted: all a crash leaves behind.
    var disks: [String: MetadataState] = [:]
    /// The last committed entry each member applied: its ring, which survives the loss of its log.
    var rings: [String: MetadataEntry] = [:]
    /// Whether a member that lost its log abstains from votes, as `ClusterControl` starts it.
    var amnesiacsAbstain = true
    var crashed: Set<String> = []
    private var amnesiacs: Set<String> = []
    /// Side of each member while the network is split; nil when whole.
    var sides: [String: Int]? = nil
    private var inFlight: [(at: UInt64, from: String, to: String, message: MetadataMessage)] = []
    /// Leaders seen per term: more than one in a term breaks election safety.
    private(set) var leadersByTerm: [UInt64: Set<String>] = [:]
    /// Every committed entry by index, and violations found when two members commit different ones.
    private(set) var committed: [UInt64: MetadataEntry] = [:]
    private(set) var violations: [String] = []
    /// Payloads proposals got accepted for, and which of them were later committed.
    private(set) var proposed: [[UInt8]] = []

    init(members: [String], seed: UInt64) {
        random = SeededGenerator(seed: seed)
        let bootstrap = MetadataState.bootstrap(payload: [0], voters: members)
        for name in members {
            disks[name] = bootstrap
            logs[name] = MetadataLog(
                name: name, state: bootstrap, settings: Self.settings, seed: random.next(), now: 0)
        }
        for entry in bootstrap.entries { committed[entry.index] = entry }
    }

    var names: [String] { logs.keys.sorted() }

    func canTalk(_ a: String, _ b: String) -> Bool {
        guard !crashed.contains(a), !crashed.contains(b) else { return false }
        guard let sides else { return true }
        return sides[a] == sides[b]
    }

    /// Runs `ticks` of virtual time, with faults when given.
    mutating func run(ticks: UInt64, faults: Faults?) {
        let end = now + ticks
        var healAt: UInt64? = nil
        var restarts: [(at: UInt64, name: String)] = []
        while now < end {
            now += 1
            deliverDue()
            if now % 10 == 0 {
                for name in names where !crashed.contains(name) {
                    let actions = logs[name]!.onTick(now: now)
                    carryOut(actions, by: name)
                }
            }
            if let at = healAt, now >= at {
                sides = nil
                healAt = nil
            }
            for restart in restarts where restart.at == now { restartMember(restart.name) }
            restarts.removeAll { $0.at <= now }
            guard let faults, now % 100 == 0 else { continue }
            if sides == nil, chance(faults.partitionRate) {
                var split: [String: Int] = [:]
                for name in names { split[name] = Int(random.next() % 2) }
                sides = split
                healAt = now + 300 + random.next() % 700
            }
            if chance(faults.crashRate),
                let victim = names.filter({ !crashed.contains($0) }).randomElement(
                    using: &random)
            {
                crashed.insert(victim)
                if chance(faults.amnesiaRate) { amnesiacs.insert(victim) }
                restarts.append((now + 100 + random.next() % 500, victim))
            }
        }
        for restart in restarts { restartMember(restart.name) }
    }

    /// Heals everything and lets the cluster settle.
    mutating func heal(ticks: UInt64 = 3_000) {
        sides = nil
        for name in crashed { restartMember(name) }
        run(ticks: ticks, faults: nil)
    }

    mutating func restartMember(_ name: String) {
        guard crashed.remove(name) != nil else { return }
        if amnesiacs.remove(name) != nil {
            // What `ClusterControl.openMetadata` makes of a ring without a log: a base of term 0.
            let ring = rings[name] ?? disks[name]!.entries[0]
            disks[name] = MetadataState(
                entries: [MetadataEntry(index: ring.index, term: 0, voters: ring.voters, payload: ring.payload)],
                abstains: amnesiacsAbstain)
        }
        logs[name] = MetadataLog(
            name: name, state: disks[name]!, settings: Self.settings, seed: random.next(), now: now)
    }

    /// Proposes `payload` on whoever leads (any side); true when some member accepted it.
    @discardableResult
    mutating func propose(_ payload: [UInt8]) -> Bool {
        for name in names where !crashed.contains(name) && logs[name]!.isLeader {
            let voters = logs[name]!.voters
            guard let (_, actions) = try? logs[name]!.propose(payload: payload, voters: voters, now: now) else {
                continue
            }
            proposed.append(payload)
            carryOut(actions, by: name)
            return true
        }
        return false
    }

    var leaders: [String] { names.filter { !crashed.contains($0) && logs[$0]!.isLeader } }

    private mutating func chance(_ p: Double) -> Bool { Double(random.next() % 1_000_000) / 1_000_000 < p }

    private mutating func deliverDue() {
        while let index = inFlight.firstIndex(where: { $0.at <= now }) {
            let message = inFlight.remove(at: index)
            guard canTalk(message.from, message.to) else { continue }
            let actions = logs[message.to]!.onMessage(message.message, from: message.from, now: now)
            carryOut(actions, by: message.to)
        }
    }

    private mutating func carryOut(_ actions: [MetadataLog.Action], by name: String) {
        for action in actions {
            switch action {
            case .persist(let state):
                disks[name] = state
            case .send(let to, let message):
                send(message, from: name, to: to)
            case .committed(let entry):
                if let known = committed[entry.index], !Self.same(known, entry) {
                    violations.append("\(name) committed a different entry at index \(entry.index)")
                }
                if committed[entry.index] == nil || entry.term != 0 { committed[entry.index] = entry }
                rings[name] = entry
            case .leaderChanged(let leader):
                if leader == name { leadersByTerm[logs[name]!.term, default: []].insert(name) }
            }
        }
        if logs[name]!.isLeader { leadersByTerm[logs[name]!.term, default: []].insert(name) }
    }

    private mutating func send(_ message: MetadataMessage, from: String, to: String) {
        guard !chance(network.dropRate) else { return }
        let copies = chance(network.duplicateRate) ? 2 : 1
        let delays = network.delay
        for _ in 0..<copies {
            let delay = delays.lowerBound + random.next() % (delays.upperBound - delays.lowerBound + 1)
            inFlight.append((now + delay, from, to, message))
        }
    }

    /// Election safety and agreement: at most one leader per term, no index committed twice differently, and
    /// every member's committed entries are the ones recorded.
    var invariantViolations: [String] {
        var found = violations
        for (term, leaders) in leadersByTerm where leaders.count > 1 {
            found.append("term \(term) had leaders \(leaders.sorted())")
        }
        for name in names {
            guard let entry = logs[name]!.committedEntry else { continue }
            if let known = committed[entry.index], !Self.same(known, entry) {
                found.append("\(name) holds a committed entry at \(entry.index) that differs")
            }
        }
        return found
    }

    /// One committed entry: a base rebuilt from a ring has term 0, as the ring does not hold its term.
    static func same(_ a: MetadataEntry, _ b: MetadataEntry) -> Bool {
        guard a.term == b.term || a.term == 0 || b.term == 0 else { return false }
        return a.index == b.index && a.voters == b.voters && a.payload == b.payload
    }
}
