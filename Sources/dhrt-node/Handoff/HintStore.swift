import Coordinator
import Foundation
import Logging
import Storage
import Synchronization
import Wire

/// The hints this node holds as a fallback: durable records in their own storage engine (`<data>/@hints`, a
/// name no collection can take; checksummed and crash-safe like every record) and the `HintQueue` that paces
/// their replay.
///
/// One record per owner and key, in the collection `hints`: key `owner length | owner | collection length |
/// collection | key`, meta the creation time (wall clock, ns), value the stored object's bytes. A later hint for
/// the same owner and key merges into it, so a hint never holds less than what was acknowledged.
final class HintStore: Sendable {
    static let collection = "hints"

    let engine: StorageEngine
    private let queue: Mutex<HintQueue>
    private let logger: Logger

    private init(engine: StorageEngine, queue: HintQueue, logger: Logger) {
        self.engine = engine
        self.queue = Mutex(queue)
        self.logger = logger
    }

    /// Opens the hint records (in memory when `directory` is nil) and queues every hint found.
    static func open(
        directory: String?, partitions: Int, sync: SyncPolicy, maxKeySize: Int, maxValueSize: Int,
        limits: HintQueue.Limits, logger: Logger
    ) async throws -> HintStore {
        var options = StorageOptions(
            directory: directory, partitionCount: partitions, sync: directory == nil ? .none : sync,
            maxKeySize: maxKeySize + 512, maxValueSize: maxValueSize)
        options.mergeDeadRatio = 0.3
        let engine = try await StorageEngine.open(options, logger: logger)
        var queue = HintQueue(limits: limits)
        var loaded = 0
        for partition in 0..<partitions {
            for (key, record) in try await engine.records(collection: collection, partition: partition)
            where !record.isTombstone {
                guard let hint = Self.hint(from: key) else { continue }
                queue.onStored(hint, bytes: record.value.count, createdAt: Self.createdAt(record.meta))
                loaded += 1
            }
        }
        if loaded > 0 { logger.info("hints loaded", metadata: ["count": "\(loaded)"]) }
        return HintStore(engine: engine, queue: queue, logger: logger)
    }

    // MARK: Taking hints

    /// Stores a hint (merged into one held for the same owner and key); `done` runs once it is durable, or with
    /// the reason it was refused (the store is full) or failed.
    func accept(
        _ put: HintPut, on executor: (any CompletionExecutor)?,
        _ done: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let hint = HintKey(owner: put.owner, collection: put.collection, key: put.key)
        guard queue.withLock({ $0.admits(bytes: put.object.count) }) else {
            logger.warning(
                "hint dropped: the hint store is full",
                metadata: ["owner": "\(put.owner)", "collection": "\(put.collection)"])
            done(.failure(ErrorReply(code: "hints_full", detail: "the fallback's hint store is full")))
            return
        }
        let incoming: VersionedObject
        do {
            incoming = try VersionedObject.decode(put.object)
        } catch {
            done(.failure(ErrorReply(code: "bad_object", detail: "\(error)")))
            return
        }
        let now = Self.wallClock()
        var stored = (bytes: put.object.count, createdAt: now)
        let point: DurablePoint
        do {
            point = try engine.apply(collection: Self.collection, key: Self.recordKey(hint)) { record in
                guard let record, !record.isTombstone else {
                    return .put(meta: Self.meta(createdAt: now), value: put.object)
                }
                let held = try VersionedObject.decode(record.value)
                guard let merged = ReplicaStore.merge(stored: held, incoming: incoming), merged != held else {
                    stored.bytes = record.value.count
                    stored.createdAt = Self.createdAt(record.meta)
                    return nil
                }
                // A hint's age is its newest write's: expiring it drops every write merged into it.
                let bytes = merged.encoded()
                stored.bytes = bytes.count
                return .put(meta: Self.meta(createdAt: now), value: bytes)
            }.durable
        } catch {
            done(.failure(error))
            return
        }
        let result = stored
        engine.whenDurable(point, on: executor) { durable in
            if case .success = durable {
                self.queue.withLock { $0.onStored(hint, bytes: result.bytes, createdAt: result.createdAt) }
            }
            done(durable.mapError { $0 })
        }
    }

    // MARK: Replay support

    /// Runs an event of the queue under its lock.
    func withQueue<T: Sendable>(_ body: (inout HintQueue) -> T) -> T { queue.withLock { body(&$0) } }

    /// The stored object bytes of a hint, nil if it is gone.
    func bytes(of hint: HintKey) -> [UInt8]? {
        guard let record = try? engine.getNow(collection: Self.collection, key: Self.recordKey(hint)),
            !record.isTombstone
        else { return nil }
        return record.value
    }

    /// Deletes a hint's record if it still holds `bytes` (what the owner acknowledged), or always when nil.
    func delete(_ hint: HintKey, ifHolding bytes: [UInt8]?) {
        do {
            _ = try engine.apply(collection: Self.collection, key: Self.recordKey(hint)) { record in
                guard let record, !record.isTombstone else { return nil }
                if let bytes, record.value != bytes { return nil }
                return .tombstone(meta: [])
            }
        } catch {
            logger.error("could not delete a hint", metadata: ["owner": "\(hint.owner)", "error": "\(error)"])
        }
    }

    // MARK: Encoding

    static func recordKey(_ hint: HintKey) -> [UInt8] {
        let owner = Array(hint.owner.utf8)
        let collection = Array(hint.collection.utf8)
        var key: [UInt8] = []
        key.reserveCapacity(3 + owner.count + collection.count + hint.key.count)
        key.append(UInt8(truncatingIfNeeded: owner.count))
        key += owner
        key.append(UInt8(truncatingIfNeeded: collection.count >> 8))
        key.append(UInt8(truncatingIfNeeded: collection.count))
        key += collection
        key += hint.key
        return key
    }

    static func hint(from key: [UInt8]) -> HintKey? {
        guard let ownerLength = key.first.map(Int.init), key.count >= 1 + ownerLength + 2 else { return nil }
        let owner = String(decoding: key[1..<(1 + ownerLength)], as: UTF8.self)
        let at = 1 + ownerLength
        let collectionLength = Int(key[at]) << 8 | Int(key[at + 1])
        guard key.count > at + 2 + collectionLength else { return nil }
        let collection = String(decoding: key[(at + 2)..<(at + 2 + collectionLength)], as: UTF8.self)
        return HintKey(owner: owner, collection: collection, key: Array(key[(at + 2 + collectionLength)...]))
    }

    static func meta(createdAt: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: createdAt >> (56 - 8 * $0)) }
    }

    static func createdAt(_ meta: [UInt8]) -> UInt64 {
        guard meta.count >= 8 else { return 0 }
        return meta.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func wallClock() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1_000_000_000) }
}
