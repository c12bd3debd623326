import Testing

@testable import Coordinator

@Suite struct QuorumReadTests {
    static let replicas = ["n1", "n2", "n3"]
    static let deadline: UInt64 = 1_000

    static let old: VersionedObject = {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [1], contentType: "", actor: "n1", timestamp: 1)
        return object
    }()
    static let new: VersionedObject = {
        var object = old
        object.update(context: old.context, value: [2], contentType: "", actor: "n2", timestamp: 2)
        return object
    }()
    static let concurrent: VersionedObject = {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [3], contentType: "", actor: "n3", timestamp: 3)
        return object
    }()
    static let deleted: VersionedObject = {
        var object = old
        object.delete(context: old.context, actor: "n3", timestamp: 4)
        return object
    }()

    /// What a replica does in a scenario; nil is silence.
    static let answers: [QuorumRead.Reply?] = [
        .object(old), .object(new), .object(concurrent), .object(deleted), .notFound, .failure("io error"), nil,
    ]

    func started(r: Int) -> (QuorumRead, [QuorumRead.Action]) {
        var read = QuorumRead(requestID: 3, replicas: Self.replicas, r: r, deadline: Self.deadline)
        let actions = read.start()
        return (read, actions)
    }

    func replies(_ actions: [QuorumRead.Action]) -> [QuorumRead.Outcome] {
        actions.compactMap { if case .reply(let outcome) = $0 { outcome } else { nil } }
    }

    func repairs(_ actions: [QuorumRead.Action]) -> [QuorumRead.Action] {
        actions.filter { if case .repair = $0 { true } else { false } }
    }

    func descends(_ reply: QuorumRead.Reply, _ merged: VersionedObject) -> Bool {
        switch reply {
        case .object(let object): object.descends(merged)
        case .notFound: merged.isEmpty
        case .failure: true
        }
    }

    /// Every mix of answers (old, new, concurrent, tombstone, not found, failure, silence) in every order with
    /// the timeout anywhere: one reply as the count predicts, and one repair naming exactly the stale answerers.
    @Test(arguments: [1, 2, 3])
    func everyReplyOrderRepliesOnceAndRepairsExactlyTheStale(r: Int) {
        for mix in assignments(Self.answers, count: 3) {
            let events: [(String, QuorumRead.Reply)] = zip(Self.replicas, mix).compactMap { name, answer in
                answer.map { (name, $0) }
            }
            for order in permutations(events.indices.map { $0 }) {
                // Timeout at order.count comes after every answer: a no-op when nobody stayed silent.
                for timeoutAt in 0...order.count {
                    check(r: r, events: order.map { events[$0] }, timeoutAt: timeoutAt)
                }
            }
        }
    }

    func check(r: Int, events: [(String, QuorumRead.Reply)], timeoutAt: Int) {
        var (read, actions) = started(r: r)
        #expect(actions == [.fetch(from: Self.replicas), .scheduleTimeout(at: Self.deadline)])
        var all: [QuorumRead.Action] = []
        var merged = VersionedObject()
        var answered: [String] = []
        var received: [String: QuorumRead.Reply] = [:]
        var open = 3
        var expected: QuorumRead.Outcome?
        var finalMerged: VersionedObject?
        var finalAnswered: [String] = []
        for (index, event) in (events.map(Optional.some) + [nil]).enumerated() {
            if index == timeoutAt {
                all += read.onTimeout(now: Self.deadline)
                if expected == nil { expected = .failure(.timedOut(required: r, answered: answered)) }
                if finalMerged == nil { (finalMerged, finalAnswered) = (merged, answered) }
            }
            guard let (name, reply) = event else { continue }
            all += read.onReply(from: name, reply)
            if finalMerged != nil { continue }  // ignored after the end
            open -= 1
            received[name] = reply
            switch reply {
            case .object(let object):
                merged = VersionedObject.sync(merged, object)
                answered.append(name)
            case .notFound: answered.append(name)
            case .failure: break
            }
            if expected == nil, answered.count >= r {
                let stale = answered.filter { !descends(received[$0]!, merged) }
                expected = .success(ReadResult(object: merged, answered: answered, stale: stale))
            }
            if expected == nil, answered.count + open < r {
                let failed = received.compactMapValues { if case .failure(let why) = $0 { why } else { nil } }
                expected = .failure(.notEnoughReplicas(required: r, replicas: 3, answered: answered, failed: failed))
            }
            if open == 0, finalMerged == nil { (finalMerged, finalAnswered) = (merged, answered) }
        }
        let context = "r=\(r) events=\(events.map(\.0)) timeoutAt=\(timeoutAt)"
        #expect(replies(all).count == 1, "\(context)")
        #expect(replies(all).first == expected, "\(context)")
        #expect(read.isFinished, "\(context)")
        let stale = finalAnswered.filter { !descends(received[$0]!, finalMerged!) }
        let expectedRepairs: [QuorumRead.Action] = stale.isEmpty ? [] : [.repair(to: stale, object: finalMerged!)]
        #expect(repairs(all) == expectedRepairs, "\(context)")
        #expect(read.repaired == stale)
        if case .success(let result)? = expected {
            #expect(Set(result.stale).isSubset(of: Set(stale)), "\(context)")
        }
    }

    @Test func aNewerAndAnOlderCopyAnswerWithTheNewerAndRepairTheOlder() {
        var (read, _) = started(r: 2)
        #expect(read.onReply(from: "n1", .object(Self.old)).isEmpty)
        let actions = read.onReply(from: "n2", .object(Self.new))
        #expect(replies(actions) == [.success(ReadResult(object: Self.new, answered: ["n1", "n2"], stale: ["n1"]))])
        #expect(repairs(actions).isEmpty)
        #expect(read.onReply(from: "n3", .notFound) == [.repair(to: ["n1", "n3"], object: Self.new)])
        #expect(read.repaired == ["n1", "n3"])
    }

    @Test func concurrentCopiesAnswerWithSiblingsAndRepairBoth() {
        var (read, _) = started(r: 3)
        _ = read.onReply(from: "n1", .object(Self.old))
        _ = read.onReply(from: "n2", .object(Self.concurrent))
        let actions = read.onReply(from: "n3", .object(Self.old))
        guard case .success(let result)? = replies(actions).first else {
            Issue.record("expected a reply")
            return
        }
        #expect(result.object.hasConflict)
        #expect(result.object.liveSiblings.map(\.value) == [[1], [3]])
        #expect(repairs(actions) == [.repair(to: ["n1", "n2", "n3"], object: result.object)])
    }

    @Test func allNotFoundIsNotFoundWithoutRepair() {
        var (read, _) = started(r: 2)
        _ = read.onReply(from: "n1", .notFound)
        let actions = read.onReply(from: "n2", .notFound)
        guard case .success(let result)? = replies(actions).first else {
            Issue.record("expected a reply")
            return
        }
        #expect(result.object.isNotFound && result.object.isEmpty)
        #expect(read.onReply(from: "n3", .notFound).isEmpty)
        #expect(read.isFinished && read.repaired.isEmpty)
    }

    @Test func aTombstoneReadsAsNotFoundAndSpreadsToTheMissingReplica() {
        var (read, _) = started(r: 2)
        _ = read.onReply(from: "n1", .object(Self.deleted))
        let actions = read.onReply(from: "n2", .notFound)
        guard case .success(let result)? = replies(actions).first else {
            Issue.record("expected a reply")
            return
        }
        #expect(result.object.isNotFound && !result.object.isEmpty)
        #expect(result.stale == ["n2"])
        #expect(read.onTimeout(now: Self.deadline) == [.repair(to: ["n2"], object: Self.deleted)])
    }

    @Test func failuresAndSilentReplicasAreNeverRepaired() {
        var (read, _) = started(r: 1)
        _ = read.onReply(from: "n1", .object(Self.new))
        _ = read.onReply(from: "n2", .failure("timeout"))
        #expect(read.onTimeout(now: Self.deadline).isEmpty)
        #expect(read.repaired.isEmpty)
    }

    @Test func lateAndDuplicateRepliesAfterTheEndAreIgnored() {
        var (read, _) = started(r: 1)
        _ = read.onReply(from: "n1", .object(Self.new))
        #expect(read.onReply(from: "n1", .object(Self.old)).isEmpty)
        _ = read.onTimeout(now: Self.deadline)
        #expect(read.onReply(from: "n2", .object(Self.old)).isEmpty)
        #expect(read.onReply(from: "n9", .notFound).isEmpty)
        #expect(read.onTimeout(now: Self.deadline).isEmpty)
    }

    @Test func aReadQuorumLargerThanThePreferenceListFailsWithoutFetching() {
        var read = QuorumRead(requestID: 1, replicas: ["n1"], r: 2, deadline: 10)
        #expect(read.start() == [.reply(.failure(.notEnoughReplicas(required: 2, replicas: 1, answered: [], failed: [:])))])
        #expect(read.isFinished)
    }

    @Test func lastWriteWinsReadsReturnOneValue() {
        var a = VersionedObject()
        a.update(context: VersionVector(), value: [1], contentType: "", actor: "n1", timestamp: 5, resolution: .lastWriteWins)
        var b = VersionedObject()
        b.update(context: VersionVector(), value: [2], contentType: "", actor: "n2", timestamp: 9, resolution: .lastWriteWins)
        var read = QuorumRead(requestID: 1, replicas: Self.replicas, r: 2, deadline: 10, resolution: .lastWriteWins)
        _ = read.start()
        _ = read.onReply(from: "n1", .object(a))
        let actions = read.onReply(from: "n2", .object(b))
        guard case .success(let result)? = replies(actions).first else {
            Issue.record("expected a reply")
            return
        }
        #expect(result.object.siblings.map(\.value) == [[2]])
        // n2 holds the winner but not n1's dot in its clock: repaired too, so contexts converge.
        #expect(result.stale == ["n1", "n2"])
    }
}
