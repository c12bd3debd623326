/// How concurrent writes to one key are reconciled; chosen per collection.
public enum ConflictResolution: String, Hashable, Sendable {
    /// Concurrent writes are kept side by side as siblings until a client writes with a context covering them.
    case siblings
    /// Only the write with the highest timestamp survives (ties by actor name, then counter); causality is
    /// ignored, so a write from a node whose clock lags can lose to an older one. No siblings ever.
    case lastWriteWins = "lww"
}

/// One concurrent value of a key, identified by the dot of the write that created it.
public struct Sibling: Hashable, Sendable {
    /// The write that created this value.
    public var dot: Dot
    /// The value bytes; empty for a tombstone.
    public var value: [UInt8]
    /// The client's `Content-Type`, kept verbatim; empty when unknown.
    public var contentType: String
    /// Whether this sibling records a delete.
    public var isTombstone: Bool
    /// Wall-clock time of the write at the coordinating replica, nanoseconds since the Unix epoch.
    public var timestamp: UInt64

    /// Creates a sibling.
    public init(dot: Dot, value: [UInt8], contentType: String, isTombstone: Bool, timestamp: UInt64) {
        self.dot = dot
        self.value = value
        self.contentType = contentType
        self.isTombstone = isTombstone
        self.timestamp = timestamp
    }

    /// The total order deciding last-write-wins: timestamp, then actor name, then counter.
    func winsLastWrite(over other: Sibling) -> Bool {
        if timestamp != other.timestamp { return timestamp > other.timestamp }
        if dot.actor != other.dot.actor { return dot.actor > other.dot.actor }
        if dot.counter != other.dot.counter { return dot.counter > other.dot.counter }
        return prevails(over: other)
    }

    /// Picks deterministically between two siblings that claim the same dot. That only happens after a replica
    /// lost writes and reused a counter; any fixed choice keeps `sync` commutative.
    func prevails(over other: Sibling) -> Bool {
        if timestamp != other.timestamp { return timestamp > other.timestamp }
        if isTombstone != other.isTombstone { return !isTombstone }
        if contentType != other.contentType { return contentType > other.contentType }
        return other.value.lexicographicallyPrecedes(value)
    }
}
