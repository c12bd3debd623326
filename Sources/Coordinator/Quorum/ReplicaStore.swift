/// A client's write, as the coordinating replica applies it.
public enum ClientWrite: Hashable, Sendable {
    /// `PUT`: store `value` (raw body bytes) with its `Content-Type`, superseding what `context` covers.
    case put(value: [UInt8], contentType: String, context: VersionVector)
    /// `DELETE`: a tombstone superseding what `context` covers.
    case delete(context: VersionVector)
}

/// The pure functions a replica runs inside Storage's atomic read-modify-write (`StorageEngine.update`):
/// decode the stored record, compute the new object, encode it (`storedForm()`).
public enum ReplicaStore {
    /// The coordinating replica's step for a client write: check the preconditions against the stored copy,
    /// then apply the write with this node as actor. Store the result and hand it to `QuorumWrite.onLocalStored`.
    /// - Parameters:
    ///   - stored: The local copy (`VersionedObject()` when absent).
    ///   - actor: This node's name.
    ///   - timestamp: Wall clock, nanoseconds since the Unix epoch (used for last-write-wins and shown to clients).
    public static func coordinate(
        stored: VersionedObject,
        write: ClientWrite,
        preconditions: WritePreconditions = .none,
        actor: String,
        timestamp: UInt64,
        resolution: ConflictResolution = .siblings
    ) throws(PreconditionError) -> VersionedObject {
        try preconditions.check(stored)
        var object = stored
        switch write {
        case .put(let value, let contentType, let context):
            object.update(
                context: context, value: value, contentType: contentType, actor: actor, timestamp: timestamp,
                resolution: resolution)
        case .delete(let context):
            object.delete(context: context, actor: actor, timestamp: timestamp, resolution: resolution)
        }
        return object
    }

    /// A replica's step for a coordinated write or a read repair: sync the incoming object into the stored one.
    /// Returns nil when the stored copy already descends the incoming one, so nothing needs writing (the
    /// replica still acknowledges: it holds the write).
    public static func merge(
        stored: VersionedObject,
        incoming: VersionedObject,
        resolution: ConflictResolution = .siblings
    ) -> VersionedObject? {
        if stored.descends(incoming, resolution: resolution) { return nil }
        return VersionedObject.sync(stored, incoming, resolution: resolution)
    }
}
