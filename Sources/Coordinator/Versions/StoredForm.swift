/// How a `VersionedObject` maps onto a Storage record (`meta`, `value`, tombstone flag, timestamp).
///
/// - A key with a live value: `value` holds the full object encoding, `meta` the smaller clock encoding, so
///   `getMeta` alone answers conditional checks and anti-entropy without reading values.
/// - A key whose siblings are all tombstones: a Storage tombstone (`Mutation.tombstone(meta:)`) whose `meta`
///   holds the full object encoding (tombstones carry no values, so it stays small). The dots must survive:
///   without them a delete could not supersede the values it replaced on other replicas.
public struct StoredForm: Hashable, Sendable {
    /// Record meta: the clock (live) or the whole object (tombstone).
    public var meta: [UInt8]
    /// Record value: the whole object (live) or empty (tombstone).
    public var value: [UInt8]
    /// Whether Storage should write a tombstone record (the key reads as not found and is not listed).
    public var isTombstone: Bool
    /// The newest sibling timestamp, for the record header.
    public var timestamp: UInt64

    /// Creates a stored form; normally obtained from `VersionedObject.storedForm()`.
    public init(meta: [UInt8], value: [UInt8], isTombstone: Bool, timestamp: UInt64) {
        self.meta = meta
        self.value = value
        self.isTombstone = isTombstone
        self.timestamp = timestamp
    }
}

extension VersionedObject {
    /// The record to store for this object.
    public func storedForm() -> StoredForm {
        if isNotFound {
            return StoredForm(meta: encoded(), value: [], isTombstone: true, timestamp: timestamp)
        }
        return StoredForm(meta: context.encoded(), value: encoded(), isTombstone: false, timestamp: timestamp)
    }

    /// Reads an object back from a Storage record's fields (as produced by `storedForm()`).
    public init(storedMeta meta: [UInt8], value: [UInt8], isTombstone: Bool) throws(VersionError) {
        self = try Self.decode(isTombstone ? meta : value)
    }

    /// Reads an object from an optional record: nil (key absent) is the empty object.
    public static func fromStored(meta: [UInt8]?, value: [UInt8]?, isTombstone: Bool) throws(VersionError)
        -> VersionedObject
    {
        guard let meta else { return VersionedObject() }
        return try VersionedObject(storedMeta: meta, value: value ?? [], isTombstone: isTombstone)
    }
}
