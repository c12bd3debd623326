import Testing

@testable import Coordinator

/// Reads that ask only R replicas: the next replica is asked on a failure or when the speculation timer fires.
@Suite struct QuorumReadFanoutTests {
    static let replicas = ["n1", "n2", "n3"]
    static let value: VersionedObject = {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [7], contentType: "", actor: "n1", timestamp: 1)
        return object
    }()

    func started(r: Int, speculation: UInt64? = 50) -> (QuorumRead, [QuorumRead.Action]) {
        var read = QuorumRead(
            requestID: 1, replicas: Self.replicas, r: r, deadline: 1_000, fanout: r, speculationDelay: speculation)
        let actions = read.start()
        return (read, actions)
    }

    func replies(_ actions: [QuorumRead.Action]) -> [QuorumRead.Outcome] {
        actions.compactMap { if case .reply(let outcome) = $0 { outcome } else { nil } }
    }

    @Test(arguments: [1, 2])
    func fanoutR_asksOnlyTheFirstRReplicas(r: Int) {
        let (_, actions) = started(r: r)
        #expect(
            actions == [
                .fetch(from: Array(Self.replicas.prefix(r))), .scheduleTimeout(at: 1_000),
                .scheduleSpeculation(after: 50),
            ])
    }

    @Test func fanoutOfAll_asksEveryReplicaAndNeverSpeculates() {
        var read = QuorumRead(requestID: 1, replicas: Self.replicas, r: 1, deadline: 9, speculationDelay: 5)
        #expect(read.start() == [.fetch(from: Self.replicas), .scheduleTimeout(at: 9)])
        #expect(read.onSpeculation().isEmpty)
    }

    @Test func oneAnswer_atROne_repliesAndFinishesWithoutAskingMore() {
        var (read, _) = started(r: 1)
        let actions = read.onReply(from: "n1", .object(Self.value))
        #expect(replies(actions).count == 1)
        #expect(read.isFinished)
        #expect(read.onSpeculation().isEmpty)
        #expect(read.asked == ["n1"])
    }

    @Test func aFailedReplica_isReplacedByTheNextUnasked() {
        var (read, _) = started(r: 2)
        #expect(read.onReply(from: "n2", .failure("refused")) == [.fetch(from: ["n3"])])
        #expect(read.onReply(from: "n1", .object(Self.value)).isEmpty)
        let actions = read.onReply(from: "n3", .notFound)
        guard case .success(let result)? = replies(actions).first else {
            Issue.record("expected a successful reply, got \(actions)")
            return
        }
        #expect(Set(result.answered) == ["n1", "n3"])
        // n3 answered not found while n1 holds the value: repaired.
        #expect(actions.contains(.repair(to: ["n3"], object: Self.value)))
        #expect(read.isFinished)
    }

    @Test func aSilentReplica_isOvertakenBySpeculation() {
        var (read, _) = started(r: 1)
        // n1 stays silent (a SIGSTOPped node); the timer asks n2 and arms itself again for n3.
        #expect(read.onSpeculation() == [.fetch(from: ["n2"]), .scheduleSpeculation(after: 50)])
        let actions = read.onReply(from: "n2", .object(Self.value))
        #expect(replies(actions) == [.success(ReadResult(object: Self.value, answered: ["n2"], stale: []))])
        #expect(!read.isFinished, "n1 was asked and may still answer")
        #expect(read.onSpeculation().isEmpty, "no speculation after the reply")
        _ = read.onTimeout(now: 1_000)
        #expect(read.isFinished)
    }

    @Test func everyReplicaFailing_failsOnceNoReplicaIsLeft() {
        var (read, _) = started(r: 2)
        #expect(read.onReply(from: "n1", .failure("a")) == [.fetch(from: ["n3"])])
        let actions = read.onReply(from: "n2", .failure("b"))
        #expect(replies(actions).count == 1)
        if case .failure(.notEnoughReplicas(let required, _, let answered, let failed))? = replies(actions).first {
            #expect(required == 2)
            #expect(answered.isEmpty)
            #expect(failed.keys.sorted() == ["n1", "n2"])
        } else {
            Issue.record("expected notEnoughReplicas, got \(actions)")
        }
    }

    @Test func repliesFromReplicasNotAsked_areIgnored() {
        var (read, _) = started(r: 1)
        #expect(read.onReply(from: "n3", .object(Self.value)).isEmpty)
        #expect(!read.hasReplied)
    }
}
