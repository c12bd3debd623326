import Logging
import Ring

/// Rebuilds a collection's state from its directory: hints where valid, data files otherwise; torn tails are
/// cut off and corrupt stretches skipped, each counted and logged.
struct CollectionLoader {
    let name: String
    let nameBytes: [UInt8]
    let path: String
    let options: StorageOptions
    let limits: RecordLimits
    let logger: Logger
    let partitioner: Partitioner

    /// When the collection was last dropped: its older records are dead in every partition.
    let droppedAt: UInt64?

    init(
        name: String, path: String, options: StorageOptions, logger: Logger, partitioner: Partitioner,
        droppedAt: UInt64? = nil
    ) {
        self.droppedAt = droppedAt
        self.name = name
        self.nameBytes = Array(name.utf8)
        self.path = path
        self.options = options
        self.limits = RecordLimits(options)
        var logger = logger
        logger[metadataKey: "collection"] = "\(name)"
        self.logger = logger
        self.partitioner = partitioner
    }

    func load() throws(StorageError) -> CollectionState {
        var s = CollectionState(keydir: Keydir(partitioner: partitioner))
        s.drops = try DropMarkers.read(from: path + "/DROPS", partitionCount: partitioner.count)
        if let droppedAt {
            for p in 0..<partitioner.count { s.drops[p] = max(s.drops[p] ?? 0, droppedAt) }
        }
        var dataIDs: [UInt32] = []
        var hintIDs: Set<UInt32> = []
        for file in try FileSystem.list(path) {
            if file.hasSuffix(".tmp") {
                try FileSystem.remove(path + "/" + file)  // an unfinished merge output, hint or marker file
            } else if file.hasSuffix(".data"), let id = UInt32(file.dropLast(5)) {
                dataIDs.append(id)
            } else if file.hasSuffix(".hint"), let id = UInt32(file.dropLast(5)) {
                hintIDs.insert(id)
            }
        }
        dataIDs.sort()
        for id in hintIDs where !dataIDs.contains(id) { try FileSystem.remove(hintPath(id)) }
        reserve(&s, dataIDs: dataIDs, hintIDs: hintIDs)
        for id in dataIDs {
            try loadFile(&s, id: id, hasHintFile: hintIDs.contains(id))
        }
        s.nextFileID = (dataIDs.last ?? 0) + 1
        return s
    }

    private func dataPath(_ id: UInt32) -> String { path + "/" + CollectionStore.fileName(id) + ".data" }
    private func hintPath(_ id: UInt32) -> String { path + "/" + CollectionStore.fileName(id) + ".hint" }

