import Testing

@testable import Coordinator

/// The coordinator sends to the other replicas as soon as the write is applied, and counts itself only once
/// its own append is durable.
@Suite struct QuorumWriteDurabilityTests {
    static let object: VersionedObject = {
        var object = VersionedObject()
        object.update(context: VersionVector(), value: [1], contentType: "", actor: "n1", timestamp: 1)
        return object
    }()

    func started(w: Int) -> QuorumWrite {
        var write = QuorumWrite(requestID: 1, coordinator: "n1", replicas: ["n1", "n2", "n3"], w: w, deadline: 100)
        _ = write.start()
        return write
    }

    func replies(_ actions: [QuorumWrite.Action]) -> [QuorumWrite.Outcome] {
        actions.compactMap { if case .reply(let outcome) = $0 { outcome } else { nil } }
    }

    @Test func applied_sendsAtOnceButDoesNotAck() {
        var write = started(w: 1)
        #expect(write.onLocalApplied(Self.object) == [.send(to: ["n2", "n3"], object: Self.object)])
        #expect(write.acked.isEmpty)
        #expect(!write.hasReplied)
    }

    @Test func wAll_repliesOnlyAfterTheLocalFsync() {
        var write = started(w: 3)
        _ = write.onLocalApplied(Self.object)
        #expect(write.onAck(from: "n2").isEmpty)
        #expect(write.onAck(from: "n3").isEmpty, "two remote acks are not three durable copies")
        let actions = write.onLocalDurable()
        #expect(replies(actions) == [.success(acks: ["n2", "n3", "n1"], object: Self.object)])
        #expect(write.isFinished)
    }

    @Test func wOne_mayBeAcknowledgedByARemoteReplicaFirst() {
        var write = started(w: 1)
        _ = write.onLocalApplied(Self.object)
        #expect(replies(write.onAck(from: "n3")) == [.success(acks: ["n3"], object: Self.object)])
        #expect(write.onLocalDurable().isEmpty)
        #expect(write.acked == ["n3", "n1"])
    }

    @Test func aFailedLocalFsyncAfterSending_countsTheCoordinatorAsFailed() {
        var write = started(w: 3)
        _ = write.onLocalApplied(Self.object)
        _ = write.onAck(from: "n2")
        let actions = write.onLocalFailure(reason: "fsync: EIO")
        guard case .failure(.notEnoughReplicas(_, _, let acked, let failed))? = replies(actions).first else {
            Issue.record("expected a failure, got \(actions)")
            return
        }
        #expect(acked == ["n2"])
        #expect(failed == ["n1": "fsync: EIO"])
        #expect(write.onLocalDurable().isEmpty)
    }

    @Test func wQuorum_succeedsWithTheLocalFsyncFailed() {
        var write = started(w: 2)
        _ = write.onLocalApplied(Self.object)
        #expect(write.onLocalFailure(reason: "EIO").isEmpty)
        _ = write.onAck(from: "n2")
        #expect(replies(write.onAck(from: "n3")) == [.success(acks: ["n2", "n3"], object: Self.object)])
    }
}
