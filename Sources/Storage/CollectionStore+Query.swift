import HeapModule

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension CollectionStore {
    /// Up to `limit` live (non-tombstone) keys after `after`, in byte order. Scans the keydir and keeps the
    /// smallest `limit` in a heap, so a page costs O(keys · log limit) and copies only candidates.
    func keys(after: [UInt8]?, limit: Int) -> [[UInt8]] {
        guard limit > 0 else { return [] }
        var heap = Heap<SortableKey>()
        state.withLock { s in
            for table in s.keydir.partitions {
                table.arena.withUnsafeBytes { arena in
                    for entry in table.entries where !entry.isTombstone {
                        let key = UnsafeRawBufferPointer(
                            rebasing: arena[Int(entry.keyOffset)..<(Int(entry.keyOffset) + Int(entry.keyLength))])
                        if let after, after.withUnsafeBytes({ compareBytes(key, $0) }) <= 0 { continue }
                        if heap.count == limit {
                            if heap.max!.bytes.withUnsafeBytes({ compareBytes(key, $0) }) >= 0 { continue }
                            heap.removeMax()
                        }
                        heap.insert(SortableKey(bytes: Array(key)))
                    }
                }
            }
        }
        return heap.unordered.sorted().map(\.bytes)
    }

    /// Every record of partition `p`, tombstones included, in no particular order.
    func records(partition p: Int) throws(StorageError) -> [(key: [UInt8], record: StoredRecord)] {
        let snapshot = state.withLock { s -> [([UInt8], KeydirEntry, Fetch)] in
            let table = s.keydir.partitions[p]
            return table.entries.indices.map { i in
                let entry = table.entries[i]
                return (table.key(at: i), entry, s.locate(entry, count: entry.recordSize))
            }
        }
        var result: [(key: [UInt8], record: StoredRecord)] = []
        result.reserveCapacity(snapshot.count)
        for (key, entry, fetch) in snapshot {
            result.append((key, try decode(fetch.resolve(), entry: entry, metaOnly: false)))
        }
        return result
    }

    /// Forgets partition `p` and records the drop durably, so its older records stay dead after a restart.
    func dropPartition(_ p: Int) throws(StorageError) {
        try state.withLock { (s: inout CollectionState) throws(StorageError) in
            guard !s.isClosed else { throw .closed }
            let dropped = s.nextTimestamp()
            var drops = s.drops
            drops[p] = dropped
            if path != nil { try DropMarkers.write(drops, partitionCount: options.partitionCount, to: dropsPath) }
            s.drops = drops
            for entry in s.keydir.removePartition(p) { s.files[entry.fileID]?.deadBytes += entry.recordSize }
        }
    }

    func stats() -> CollectionStats {
        let sample = state.withLock { s in
            (
                s.keydir.count, s.keydir.tombstoneCount, s.keydir.keyBytes, s.keydir.allocatedBytes, s.files.count,
                s.dataBytes, s.deadBytes, s.counters
            )
        }
        let (count, tombstones, keyBytes, allocated, files, dataBytes, deadBytes, counters) = sample
        return CollectionStats(
            keyCount: count, tombstoneCount: tombstones, keyBytes: keyBytes, keydirBytes: allocated,
            dataFiles: files, dataBytes: dataBytes, deadBytes: deadBytes,
            corruptRecordsSkipped: counters.corruptRegionsSkipped, corruptBytesSkipped: counters.corruptBytesSkipped,
            tornTailsTruncated: counters.tornTailsTruncated, truncatedBytes: counters.truncatedBytes,
            corruptReads: corruptReads.load(ordering: .relaxed), hintsLoaded: counters.hintsLoaded,
            hintsRejected: counters.hintsRejected,
            merges: counters.merges, mergeReclaimedBytes: counters.mergeReclaimedBytes)
    }

    /// Flushes, fsyncs and seals the active file, then writes the hints still missing.
    func close() throws(StorageError) {
        try state.withLock { (s: inout CollectionState) throws(StorageError) in
            guard !s.isClosed else { return }
            // After a failed fsync the active file is left as it is, without a hint: the next open scans it
            // and its checksums keep what the disk really holds.
            if s.syncFailure != nil {
                s.isClosed = true
                return
            }
            if let active = s.active, active.size == RecordFormat.fileHeaderSize, path != nil {
                s.active = nil
                s.files[active.id] = nil
                try FileSystem.remove(dataPath(active.id))
            }
            try seal(&s)
            s.isClosed = true
        }
        try writeMissingHints()
    }

    /// Writes a hint file for every sealed file without one (files sealed by rotation since the last merge).
    func writeMissingHints() throws(StorageError) {
        guard path != nil else { return }
        let pending = state.withLock { s -> [(UInt32, ReadSource)] in
            s.files.filter { $0.key != s.active?.id && !$0.value.hasHint }.map { ($0.key, $0.value.source) }
        }
        for (id, source) in pending.sorted(by: { $0.0 < $1.0 }) {
            guard case .file(let file) = source else { continue }
            let bytes = try file.readAll()
            var builder = HintFile.Builder(fileID: id, expectedBytes: bytes.count / 4)
            bytes.withUnsafeBytes { raw in
                _ = DataScanner(limits: limits).scan(raw) { offset, header in
                    let key = UnsafeRawBufferPointer(
                        rebasing: raw[
                            (offset + RecordFormat.headerSize)..<(offset + RecordFormat.headerSize + header.keySize)])
                    builder.add(key: key, header: header, offset: offset)
                }
            }
            try FileSystem.writeAtomically(builder.finish(dataFileSize: bytes.count), to: hintPath(id))
            state.withLock { s in s.files[id]?.hasHint = true }
        }
    }
}

/// Key bytes ordered lexicographically, for the page heap.
struct SortableKey: Comparable {
    var bytes: [UInt8]

    static func < (lhs: SortableKey, rhs: SortableKey) -> Bool {
        lhs.bytes.withUnsafeBytes { l in rhs.bytes.withUnsafeBytes { r in compareBytes(l, r) < 0 } }
    }
}

/// Lexicographic byte comparison: negative, zero or positive.
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
        let order = memcmp(a.baseAddress!, b.baseAddress!, common)
        if order != 0 { return Int(order) }
    }
    return a.count - b.count
}

extension CollectionStore {
    /// The keys of partition `p` (tombstones included) in byte order.
    func sortedKeys(partition p: Int) -> [[UInt8]] {
        let keys = state.withLock { s in
            let table = s.keydir.partitions[p]
            return table.entries.indices.map { SortableKey(bytes: table.key(at: $0)) }
        }
        return keys.sorted().map(\.bytes)
    }

    /// How many keys (tombstones included) partition `p` holds.
    func keyCount(partition p: Int) -> Int {
        state.withLock { $0.keydir.partitions[p].entries.count }
    }
}
