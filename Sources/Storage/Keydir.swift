import Ring

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One key's place on disk: 32 bytes, no references. The key bytes live in the partition's arena.
struct KeydirEntry {
    var timestamp: UInt64
    var keyOffset: UInt32
    var fileID: UInt32
    var offset: UInt32
    var metaSize: UInt32
    var valueSize: UInt32
    var keyLength: UInt16
    var flags: UInt8
    var spare: UInt8 = 0

    var isTombstone: Bool { flags & RecordFormat.tombstoneFlag != 0 }
    var recordSize: Int { RecordFormat.headerSize + Int(keyLength) + Int(metaSize) + Int(valueSize) }
}

/// Where a record was written, as the keydir stores it.
struct RecordLocation: Equatable {
    var fileID: UInt32
    var offset: UInt32
    var timestamp: UInt64
    var flags: UInt8
    var metaSize: UInt32
    var valueSize: UInt32
}

/// The keydir of one collection: per ring partition, an open-addressing table.
///
/// Each partition holds a dense array of 32-byte entries, a slot array of `UInt32` (entry index + 1 in the low
/// 24 bits, 8 bits of the key hash above it, so most probes never touch an entry), and an arena with the key bytes.
/// Entries and arena grow by an eighth, slots double at 80% load: 38-46 bytes per key beyond the key itself.
struct Keydir {
    let partitioner: Partitioner
    var partitions: [PartitionTable]
    private(set) var count = 0
    private(set) var keyBytes = 0
    private(set) var tombstoneCount = 0

    init(partitioner: Partitioner) {
        self.partitioner = partitioner
        partitions = Array(repeating: PartitionTable(), count: partitioner.count)
    }

    /// Absorbs the slot values `touchSlot` reads, so the loads are not optimised away.
    var sink: UInt32 = 0

    /// Reads the home slot of `hash`, pulling its cache line in ahead of an upsert.
    @inline(__always)
    func touchSlot(hash: UInt64) -> UInt32 {
        let slots = partitions[partition(ofHash: hash)].slots
        guard !slots.isEmpty else { return 0 }
        return slots.withUnsafeBufferPointer { $0[Int(truncatingIfNeeded: hash) & ($0.count - 1)] }
    }

    @inline(__always)
    func partition(ofHash hash: UInt64) -> Int { partitioner.partition(ofHash: hash) }

    @inline(__always)
    func find(key: UnsafeRawBufferPointer, hash: UInt64) -> KeydirEntry? {
        let p = partition(ofHash: hash)
        guard let index = partitions[p].find(key: key, hash: hash) else { return nil }
        return partitions[p].entries[index]
    }

    /// Stores `location` for `key`; returns the entry it replaced. With `onlyIfNewer`, an existing entry with a
    /// higher timestamp is kept and the new location is returned as `rejected` (used when loading files).
    @inline(__always)
    mutating func upsert(
        key: UnsafeRawBufferPointer, hash: UInt64, location: RecordLocation, collection: [UInt8],
        onlyIfNewer: Bool = false
    ) -> (replaced: KeydirEntry?, rejected: Bool) {
        let p = partition(ofHash: hash)
        let result = partitions[p].upsert(
            key: key, hash: hash, location: location, collection: collection, onlyIfNewer: onlyIfNewer)
        if result.inserted {
            count += 1
            keyBytes += key.count
        }
        if !result.rejected {
            if let old = result.replaced, old.isTombstone { tombstoneCount -= 1 }
            if location.flags & RecordFormat.tombstoneFlag != 0 { tombstoneCount += 1 }
        }
        return (result.replaced, result.rejected)
    }

    /// Points `key` at `new` only if it still points at `old` (merge moving a live record).
    mutating func replaceLocation(
        key: UnsafeRawBufferPointer, hash: UInt64, from old: (fileID: UInt32, offset: UInt32),
        to new: (fileID: UInt32, offset: UInt32)
    ) -> Bool {
        let p = partition(ofHash: hash)
        guard let index = partitions[p].find(key: key, hash: hash) else { return false }
        let entry = partitions[p].entries[index]
        guard entry.fileID == old.fileID, entry.offset == old.offset else { return false }
        partitions[p].entries[index].fileID = new.fileID
        partitions[p].entries[index].offset = new.offset
        return true
    }

    /// Forgets every key of partition `p`, returning the entries it held.
    mutating func removePartition(_ p: Int) -> [KeydirEntry] {
        let removed = partitions[p].entries
        count -= removed.count
        keyBytes -= partitions[p].keyBytes
        tombstoneCount -= removed.reduce(0) { $0 + ($1.isTombstone ? 1 : 0) }
        partitions[p] = PartitionTable()
        return removed
    }

    /// Reserves room for about `expected` keys spread evenly over the partitions.
    mutating func reserve(expectedKeys: Int, averageKeySize: Int) {
        let perPartition = expectedKeys / partitions.count + 1
        for p in partitions.indices {
            partitions[p].reserve(entries: perPartition, keyBytes: perPartition * averageKeySize)
        }
    }

    /// Bytes the keydir has allocated for entries, slots and key arenas (capacities, not counts).
    var allocatedBytes: Int {
        var total = MemoryLayout<PartitionTable>.stride * partitions.count
        for table in partitions { total += table.allocatedBytes }
        return total
    }
}

