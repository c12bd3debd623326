/// What a merge did.
public struct MergeSummary: Sendable, Equatable {
    /// Sealed files rewritten (and deleted).
    public var filesMerged = 0
    /// New files written with their live records.
    public var filesWritten = 0
    /// Bytes of data files given back.
    public var bytesReclaimed = 0

    public init() {}

    mutating func add(_ other: MergeSummary) {
        filesMerged += other.filesMerged
        filesWritten += other.filesWritten
        bytesReclaimed += other.bytesReclaimed
    }
}

extension CollectionStore {
    /// Rewrites the live records of every sealed file whose dead bytes reached `mergeDeadRatio` (with `force`,
    /// of every sealed file with any dead bytes). One candidate at a time: read it, keep the records the keydir
    /// still points at, write them to a new file (fsynced, with its hint), repoint the keys that did not move
    /// meanwhile, then delete the old file. Reads and writes go on throughout; readers holding the old file keep
    /// reading it until they are done.
    func merge(force: Bool) throws(StorageError) -> MergeSummary {
        try writeMissingHints()
        let candidates = state.withLock { s -> [(UInt32, ReadSource, Int)]? in
            guard !s.isClosed, !s.isMerging, s.syncFailure == nil else { return nil }
            let chosen = s.files.filter { id, info in
                guard id != s.active?.id, info.size > RecordFormat.fileHeaderSize else { return false }
                let ratio = Double(info.deadBytes) / Double(info.size)
                return force ? info.deadBytes > 0 : ratio >= options.mergeDeadRatio
            }
            .map { ($0.key, $0.value.source, $0.value.size) }
            .sorted { $0.0 < $1.0 }
            if !chosen.isEmpty { s.isMerging = true }
            return chosen
        }
        guard let candidates, !candidates.isEmpty else { return MergeSummary() }
        defer { state.withLock { $0.isMerging = false } }
        var summary = MergeSummary()
        for (id, source, size) in candidates {
            summary.add(try mergeFile(id: id, source: source, size: size))
        }
        if path != nil { try FileSystem.syncDirectory(path!) }
        state.withLock { s in
            s.counters.merges += 1
            s.counters.mergeReclaimedBytes += summary.bytesReclaimed
        }
        logger.info(
            "merged data files",
            metadata: [
                "files": "\(summary.filesMerged)", "written": "\(summary.filesWritten)",
                "reclaimed": "\(summary.bytesReclaimed)",
            ])
        return summary
    }

    private struct LiveRecord {
        var offset: Int
        var size: Int
        var keyRange: Range<Int>
        var hash: UInt64
        var header: RecordHeader
    }

    private func mergeFile(id: UInt32, source: ReadSource, size: Int) throws(StorageError) -> MergeSummary {
        let image: ByteStore
        switch source {
        case .memory(let store): image = store
        case .file(let file):
            let bytes = try file.readAll()
            image = ByteStore(capacity: bytes.count)
            bytes.withUnsafeBytes { raw in
                image.append(size: raw.count).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
            }
        }
        let raw = image.bytes
        var records: [LiveRecord] = []
        _ = DataScanner(limits: limits).scan(raw) { offset, header in
            let keyStart = offset + RecordFormat.headerSize
            let keyRange = keyStart..<(keyStart + header.keySize)
            records.append(
                LiveRecord(
                    offset: offset, size: header.size, keyRange: keyRange,
                    hash: hash(UnsafeRawBufferPointer(rebasing: raw[keyRange])), header: header))
        }
        // Keep what the keydir still points at; nothing new can point into a sealed file meanwhile.
        let (live, outputID) = state.withLock { s -> ([LiveRecord], UInt32) in
            let live = records.filter { record in
                guard
                    let entry = s.keydir.find(
                        key: UnsafeRawBufferPointer(rebasing: raw[record.keyRange]), hash: record.hash)
                else { return false }
                return entry.fileID == id && Int(entry.offset) == record.offset
            }
            let outputID = live.isEmpty ? 0 : s.nextFileID
            if !live.isEmpty { s.nextFileID += 1 }
            return (live, outputID)
        }
        var summary = MergeSummary()
        summary.filesMerged = 1
        var newOffsets: [Int] = []
        var outputSize = 0
        if !live.isEmpty {
            let output = ByteStore(capacity: RecordFormat.fileHeaderSize + live.reduce(0) { $0 + $1.size })
            RecordFormat.writeFileHeader(
                magic: RecordFormat.dataMagic, fileID: outputID, to: output.append(size: RecordFormat.fileHeaderSize))
            var hint = HintFile.Builder(fileID: outputID, expectedBytes: live.count * 40)
            newOffsets.reserveCapacity(live.count)
            for record in live {
                newOffsets.append(output.count)
                hint.add(
                    key: UnsafeRawBufferPointer(rebasing: raw[record.keyRange]), header: record.header,
                    offset: output.count)
                output.append(size: record.size).copyMemory(
                    from: raw.baseAddress! + record.offset, byteCount: record.size)
            }
            outputSize = output.count
            let outputSource: ReadSource
            if path != nil {
                do {
                    let file = try FileDescriptor.open(dataPath(outputID) + ".tmp", create: true)
                    try file.write(output.bytes, at: 0)
                    try file.sync()
                    try FileSystem.rename(dataPath(outputID) + ".tmp", to: dataPath(outputID))
                    // Also makes the rename durable (one directory), before the old file is unlinked below: a
                    // crash must never leave the unlink persisted and the new file's name lost.
                    try FileSystem.writeAtomically(hint.finish(dataFileSize: outputSize), to: hintPath(outputID))
                    outputSource = .file(file)
                } catch {
                    // The keydir still points at the old file, which is intact: drop the output rather than
                    // leave duplicates on disk until the next open.
                    for leftover in [dataPath(outputID), hintPath(outputID)] {
                        try? FileSystem.remove(leftover + ".tmp")
                        try? FileSystem.remove(leftover)
                    }
                    throw error
                }
            } else {
                outputSource = .memory(output)
            }
            summary.filesWritten = 1
            state.withLock { s in
                s.files[outputID] = FileInfo(source: outputSource, size: outputSize, deadBytes: 0, hasHint: path != nil)
                for (record, newOffset) in zip(live, newOffsets) {
                    let moved = s.keydir.replaceLocation(
                        key: UnsafeRawBufferPointer(rebasing: raw[record.keyRange]), hash: record.hash,
                        from: (id, UInt32(record.offset)), to: (outputID, UInt32(newOffset)))
                    if !moved { s.files[outputID]?.deadBytes += record.size }
                }
            }
        }
        state.withLock { s in s.files[id] = nil }
        if path != nil {
            try FileSystem.remove(dataPath(id))
            try FileSystem.remove(hintPath(id))
        }
        summary.bytesReclaimed = size - outputSize
        return summary
    }
}
