/// Figures for one collection.
public struct CollectionStats: Sendable, Equatable {
    /// Keys in the keydir, tombstones included.
    public var keyCount: Int
    /// Keys whose newest record is a tombstone.
    public var tombstoneCount: Int
    /// Bytes of the keys themselves.
    public var keyBytes: Int
    /// Bytes the keydir has allocated (entries, slot index, key arena, at capacity).
    public var keydirBytes: Int
    /// Data files, the active one included.
    public var dataFiles: Int
    /// Bytes in data files.
    public var dataBytes: Int
    /// Bytes of data files no key points at any more (overwritten, deleted partitions, corrupt).
    public var deadBytes: Int
    /// Corrupt stretches skipped inside data files when they were read at open.
    public var corruptRecordsSkipped: Int
    public var corruptBytesSkipped: Int
    /// Torn or corrupt tails cut off at open, and their bytes.
    public var tornTailsTruncated: Int
    public var truncatedBytes: Int
    /// Reads that found a record failing its checksum.
    public var corruptReads: Int
    /// Hint files the keydir was rebuilt from at open.
    public var hintsLoaded: Int
    /// Hint files found damaged or stale at open (the data file was read instead).
    public var hintsRejected: Int
    /// Merges completed and the bytes they gave back.
    public var merges: Int
    public var mergeReclaimedBytes: Int

    /// Keydir bytes per key, key bytes included.
    public var keydirBytesPerKey: Double { keyCount == 0 ? 0 : Double(keydirBytes) / Double(keyCount) }
    /// Keydir bytes per key beyond the key bytes.
    public var keydirOverheadPerKey: Double {
        keyCount == 0 ? 0 : Double(keydirBytes - keyBytes) / Double(keyCount)
    }
}

/// Figures for the whole engine.
public struct StorageStats: Sendable {
    /// Per collection, by name.
    public var collections: [String: CollectionStats]

    /// Keys over all collections, tombstones included.
    public var keyCount: Int { collections.values.reduce(0) { $0 + $1.keyCount } }
    public var keyBytes: Int { collections.values.reduce(0) { $0 + $1.keyBytes } }
    public var keydirBytes: Int { collections.values.reduce(0) { $0 + $1.keydirBytes } }
    /// Keydir bytes per key, key bytes included.
    public var keydirBytesPerKey: Double { keyCount == 0 ? 0 : Double(keydirBytes) / Double(keyCount) }
    /// Keydir bytes per key beyond the key bytes.
    public var keydirOverheadPerKey: Double { keyCount == 0 ? 0 : Double(keydirBytes - keyBytes) / Double(keyCount) }
    /// Corrupt stretches skipped and tails cut at open, over all collections.
    public var corruptRecordsSkipped: Int { collections.values.reduce(0) { $0 + $1.corruptRecordsSkipped } }
    public var tornTailsTruncated: Int { collections.values.reduce(0) { $0 + $1.tornTailsTruncated } }
}