    /// Sizes the keydir from the hint trailers' entry counts, so loading never rehashes.
    private func reserve(_ s: inout CollectionState, dataIDs: [UInt32], hintIDs: Set<UInt32>) {
        var expected = 0
        for id in dataIDs where hintIDs.contains(id) {
            guard let file = try? FileDescriptor.open(hintPath(id), create: false), let size = try? file.size(),
                size >= HintFile.trailerSize, let trailer = try? file.read(count: 16, at: size - HintFile.trailerSize)
            else { continue }
            let count = trailer.withUnsafeBytes {
                UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
            expected += Int(min(count, UInt64(size)))
        }
        if expected > 0 { s.keydir.reserve(expectedKeys: expected, averageKeySize: 16) }
    }

    private func loadFile(_ s: inout CollectionState, id: UInt32, hasHintFile: Bool) throws(StorageError) {
        let file = try FileDescriptor.open(dataPath(id), create: false)
        let size = try file.size()
        if size <= RecordFormat.fileHeaderSize {
            // Created but never written (or torn inside its header): nothing to keep.
            try FileSystem.remove(dataPath(id))
            try FileSystem.remove(hintPath(id))
            return
        }
        let header = try file.read(count: RecordFormat.fileHeaderSize, at: 0) ?? []
        if let problem = header.withUnsafeBytes({ RecordFormat.checkFileHeader($0, magic: RecordFormat.dataMagic) }) {
            throw .unsupportedFormat(path: dataPath(id), detail: problem)
        }
        s.files[id] = FileInfo(source: .file(file), size: size, deadBytes: 0, hasHint: false)
        if hasHintFile {
            if try loadHint(&s, id: id, dataFileSize: size) {
                s.files[id]?.hasHint = true
                s.counters.hintsLoaded += 1
                return
            }
            s.counters.hintsRejected += 1
            logger.warning("hint file is damaged or stale; reading the data file instead", metadata: ["file": "\(id)"])
            try FileSystem.remove(hintPath(id))
        }
        try scanDataFile(&s, id: id, file: file)
    }

    private func loadHint(_ s: inout CollectionState, id: UInt32, dataFileSize: Int) throws(StorageError) -> Bool {
        let file = try FileDescriptor.open(hintPath(id), create: false)
        return try file.withMappedBytes { raw -> Bool in
            guard let (_, recordedSize) = HintFile.validate(raw), recordedSize == dataFileSize else { return false }
            // Slot lookups miss the cache; touching a batch's slots first lets those misses overlap.
            var batch: [(key: UnsafeRawBufferPointer, hash: UInt64, location: RecordLocation)] = []
            batch.reserveCapacity(Self.batchSize)
            func drain(_ s: inout CollectionState) {
                var sink: UInt32 = 0
                for pending in batch { sink ^= s.keydir.touchSlot(hash: pending.hash) }
                s.keydir.sink ^= sink
                for pending in batch { add(&s, key: pending.key, hash: pending.hash, location: pending.location) }
                batch.removeAll(keepingCapacity: true)
            }
            let complete = HintFile.forEach(raw, limits: limits) { key, entry in
                let hash = nameBytes.withUnsafeBytes { KeyHash.hash(collection: $0, key: key) }
                batch.append(
                    (
                        key, hash,
                        RecordLocation(
                            fileID: id, offset: entry.offset, timestamp: entry.timestamp, flags: entry.flags,
                            metaSize: entry.metaSize, valueSize: entry.valueSize)
                    ))
                if batch.count == Self.batchSize { drain(&s) }
            }
            drain(&s)
            return complete
        }
    }

    static let batchSize = 32

    private func scanDataFile(_ s: inout CollectionState, id: UInt32, file: FileDescriptor) throws(StorageError) {
        let bytes = try file.readAll()
        let outcome = bytes.withUnsafeBytes { raw in
            DataScanner(limits: limits).scan(raw) { offset, header in
                let keyStart = offset + RecordFormat.headerSize
                add(
                    &s, key: UnsafeRawBufferPointer(rebasing: raw[keyStart..<(keyStart + header.keySize)]),
                    location: RecordLocation(
                        fileID: id, offset: UInt32(offset), timestamp: header.timestamp, flags: header.flags,
                        metaSize: UInt32(header.metaSize), valueSize: UInt32(header.valueSize)))
            }
        }
        if outcome.corruptRegions > 0 {
            s.counters.corruptRegionsSkipped += outcome.corruptRegions
            s.counters.corruptBytesSkipped += outcome.corruptBytes
            s.files[id]?.deadBytes += outcome.corruptBytes
            logger.error(
                "skipped corrupt records in a data file",
                metadata: ["file": "\(id)", "regions": "\(outcome.corruptRegions)", "bytes": "\(outcome.corruptBytes)"])
        }
        if outcome.validEnd < bytes.count {
            let cut = bytes.count - outcome.validEnd
            try file.truncate(to: outcome.validEnd)
            try file.sync()
            s.counters.tornTailsTruncated += 1
            s.counters.truncatedBytes += cut
            s.files[id]?.size = outcome.validEnd
            logger.warning(
                "cut off a torn or corrupt tail",
                metadata: ["file": "\(id)", "bytes": "\(cut)", "kept": "\(outcome.validEnd)"])
        }
    }

    /// Adds one record found on disk; the newest timestamp wins, and dropped partitions stay dropped.
    @inline(__always)
    private func add(_ s: inout CollectionState, key: UnsafeRawBufferPointer, location: RecordLocation) {
        add(
            &s, key: key, hash: nameBytes.withUnsafeBytes { KeyHash.hash(collection: $0, key: key) }, location: location
        )
    }

    @inline(__always)
    private func add(_ s: inout CollectionState, key: UnsafeRawBufferPointer, hash: UInt64, location: RecordLocation) {
        if location.timestamp > s.lastTimestamp { s.lastTimestamp = location.timestamp }
        let size = RecordFormat.headerSize + key.count + Int(location.metaSize) + Int(location.valueSize)
        if !s.drops.isEmpty, let dropped = s.drops[partitioner.partition(ofHash: hash)], location.timestamp <= dropped {
            s.files[location.fileID]?.deadBytes += size
            return
        }
        let (replaced, rejected) = s.keydir.upsert(
            key: key, hash: hash, location: location, collection: nameBytes, onlyIfNewer: true)
        if rejected {
            s.files[location.fileID]?.deadBytes += size
        } else if let replaced {
            s.files[replaced.fileID]?.deadBytes += replaced.recordSize
        }
    }
}
