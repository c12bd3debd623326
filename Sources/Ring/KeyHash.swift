import CXXHash

/// Hashes `(collection, key)` onto the 64-bit ring with XXH3-64 over `collection 0x00 key`.
///
/// The separator byte keeps `("ab", "c")` and `("a", "bc")` apart. Short inputs are joined in a
/// stack buffer so that hashing allocates nothing.
public enum KeyHash {
    /// Inputs up to this many bytes are hashed from a stack buffer; longer ones use XXH3's streaming state.
    @usableFromInline static let stackLimit = 512

    /// The XXH3-64 hash of `collection 0x00 key`.
    @inlinable
    public static func hash(collection: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> UInt64 {
        let total = collection.count + 1 + key.count
        if total <= stackLimit {
            return withUnsafeTemporaryAllocation(byteCount: total, alignment: 8) { buffer in
                if collection.count > 0 { buffer.baseAddress!.copyMemory(from: collection.baseAddress!, byteCount: collection.count) }
                buffer[collection.count] = 0
                if key.count > 0 {
                    (buffer.baseAddress! + collection.count + 1).copyMemory(from: key.baseAddress!, byteCount: key.count)
                }
                return XXH3_64bits(buffer.baseAddress, total)
            }
        }
        return streamingHash(collection: collection, key: key)
    }

    @usableFromInline
    static func streamingHash(collection: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> UInt64 {
        guard let state = XXH3_createState() else { fatalError("XXH3_createState failed: out of memory") }
        defer { XXH3_freeState(state) }
        XXH3_64bits_reset(state)
        XXH3_64bits_update(state, collection.baseAddress, collection.count)
        var separator: UInt8 = 0
        XXH3_64bits_update(state, &separator, 1)
        XXH3_64bits_update(state, key.baseAddress, key.count)
        return XXH3_64bits_digest(state)
    }

    /// The XXH3-64 hash of `collection 0x00 key`.
    @inlinable
    public static func hash(collection: [UInt8], key: [UInt8]) -> UInt64 {
        collection.withUnsafeBytes { c in key.withUnsafeBytes { k in hash(collection: c, key: k) } }
    }

    /// The XXH3-64 hash of `collection 0x00 key`, for UTF-8 names and keys.
    @inlinable
    public static func hash(collection: String, key: [UInt8]) -> UInt64 {
        var collection = collection
        return collection.withUTF8 { c in key.withUnsafeBytes { k in hash(collection: UnsafeRawBufferPointer(c), key: k) } }
    }

    /// XXH3-64 of arbitrary bytes (checksums, tree hashes).
    @inlinable
    public static func xxh3(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        XXH3_64bits(bytes.baseAddress, bytes.count)
    }
}

/// Maps a 64-bit hash onto one of Q equal partitions: the top log2(Q) bits.
public struct Partitioner: Sendable, Hashable {
    /// The smallest partition count a ring may have.
    public static let minimumCount = 8
    /// The largest partition count a ring may have.
    public static let maximumCount = 4096
    /// The partition count used when none is given.
    public static let defaultCount = 256

    /// Q, a power of two in `minimumCount...maximumCount`.
    public let count: Int
    @usableFromInline let shift: UInt64

    /// A partitioner for `count` partitions; throws unless `count` is a power of two in 8...4096.
    public init(count: Int) throws(RingError) {
        guard count >= Self.minimumCount, count <= Self.maximumCount, count & (count - 1) == 0 else {
            throw RingError.invalidPartitionCount(count)
        }
        self.count = count
        self.shift = UInt64(64 - count.trailingZeroBitCount)
    }

    /// The partition of a hash.
    @inlinable
    public func partition(ofHash hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> shift) }

    /// The partition of `(collection, key)`.
    @inlinable
    public func partition(collection: String, key: [UInt8]) -> Int {
        partition(ofHash: KeyHash.hash(collection: collection, key: key))
    }
}
