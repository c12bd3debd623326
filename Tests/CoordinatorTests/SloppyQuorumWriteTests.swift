import Testing

@testable import Coordinator

@Suite struct SloppyQuorumWriteTests {
    static let replicas = ["n1", "n2", "n3"]
    static let fallbacks = ["f1", "f2"]
    static let deadline: UInt64 = 1_000
    static let handoff: UInt64 = 500

    enum Step: Hashable {
        case ack(String)
        case failure(String)
        case handoff
        case timeout
    }

    func object() -> VersionedObject {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [1], contentType: "", actor: "n1", timestamp: 1)
        return object
    }

    /// What the test sees of one run: who was asked, for whom, and the replies.
    struct Run {
        var write: QuorumWrite
        var asked: [String] = []
        var owners: [String: String] = [:]
        var replies: [QuorumWrite.Outcome] = []
        var answered: Set<String> = []
        var handedOff = false
        var timedOut = false

        mutating func take(_ actions: [QuorumWrite.Action]) {
            for action in actions {
                switch action {
                case .send(let names, _): asked += names
                case .sendHint(let fallback, let owner, _):
                    #expect(!asked.contains(fallback), "a fallback is asked once")
                    asked.append(fallback)
                    owners[fallback] = owner
                case .reply(let outcome): replies.append(outcome)
                case .storeLocally, .scheduleTimeout, .scheduleHandoff: break
                }
            }
        }

        /// Places filled by a primary or a fallback standing in for it, and primaries that acked themselves.
        var filled: (places: Int, primaries: Int) {
            let acked = Set(write.acked)
            let places = SloppyQuorumWriteTests.replicas.filter { name in
                acked.contains(name) || owners.contains { $0.value == name && acked.contains($0.key) }
            }
            return (places.count, SloppyQuorumWriteTests.replicas.filter(acked.contains).count)
        }

        var options: [Step] {
            guard !timedOut else { return [] }
            var steps = asked.filter { !answered.contains($0) }.flatMap { [Step.ack($0), .failure($0)] }
            if !handedOff { steps.append(.handoff) }
            steps.append(.timeout)
            return steps
        }

        mutating func apply(_ step: Step) {
            switch step {
            case .ack(let name):
                answered.insert(name)
                take(write.onAck(from: name))
            case .failure(let name):
                answered.insert(name)
                take(write.onFailure(from: name, reason: "refused"))
            case .handoff:
                handedOff = true
                take(write.onHandoff(now: SloppyQuorumWriteTests.handoff))
            case .timeout:
                timedOut = true
                take(write.onTimeout(now: SloppyQuorumWriteTests.deadline))
            }
        }
    }

    func started(w: Int, pw: Int, down: Set<String> = []) -> Run {
        var run = Run(
            write: QuorumWrite(
                requestID: 1, coordinator: "n1", replicas: Self.replicas, w: w, deadline: Self.deadline,
                fallbacks: Self.fallbacks, down: down, pw: pw, handoffAt: Self.handoff))
        run.take(run.write.start())
        run.take(run.write.onLocalStored(object()))
        return run
    }

    /// Every order of answers (ack or failure from each replica and each fallback once it is asked), with the
    /// hand-off and the deadline anywhere between them: one reply, success exactly when `w` places and `pw`
    /// primaries are filled, and never a reply left owed.
    @Test(arguments: [(1, 0), (2, 0), (3, 0), (2, 2), (3, 3), (2, 3)])
    func everyOrderOfRepliesForThreeReplicasGivesOneRightReply(w: Int, pw: Int) {
        for down in [Set<String>(), ["n3"], ["n2", "n3"]] {
            var paths = 0
            explore(started(w: w, pw: pw, down: down), w: w, pw: pw, paths: &paths)
            #expect(paths > 0)
        }
    }

    func explore(_ run: Run, w: Int, pw: Int, paths: inout Int) {
        check(run, w: w, pw: pw)
        let options = run.options
        guard !options.isEmpty else {
            paths += 1
            #expect(run.replies.count == 1, "exactly one reply by the end")
            return
        }
        for step in options {
            var next = run
            next.apply(step)
            explore(next, w: w, pw: pw, paths: &paths)
        }
    }

    func check(_ run: Run, w: Int, pw: Int) {
        #expect(run.replies.count <= 1)
        let (places, primaries) = run.filled
        let met = places >= w && primaries >= pw
        if run.replies.isEmpty {
            #expect(!met, "a met quorum is answered at once")
            return
        }
        if case .success = run.replies[0] {
            return
        }
        // Failed: nothing still possible may fill the quorum (unless the deadline ended it).
        if !run.timedOut {
            let acked = Set(run.write.acked)
            let waiting = { (name: String) in run.asked.contains(name) && !run.answered.contains(name) }
            var open = 0
            var uncovered = 0
            for name in Self.replicas {
                let standIns = run.owners.filter { $0.value == name }.map(\.key)
                if acked.contains(name) || standIns.contains(where: acked.contains) { continue }
                if waiting(name) || standIns.contains(where: waiting) { open += 1 } else { uncovered += 1 }
            }
            let free = Self.fallbacks.filter { !run.asked.contains($0) }.count
            let primariesWaiting = Self.replicas.filter(waiting).count
            #expect(places + open + min(uncovered, free) < w || primaries + primariesWaiting < pw)
        }
    }

    @Test func aPrimaryJudgedDownIsSkippedForTheFirstFallbackAtOnce() {
        let run = started(w: 3, pw: 0, down: ["n3"])
        #expect(run.asked == ["n2", "f1"])
        #expect(run.owners == ["f1": "n3"])
    }

    @Test func aPrimaryJudgedDownIsStillAskedWhenNoFallbackIsFree() {
        var write = QuorumWrite(
            requestID: 1, coordinator: "n1", replicas: Self.replicas, w: 2, deadline: 10, down: ["n3"])
        _ = write.start()
        #expect(write.onLocalStored(object()).first == .send(to: ["n2", "n3"], object: object()))
    }

    @Test func fallbackAcksFillTheQuorumAndAreNamedAsHinted() {
        var run = started(w: 3, pw: 0, down: ["n3"])
        run.apply(.ack("n2"))
        #expect(run.replies.isEmpty)
        run.apply(.ack("f1"))
        guard case .success(let acks, _) = run.replies.first else {
            Issue.record("expected success")
            return
        }
        #expect(acks == ["n1", "n2", "f1"])
        #expect(run.write.hinted.map(\.fallback) == ["f1"])
        #expect(run.write.hinted.map(\.owner) == ["n3"])
    }

    @Test func primariesOnlyIsRefusedBeforeStoringWhileAPrimaryIsDown() {
        var write = QuorumWrite(
            requestID: 1, coordinator: "n1", replicas: Self.replicas, w: 2, deadline: 10, fallbacks: ["f1"],
            down: ["n3"], pw: 3)
        #expect(write.start() == [.reply(.failure(.notEnoughPrimaries(required: 3, acked: [])))])
    }

    @Test func primariesOnlyFailsWhenAPrimaryFailsEvenIfItsFallbackAcks() {
        var run = started(w: 2, pw: 3)
        run.apply(.ack("n2"))
        run.apply(.failure("n3"))
        #expect(run.replies == [.failure(.notEnoughPrimaries(required: 3, acked: ["n1", "n2"]))])
        run.apply(.ack("f1"))
        #expect(run.replies.count == 1)
    }

    @Test func aFailedFallbackIsReplacedByTheNext() {
        var run = started(w: 3, pw: 0)
        run.apply(.failure("n3"))
        #expect(run.owners == ["f1": "n3"])
        run.apply(.failure("f1"))
        #expect(run.owners == ["f1": "n3", "f2": "n3"])
        run.apply(.ack("n2"))
        run.apply(.ack("f2"))
        #expect(run.write.hinted.map(\.fallback) == ["f2"])
        guard case .success = run.replies.first else {
            Issue.record("expected success")
            return
        }
    }

    @Test func aSilentPrimaryGetsAFallbackAtTheHandoffInstant() {
        var run = started(w: 3, pw: 0)
        run.apply(.ack("n2"))
        run.apply(.handoff)
        #expect(run.owners == ["f1": "n3"])
        run.apply(.ack("f1"))
        #expect(run.replies.count == 1)
        // The primary's late ack is recorded and the machine then finishes.
        run.apply(.ack("n3"))
        #expect(run.write.isFinished)
    }

    @Test func aFailureAfterTheDeadlineAsksNoFallback() {
        var run = started(w: 3, pw: 0)
        run.apply(.ack("n2"))
        run.apply(.timeout)
        #expect(run.replies == [.failure(.timedOut(required: 3, acked: ["n1", "n2"]))])
        // The replica call's own timeout, reported after the machine's deadline, changes nothing.
        run.take(run.write.onFailure(from: "n3", reason: "timeout"))
        #expect(run.owners.isEmpty)
        #expect(run.replies.count == 1)
    }
}
