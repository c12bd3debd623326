import Coordinator
import Storage

/// This node's replica of every key: versioned objects over the storage engine.
struct LocalReplica: Sendable {
    let storage: StorageEngine

    /// `get` without suspending, for the event loop.
    func getNow(collection: String, key: [UInt8]) throws -> VersionedObject {
        guard let record = try storage.getNow(collection: collection, key: key) else { return VersionedObject() }
        return try VersionedObject(storedMeta: record.meta, value: record.value, isTombstone: record.isTombstone)
    }

    /// `merge` without the durability wait: the caller MUST see the returned point durable before it
    /// acknowledges the merge. `encoded`, if given, is `incoming`'s full encoding as received: when this replica
    /// holds nothing for the key (a fresh write), those bytes are stored as they are instead of encoding again.
    func applyMerge(
        collection: String, key: [UInt8], _ incoming: VersionedObject, encoded: [UInt8]? = nil
    ) throws -> DurablePoint {
        var incoming = incoming
        var encoded = encoded
        // A value written before its collection was dropped may still arrive (replication in flight, repair).
        if let dropped = storage.droppedAt(collection), incoming.siblings.contains(where: { $0.timestamp <= dropped }) {
            let kept = incoming.forgettingSiblings(through: dropped)
            incoming = kept.siblings.isEmpty ? VersionedObject() : kept
            encoded = nil
        }
        return try storage.apply(collection: collection, key: key) { record in
            guard let record else {
                guard !incoming.isEmpty else { return nil }
                if let encoded, !incoming.isNotFound {
                    return .put(meta: incoming.context.encoded(), value: encoded)
                }
                return Self.mutation(incoming.storedForm())
            }
            let current = try VersionedObject(
                storedMeta: record.meta, value: record.value, isTombstone: record.isTombstone)
            guard let merged = ReplicaStore.merge(stored: current, incoming: incoming), merged != current else {
                return nil
            }
            return Self.mutation(merged.storedForm())
        }.durable
    }

    /// Merges a record copied from another replica during range transfer. A key this replica does not hold
    /// takes the record's bytes as they are; otherwise the versions merge as for a replica write. Values written
    /// before their collection was dropped here are forgotten, as `applyMerge` does: the source may not have
    /// seen the drop yet.
    func applyTransferred(collection: String, key: [UInt8], isTombstone: Bool, meta: [UInt8], value: [UInt8])
        throws -> DurablePoint
    {
        if storage.droppedAt(collection) != nil {
            let incoming = try VersionedObject(storedMeta: meta, value: value, isTombstone: isTombstone)
            return try applyMerge(collection: collection, key: key, incoming)
        }
        return try storage.apply(collection: collection, key: key) { record in
            guard let record else { return isTombstone ? .tombstone(meta: meta) : .put(meta: meta, value: value) }
            let current = try VersionedObject(
                storedMeta: record.meta, value: record.value, isTombstone: record.isTombstone)
            let incoming = try VersionedObject(storedMeta: meta, value: value, isTombstone: isTombstone)
            guard let merged = ReplicaStore.merge(stored: current, incoming: incoming), merged != current else {
                return nil
            }
            return Self.mutation(merged.storedForm())
        }.durable
    }

    private static func mutation(_ form: StoredForm) -> Mutation {
        form.isTombstone ? .tombstone(meta: form.meta) : .put(meta: form.meta, value: form.value)
    }

    /// `transform` without the durability wait (see `applyMerge`). `encoded` is the stored object's full
    /// encoding when the change wrote one (what replicas are sent), nil when nothing changed.
    func applyTransform(
        collection: String, key: [UInt8], _ change: (VersionedObject) throws -> VersionedObject
    ) throws -> (object: VersionedObject, encoded: [UInt8]?, durable: DurablePoint) {
        var result = VersionedObject()
        var encoded: [UInt8]?
        let (_, durable) = try storage.apply(collection: collection, key: key) { record in
            let current =
                try record.map {
                    try VersionedObject(storedMeta: $0.meta, value: $0.value, isTombstone: $0.isTombstone)
                } ?? VersionedObject()
            result = try change(current)
            guard result != current else { return nil }
            let form = result.storedForm()
            encoded = form.isTombstone ? form.meta : form.value
            return Self.mutation(form)
        }
        return (result, encoded, durable)
    }

    func keys(collection: String, after: [UInt8]?, limit: Int) async throws -> [[UInt8]] {
        guard storage.collections().contains(collection) else { return [] }
        return try await storage.keys(collection: collection, after: after, limit: limit)
    }

    /// Drops the collection; the drop is recorded even when this replica holds none of it yet, so that writes
    /// still on their way here cannot bring it back.
    func dropCollection(_ name: String) async throws {
        do {
            try await storage.dropCollection(name)
        } catch StorageError.collectionNotFound {
            return
        }
    }
}
