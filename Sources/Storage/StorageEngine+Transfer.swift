/// One record of a transfer batch: where it belongs and its bytes as stored.
public struct PartitionRecord: Sendable, Equatable {
    public var collection: String
    public var key: [UInt8]
    public var record: StoredRecord
}

/// A batch of one partition's records in cursor order (collections by name, keys in byte order).
public struct PartitionBatch: Sendable {
    public var records: [PartitionRecord]
    /// Nothing after the last record.
    public var finished: Bool
    /// Keys of the partition after the last record, for progress.
    public var remaining: Int
}

extension StorageEngine {
    /// The records of `partition` after (`afterCollection`, `afterKey`), across collections, up to `maxBytes`
    /// of record bytes (at least one record, which alone may be larger). Keys written meanwhile may or may not be included:
    /// range transfer covers them by sending writes to the receiver as well.
    public func partitionBatch(
        partition: Int, afterCollection: String?, afterKey: [UInt8], maxBytes: Int
    ) throws -> PartitionBatch {
        guard partition >= 0, partition < partitioner.count else {
            throw StorageError.invalidPartition(partition, count: partitioner.count)
        }
        let names = collections().sorted().filter { afterCollection == nil || $0 >= afterCollection! }
        var records: [PartitionRecord] = []
        var bytes = 0
        var remaining = 0
        var full = false
        for name in names {
            guard let store = try store(name) else { continue }
            if full {
                remaining += store.keyCount(partition: partition)
                continue
            }
            var keys = store.sortedKeys(partition: partition)
            if name == afterCollection, !afterKey.isEmpty {
                let start = keys.partitioningIndex { afterKey.lexicographicallyPrecedes($0) }
                keys.removeFirst(start)
            }
            for (index, key) in keys.enumerated() {
                if full {
                    remaining += keys.count - index
                    break
                }
                guard let record = try store.read(key: key, metaOnly: false) else { continue }
                let size = key.count + record.meta.count + record.value.count + 32
                // A record that would take the batch past `maxBytes` waits for the next batch, so a batch is
                // one frame even when it ends near a large object (only a lone record may exceed the bound).
                if !records.isEmpty, bytes + size > maxBytes {
                    full = true
                    remaining += keys.count - index
                    break
                }
                records.append(PartitionRecord(collection: name, key: key, record: record))
                bytes += size
                full = bytes >= maxBytes
            }
        }
        return PartitionBatch(records: records, finished: remaining == 0, remaining: remaining)
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, for a predicate false then true over the array.
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

extension StorageEngine {
    /// How many keys (tombstones included) `collection` holds in `partition`.
    public func keyCount(collection: String, partition: Int) -> Int {
        guard partition >= 0, partition < partitioner.count, let store = try? store(collection) else { return 0 }
        return store.keyCount(partition: partition)
    }
}

extension StorageEngine {
    /// `dropPartition` for callers that cannot suspend; durable at return.
    public func dropPartitionNow(collection: String, partition: Int) throws {
        guard partition >= 0, partition < partitioner.count else {
            throw StorageError.invalidPartition(partition, count: partitioner.count)
        }
        try store(collection)?.dropPartition(partition)
    }
}