/// The keys of one partition: dense entries, a slot index and a key arena.
struct PartitionTable {
    var entries: [KeydirEntry] = []
    var slots: [UInt32] = []
    var arena: [UInt8] = []

    static let indexMask: UInt32 = 0x00FF_FFFF
    static let maximumEntries = Int(indexMask) - 1

    var keyBytes: Int { arena.count }

    var allocatedBytes: Int {
        entries.capacity * MemoryLayout<KeydirEntry>.stride + slots.capacity * 4 + arena.capacity
    }

    @inline(__always)
    static func tag(of hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 32) << 24 }

    /// The entry index of `key`, or nil.
    @inline(__always)
    func find(key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let (index, _) = probe(key: key, hash: hash)
        return index
    }

    /// The entry index of `key` if present, else the free slot where it would go.
    @inline(__always)
    private func probe(key: UnsafeRawBufferPointer, hash: UInt64) -> (index: Int?, slot: Int) {
        if slots.isEmpty { return (nil, -1) }
        let tag = Self.tag(of: hash)
        return slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                arena.withUnsafeBytes { arena in
                    let mask = slots.count - 1
                    var slot = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let value = slots[slot]
                        if value == 0 { return (nil, slot) }
                        if value & ~Self.indexMask == tag {
                            let index = Int(value & Self.indexMask) - 1
                            let entry = entries[index]
                            if Int(entry.keyLength) == key.count
                                && memcmp(arena.baseAddress! + Int(entry.keyOffset), key.baseAddress!, key.count) == 0
                            {
                                return (index, slot)
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    mutating func upsert(
        key: UnsafeRawBufferPointer, hash: UInt64, location: RecordLocation, collection: [UInt8], onlyIfNewer: Bool
    ) -> (replaced: KeydirEntry?, rejected: Bool, inserted: Bool) {
        var (found, slot) = probe(key: key, hash: hash)
        if let index = found {
            let old = entries[index]
            if onlyIfNewer && old.timestamp > location.timestamp { return (nil, true, false) }
            entries[index].fileID = location.fileID
            entries[index].offset = location.offset
            entries[index].timestamp = location.timestamp
            entries[index].flags = location.flags
            entries[index].metaSize = location.metaSize
            entries[index].valueSize = location.valueSize
            return (old, false, false)
        }
        precondition(entries.count < Self.maximumEntries, "a keydir partition holds at most 16M keys")
        if (entries.count + 1) * 5 > slots.count * 4 {
            rehash(capacity: max(16, slots.count * 2), collection: collection)
            (found, slot) = probe(key: key, hash: hash)
        }
        if entries.count == entries.capacity { entries.reserveCapacity(Self.grown(entries.capacity)) }
        if arena.count + key.count > arena.capacity {
            arena.reserveCapacity(max(Self.grown(arena.capacity), arena.count + key.count))
        }
        let keyOffset = UInt32(arena.count)
        arena.append(contentsOf: key)
        entries.append(
            KeydirEntry(
                timestamp: location.timestamp, keyOffset: keyOffset, fileID: location.fileID,
                offset: location.offset, metaSize: location.metaSize, valueSize: location.valueSize,
                keyLength: UInt16(key.count), flags: location.flags))
        slots[slot] = Self.tag(of: hash) | UInt32(entries.count)
        return (nil, false, true)
    }

    /// Grow by an eighth: little slack per key, copies amortised over eight appends.
    @inline(__always)
    static func grown(_ capacity: Int) -> Int { capacity + max(16, capacity / 8) }

    mutating func reserve(entries count: Int, keyBytes: Int) {
        if entries.capacity < count { entries.reserveCapacity(count) }
        if arena.capacity < keyBytes { arena.reserveCapacity(keyBytes) }
        var slotCount = max(16, slots.count)
        while count * 5 > slotCount * 4 { slotCount *= 2 }
        if slotCount > slots.count, !slots.isEmpty || count > 0 {
            rehash(capacity: slotCount, collection: nil)
        }
    }

    /// Rebuilds the slot index at `capacity` (a power of two); hashes come from the collection name and key.
    private mutating func rehash(capacity: Int, collection: [UInt8]?) {
        var newSlots = [UInt32](repeating: 0, count: capacity)
        if !entries.isEmpty {
            guard let collection else { preconditionFailure("rehash of a filled partition needs its collection") }
            let mask = capacity - 1
            arena.withUnsafeBytes { arena in
                collection.withUnsafeBytes { name in
                    for (i, entry) in entries.enumerated() {
                        let key = UnsafeRawBufferPointer(
                            rebasing: arena[Int(entry.keyOffset)..<(Int(entry.keyOffset) + Int(entry.keyLength))])
                        let hash = KeyHash.hash(collection: name, key: key)
                        var slot = Int(truncatingIfNeeded: hash) & mask
                        while newSlots[slot] != 0 { slot = (slot + 1) & mask }
                        newSlots[slot] = Self.tag(of: hash) | UInt32(i + 1)
                    }
                }
            }
        }
        slots = newSlots
    }

    /// The key bytes of entry `index`.
    func key(at index: Int) -> [UInt8] {
        let entry = entries[index]
        let start = Int(entry.keyOffset)
        return Array(arena[start..<(start + Int(entry.keyLength))])
    }
}
