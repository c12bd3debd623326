import Testing

@testable import Coordinator

@Suite struct ReplicaStoreTests {
    func stored(_ value: UInt8, by actor: String = "n1", on base: VersionedObject = VersionedObject())
        -> VersionedObject
    {
        var object = base
        object.update(context: base.context, value: [value], contentType: "", actor: actor, timestamp: 1)
        return object
    }

    @Test func aCoordinatedPutAppliesTheWriteWithThisNodeAsActor() throws {
        let object = try ReplicaStore.coordinate(
            stored: VersionedObject(),
            write: .put(value: [9], contentType: "text/plain", context: VersionVector()),
            actor: "n2",
            timestamp: 5
        )
        #expect(object.siblings.map(\.dot) == [Dot(actor: "n2", counter: 1)])
        #expect(object.siblings[0].contentType == "text/plain")
        #expect(object.timestamp == 5)
    }

    @Test func aCoordinatedDeleteLeavesATombstone() throws {
        let base = stored(1)
        let object = try ReplicaStore.coordinate(
            stored: base,
            write: .delete(context: base.context),
            actor: "n1",
            timestamp: 2
        )
        #expect(object.isNotFound && object.storedForm().isTombstone)
    }

    @Test func mergingSomethingAlreadyHeldWritesNothing() {
        let newer = stored(2, on: stored(1))
        #expect(ReplicaStore.merge(stored: newer, incoming: stored(1)) == nil)
        #expect(ReplicaStore.merge(stored: newer, incoming: newer) == nil)
        #expect(ReplicaStore.merge(stored: stored(1), incoming: newer) == newer)
        #expect(ReplicaStore.merge(stored: VersionedObject(), incoming: newer) == newer)
    }

    @Test func ifMatchWithTheCurrentContextHolds() throws {
        let base = stored(1)
        let conditions = try WritePreconditions.parse(ifMatch: base.context.clientContext, ifNoneMatch: nil)
        #expect(conditions.ifMatch == .context(base.context))
        #expect(throws: Never.self) { try conditions.check(base) }
        let quoted = try WritePreconditions.parse(ifMatch: "\"\(base.context.clientContext)\"", ifNoneMatch: nil)
        #expect(quoted == conditions)
    }

    @Test func ifMatchFailsOnceTheVersionMovedOn() throws {
        let base = stored(1)
        let conditions = try WritePreconditions.parse(ifMatch: base.context.clientContext, ifNoneMatch: nil)
        let moved = stored(2, by: "n2", on: base)
        #expect(throws: PreconditionError.self) {
            try ReplicaStore.coordinate(
                stored: moved,
                write: .put(value: [3], contentType: "", context: base.context),
                preconditions: conditions,
                actor: "n1",
                timestamp: 2
            )
        }
        // A 412 (the condition does not hold), not a 400 (a malformed header).
        #expect {
            try conditions.check(moved)
        } throws: { error in
            (error as? PreconditionError)?.isPreconditionFailure == true
        }
        // A concurrent sibling the client never saw also counts as moved on.
        let concurrent = VersionedObject.sync(base, stored(7, by: "n3"))
        #expect(throws: PreconditionError.self) { try conditions.check(concurrent) }
    }

    @Test func ifNoneMatchStarRefusesOnlyLiveValues() throws {
        let conditions = try WritePreconditions.parse(ifMatch: nil, ifNoneMatch: " * ")
        #expect(throws: Never.self) { try conditions.check(VersionedObject()) }
        var deleted = stored(1)
        deleted.delete(context: deleted.context, actor: "n1", timestamp: 3)
        #expect(throws: Never.self) { try conditions.check(deleted) }
        #expect(throws: PreconditionError.self) { try conditions.check(stored(1)) }
    }

    @Test func ifMatchStarNeedsALiveValue() throws {
        let conditions = try WritePreconditions.parse(ifMatch: "*", ifNoneMatch: nil)
        #expect(throws: PreconditionError.self) { try conditions.check(VersionedObject()) }
        #expect(throws: Never.self) { try conditions.check(stored(1)) }
    }

    @Test func malformedConditionalHeadersAreRejected() {
        #expect(throws: PreconditionError.malformedIfMatch(.invalidBase64)) {
            try WritePreconditions.parse(ifMatch: "not a context", ifNoneMatch: nil)
        }
        #expect(throws: PreconditionError.unsupportedIfNoneMatch("\"abc\"")) {
            try WritePreconditions.parse(ifMatch: nil, ifNoneMatch: "\"abc\"")
        }
        #expect(!PreconditionError.unsupportedIfNoneMatch("x").isPreconditionFailure)
    }
}

@Suite struct ReadViewTests {
    @Test func viewsHideTombstonesAndAlwaysCarryTheWholeContext() {
        var object = VersionedObject()
        #expect(object.view == .notFound(context: VersionVector()))
        object.update(context: VersionVector(), value: [1], contentType: "a/b", actor: "n1", timestamp: 1)
        guard case .value(let sibling, let context) = object.view else {
            Issue.record("expected one value")
            return
        }
        #expect(sibling.value == [1] && sibling.contentType == "a/b" && context == object.context)
        var deleted = object
        deleted.delete(context: object.context, actor: "n2", timestamp: 2)
        #expect(deleted.view == .notFound(context: VersionVector(["n1": 1, "n2": 1])))
        // A blind write concurrent with the delete: the live value wins, the tombstone stays as a sibling.
        object.update(context: VersionVector(), value: [2], contentType: "", actor: "n1", timestamp: 3)
        let merged = VersionedObject.sync(object, deleted)
        #expect(merged.siblings.count == 2)
        #expect(merged.view == .value(merged.liveSiblings[0], context: merged.context))
        #expect(merged.liveSiblings[0].value == [2])
        var other = VersionedObject()
        other.update(context: VersionVector(), value: [3], contentType: "", actor: "n3", timestamp: 4)
        let conflict = VersionedObject.sync(merged, other)
        #expect(conflict.view == .siblings(conflict.liveSiblings, context: conflict.context))
        #expect(conflict.liveSiblings.map(\.value) == [[2], [3]])
    }
}
