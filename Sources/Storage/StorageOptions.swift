/// When a write counts as durable.
public enum SyncPolicy: String, Sendable, CaseIterable {
    /// Every write is fsynced before it returns.
    case always
    /// Group commit: concurrent writes share one fsync; each write returns after the fsync that covers it.
    case group
    /// Writes return once they are in the engine's buffer; the OS writes them back when it likes.
    case none
}

/// How a `StorageEngine` is opened.
public struct StorageOptions: Sendable {
    /// The data directory; one subdirectory per collection. `nil` selects memory mode (no files).
    public var directory: String?
    /// Ring partitions the keydir is grouped by; a power of two in 8...4096.
    public var partitionCount: Int
    /// Durability of writes.
    public var sync: SyncPolicy
    /// Size at which the active data file is sealed and a new one started. At most 4 GiB.
    public var maxFileSize: Int
    /// Largest key in bytes.
    public var maxKeySize: Int
    /// Largest value in bytes.
    public var maxValueSize: Int
    /// Largest meta (causal context) in bytes.
    public var maxMetaSize: Int
    /// A sealed file is merged once its dead bytes reach this share of its size.
    public var mergeDeadRatio: Double

    /// Options with dhrt's defaults: persisted at `directory`, 256 partitions, group commit, 256 MiB files.
    public init(
        directory: String?,
        partitionCount: Int = 256,
        sync: SyncPolicy = .group,
        maxFileSize: Int = 256 << 20,
        maxKeySize: Int = 1024,
        maxValueSize: Int = 8 << 20,
        maxMetaSize: Int = 1 << 20,
        mergeDeadRatio: Double = 0.5
    ) {
        self.directory = directory
        self.partitionCount = partitionCount
        self.sync = sync
        self.maxFileSize = maxFileSize
        self.maxKeySize = maxKeySize
        self.maxValueSize = maxValueSize
        self.maxMetaSize = maxMetaSize
        self.mergeDeadRatio = mergeDeadRatio
    }

    /// Memory mode: the same engine with no files.
    public static func memory(partitionCount: Int = 256) -> StorageOptions {
        StorageOptions(directory: nil, partitionCount: partitionCount, sync: .none)
    }

    func validated() throws(StorageError) -> StorageOptions {
        guard maxKeySize >= 1, maxKeySize <= Int(UInt16.max) else {
            throw .invalidOptions("maxKeySize \(maxKeySize) must be from 1 to \(UInt16.max)")
        }
        guard maxValueSize >= 0, maxMetaSize >= 0 else { throw .invalidOptions("size limits must not be negative") }
        let largestRecord = RecordFormat.headerSize + maxKeySize + maxMetaSize + maxValueSize
        guard maxFileSize >= RecordFormat.fileHeaderSize + largestRecord, maxFileSize <= Int(UInt32.max) else {
            throw .invalidOptions(
                "maxFileSize \(maxFileSize) must hold the largest record (\(largestRecord) bytes) and be at most 4 GiB")
        }
        guard mergeDeadRatio > 0, mergeDeadRatio <= 1 else {
            throw .invalidOptions("mergeDeadRatio \(mergeDeadRatio) must be in (0, 1]")
        }
        return self
    }
}

/// A record as stored: the newest write of a key, which may be a tombstone.
public struct StoredRecord: Sendable, Equatable {
    /// Opaque metadata (the version / causal context).
    public var meta: [UInt8]
    /// The value; empty for tombstones and for `getMeta`.
    public var value: [UInt8]
    /// True when the record marks a delete.
    public var isTombstone: Bool
    /// Nanoseconds since the Unix epoch, strictly increasing within a collection.
    public var timestamp: UInt64

    /// A record with the given parts.
    public init(meta: [UInt8], value: [UInt8], isTombstone: Bool, timestamp: UInt64) {
        self.meta = meta
        self.value = value
        self.isTombstone = isTombstone
        self.timestamp = timestamp
    }
}

/// What an `update` transform decides to write.
public enum Mutation: Sendable, Equatable {
    /// Store a value with its meta.
    case put(meta: [UInt8], value: [UInt8])
    /// Store a tombstone with its meta.
    case tombstone(meta: [UInt8])
}
