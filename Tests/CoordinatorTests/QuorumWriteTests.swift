import Testing

@testable import Coordinator

@Suite struct QuorumWriteTests {
    static let replicas = ["n1", "n2", "n3"]
    static let deadline: UInt64 = 1_000

    enum Event: Hashable {
        case ack(String)
        case failure(String)
        case timeout
    }

    func object() -> VersionedObject {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [1], contentType: "", actor: "n1", timestamp: 1)
        return object
    }

    func started(w: Int, replicas: [String] = replicas) -> (QuorumWrite, [QuorumWrite.Action]) {
        var write = QuorumWrite(requestID: 7, coordinator: "n1", replicas: replicas, w: w, deadline: Self.deadline)
        let actions = write.start()
        return (write, actions)
    }

    func replies(_ actions: [QuorumWrite.Action]) -> [QuorumWrite.Outcome] {
        actions.compactMap { if case .reply(let outcome) = $0 { outcome } else { nil } }
    }

    /// A pending plan's receiver is never a primary for PW: with PW=3, the three primaries must ack whatever
    /// the receiver does; a primary failing fails the write even when the receiver acked.
    @Test func anIncomingReceiver_isNotAPrimary() {
        let replicas = ["n1", "n2", "n3", "n4"]
        var write = QuorumWrite(
            requestID: 7, coordinator: "n1", replicas: replicas, w: 2, deadline: Self.deadline, pw: 3,
            incoming: ["n4"], leaving: ["n3"])
        _ = write.start()
        _ = write.onLocalStored(object())
        #expect(replies(write.onAck(from: "n4")).isEmpty)
        #expect(replies(write.onAck(from: "n2")).isEmpty, "w is filled in both lists but only two primaries acked")
        let failed = replies(write.onFailure(from: "n3", reason: "down"))
        #expect(failed == [.failure(.notEnoughPrimaries(required: 3, acked: ["n1", "n2"]))])

        // PW above the primaries is refused before anything is stored, receivers or not.
        var tooMany = QuorumWrite(
            requestID: 8, coordinator: "n1", replicas: replicas, w: 2, deadline: Self.deadline, pw: 4,
            incoming: ["n4"], leaving: ["n3"])
        #expect(replies(tooMany.start()).count == 1)
    }

    /// With n4 taking n3's place, W=2 must hold in [n1, n2, n3] and in [n1, n2, n4]: n1 and n3 are not enough,
    /// n1 and n2 are, and with n2 and n4 failed the write fails although the current list has two copies.
    @Test func duringAPlan_wHoldsInTheCurrentListAndInTheNext() {
        let replicas = ["n1", "n2", "n3", "n4"]
        func started() -> QuorumWrite {
            var write = QuorumWrite(
                requestID: 9, coordinator: "n1", replicas: replicas, w: 2, deadline: Self.deadline,
                incoming: ["n4"], leaving: ["n3"])
            _ = write.start()
            _ = write.onLocalStored(object())
            return write
        }
        var write = started()
        #expect(replies(write.onAck(from: "n3")).isEmpty, "two copies now, one after the plan")
        #expect(replies(write.onFailure(from: "n4", reason: "down")).isEmpty)
        #expect(replies(write.onAck(from: "n2")).count == 1)
        #expect(write.hasReplied && write.acked == ["n1", "n3", "n2"])

        var doomed = started()
        _ = doomed.onAck(from: "n3")
        #expect(replies(doomed.onFailure(from: "n4", reason: "down")).isEmpty)
        let failure = replies(doomed.onFailure(from: "n2", reason: "down"))
        guard case .failure(.notEnoughReplicas) = failure.first else {
            Issue.record("expected a failure, got \(failure)")
            return
        }
    }

    /// Every combination of remote answers (ack, failure, silence) in every order, with the timeout before,
    /// between or after them: one reply, and the one a simple count predicts.
    @Test(arguments: [1, 2, 3])
    func everyReplyOrderGivesExactlyTheExpectedReply(w: Int) {
        let remotes = ["n2", "n3"]
        for kinds in assignments([0, 1, 2], count: remotes.count) {
            let answers: [Event] = zip(remotes, kinds).compactMap { name, kind in
                kind == 0 ? .ack(name) : kind == 1 ? .failure(name) : nil
            }
            for order in permutations(answers) {
                for timeoutAt in 0...order.count {
                    var events = order
                    events.insert(.timeout, at: timeoutAt)
                    check(w: w, events: events)
                }
            }
        }
    }

    func check(w: Int, events: [Event]) {
        var (write, actions) = started(w: w)
        #expect(actions == [.storeLocally, .scheduleTimeout(at: Self.deadline)])
        let stored = object()
        actions = write.onLocalStored(stored)
        #expect(actions.first == .send(to: ["n2", "n3"], object: stored))
        var all = replies(actions)
        // The model: acks so far, answers still possible.
        var acks = ["n1"]
        var open = 2
        var failed: [String: String] = [:]
        var expected: QuorumWrite.Outcome? = w == 1 ? .success(acks: ["n1"], object: stored) : nil
        for event in events {
            switch event {
            case .ack(let name):
                all += replies(write.onAck(from: name))
                acks.append(name)
                open -= 1
            case .failure(let name):
                all += replies(write.onFailure(from: name, reason: "disk full"))
                failed[name] = "disk full"
                open -= 1
            case .timeout:
                all += replies(write.onTimeout(now: Self.deadline))
                if expected == nil { expected = .failure(.timedOut(required: w, acked: acks)) }
            }
            if expected == nil, acks.count >= w { expected = .success(acks: acks, object: stored) }
            if expected == nil, acks.count + open < w {
                expected = .failure(.notEnoughReplicas(required: w, replicas: 3, acked: acks, failed: failed))
            }
        }
        #expect(all.count == 1, "w=\(w) events=\(events)")
        #expect(all.first == expected, "w=\(w) events=\(events)")
        #expect(write.isFinished)
        #expect(write.acked == acks)
    }

    @Test func twoAcksOfThreeSucceedAndTheThirdIsRecordedLate() {
        var (write, _) = started(w: 2)
        _ = write.onLocalStored(object())
        #expect(replies(write.onAck(from: "n3")) == [.success(acks: ["n1", "n3"], object: object())])
        #expect(!write.isFinished)
        #expect(write.onAck(from: "n2").isEmpty)
        #expect(write.acked == ["n1", "n3", "n2"])
        #expect(write.isFinished)
    }

    @Test func duplicateAndUnknownAnswersAreIgnored() {
        var (write, _) = started(w: 3)
        _ = write.onLocalStored(object())
        #expect(write.onAck(from: "n2").isEmpty)
        #expect(write.onAck(from: "n2").isEmpty)
        #expect(write.onFailure(from: "n2", reason: "late").isEmpty)
        #expect(write.onAck(from: "n9").isEmpty)
        #expect(write.onAck(from: "n1").isEmpty)
        #expect(write.acked == ["n1", "n2"])
    }

    @Test func answersBeforeTheLocalStoreAreIgnored() {
        var (write, _) = started(w: 1)
        #expect(write.onAck(from: "n2").isEmpty)
        #expect(replies(write.onLocalStored(object())).count == 1)
    }

    @Test func aLocalFailureFailsAtOnceAndSendsNothing() {
        var (write, _) = started(w: 1)
        let actions = write.onLocalFailure(reason: "precondition failed")
        #expect(actions == [.reply(.failure(.localStoreFailed(reason: "precondition failed")))])
        #expect(write.isFinished)
        #expect(write.onLocalStored(object()).isEmpty)
        #expect(write.onTimeout(now: Self.deadline).isEmpty)
    }

    @Test func aTimeoutBeforeTheLocalStoreSaysTheWriteMayStillLand() {
        var (write, _) = started(w: 2)
        let actions = write.onTimeout(now: Self.deadline)
        #expect(actions == [.reply(.failure(.timedOut(required: 2, acked: [])))])
        #expect(write.onLocalStored(object()).isEmpty)
        if case .reply(.failure(let failure)) = actions.first {
            #expect(failure.description.contains("may still have been stored"))
        }
    }

    @Test func anEarlyTimerIsIgnored() {
        var (write, _) = started(w: 2)
        _ = write.onLocalStored(object())
        #expect(write.onTimeout(now: Self.deadline - 1).isEmpty)
        #expect(!write.hasTimedOut)
    }

    @Test func aWriteQuorumLargerThanThePreferenceListFailsBeforeStoring() {
        var write = QuorumWrite(requestID: 1, coordinator: "n1", replicas: ["n1", "n2"], w: 3, deadline: 10)
        let actions = write.start()
        #expect(actions == [.reply(.failure(.notEnoughReplicas(required: 3, replicas: 2, acked: [], failed: [:])))])
        #expect(write.isFinished)
    }

    @Test func aCoordinatorOutsideThePreferenceListRefusesToStore() {
        var write = QuorumWrite(requestID: 1, coordinator: "n9", replicas: ["n1", "n2"], w: 1, deadline: 10)
        #expect(write.start() == [.reply(.failure(.coordinatorNotAReplica("n9")))])
        #expect(write.isFinished)
    }

    @Test func aLoneNodeAcknowledgesItsOwnWrite() {
        var (write, _) = started(w: 1, replicas: ["n1"])
        let actions = write.onLocalStored(object())
        #expect(actions == [.reply(.success(acks: ["n1"], object: object()))])
        #expect(write.isFinished)
    }

    @Test func failureMessagesSayHowManyStoredIt() {
        let failure = WriteFailure.notEnoughReplicas(
            required: 3,
            replicas: 3,
            acked: ["n1", "n2"],
            failed: ["n3": "connection refused"]
        )
        #expect(
            failure.description == "write needs 3 of 3 replicas but only 2 stored it (failed: n3: connection refused)"
        )
        let timeout = WriteFailure.timedOut(required: 3, acked: ["n1"])
        #expect(timeout.description.contains("after 1 of 3 required acks"))
    }
}
