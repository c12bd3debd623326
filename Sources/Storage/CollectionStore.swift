import Logging
import Ring
import Synchronization

/// One collection: its data files and its keydir, behind one lock. Reads copy a record's location under the
/// lock and read the file after releasing it; writes append to the active file's buffer under the lock.
final class CollectionStore: Sendable {
    let name: String
    let nameBytes: [UInt8]
    /// The collection's directory, nil in memory mode.
    let path: String?
    let options: StorageOptions
    let limits: RecordLimits
    let logger: Logger
    let state: Mutex<CollectionState>
    let corruptReads = Atomic<Int>(0)
    /// The append position known durable (every byte appended before it has been fsynced).
    let durableBytes = Atomic<UInt64>(0)

    static let flushThreshold = 1 << 20

    init(name: String, path: String?, options: StorageOptions, logger: Logger, state: consuming CollectionState) {
        self.name = name
        self.nameBytes = Array(name.utf8)
        self.path = path
        self.options = options
        self.limits = RecordLimits(options)
        var logger = logger
        logger[metadataKey: "collection"] = "\(name)"
        self.logger = logger
        self.state = Mutex(state)
    }

    @inline(__always)
    func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        nameBytes.withUnsafeBytes { KeyHash.hash(collection: $0, key: key) }
    }

    func dataPath(_ id: UInt32) -> String { path! + "/" + Self.fileName(id) + ".data" }
    func hintPath(_ id: UInt32) -> String { path! + "/" + Self.fileName(id) + ".hint" }
    var dropsPath: String { path! + "/DROPS" }

    /// Ten-digit zero-padded file number, so names sort by number.
    static func fileName(_ id: UInt32) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    // MARK: Writing

    /// Appends a record and points the key at it; returns the append position group commit waits for.
    func write(key: [UInt8], flags: UInt8, meta: [UInt8], value: [UInt8]) throws(StorageError) -> UInt64 {
        let hash = key.withUnsafeBytes { self.hash($0) }
        return try state.withLock { (s: inout CollectionState) throws(StorageError) -> UInt64 in
            try append(&s, key: key, hash: hash, flags: flags, meta: meta, value: value)
        }
    }

    /// Reads the current record and writes what `transform` returns, all under the lock.
    func update(
        key: [UInt8], _ transform: (StoredRecord?) throws -> Mutation?,
        validate: (Mutation) throws(StorageError) -> Void
    ) throws -> (Mutation?, UInt64) {
        let hash = key.withUnsafeBytes { self.hash($0) }
        return try state.withLock { (s: inout CollectionState) throws -> (Mutation?, UInt64) in
            guard !s.isClosed else { throw StorageError.closed }
            var current: StoredRecord?
            if let entry = key.withUnsafeBytes({ s.keydir.find(key: $0, hash: hash) }) {
                current = try decode(s.locate(entry, count: entry.recordSize).resolve(), entry: entry, metaOnly: false)
            }
            guard let mutation = try transform(current) else { return (nil, s.appendedBytes) }
            try validate(mutation)
            let end: UInt64
            switch mutation {
            case .put(let meta, let value):
                end = try append(&s, key: key, hash: hash, flags: 0, meta: meta, value: value)
            case .tombstone(let meta):
                end = try append(&s, key: key, hash: hash, flags: RecordFormat.tombstoneFlag, meta: meta, value: [])
            }
            return (mutation, end)
        }
    }

    private func append(
        _ s: inout CollectionState, key: [UInt8], hash: UInt64, flags: UInt8, meta: [UInt8], value: [UInt8]
    ) throws(StorageError) -> UInt64 {
        guard !s.isClosed else { throw .closed }
        if let failure = s.syncFailure { throw .readOnly(collection: name, cause: failure.description) }
        let size = RecordFormat.size(keySize: key.count, metaSize: meta.count, valueSize: value.count)
        if s.active == nil {
            try openActive(&s)
        } else if s.active!.size + size > options.maxFileSize {
            try seal(&s)
            try openActive(&s)
        }
        // Flush before appending, not after: when the disk refuses the bytes (ENOSPC), this write fails with
        // nothing of it in the buffer or the keydir. After a failed flush every write retries it first.
        let buffered = s.active!.buffer.count
        if s.active!.file != nil, buffered > 0, s.flushFailed || buffered + size > Self.flushThreshold {
            try s.flush()
        }
        let timestamp = s.nextTimestamp()
        let offset = s.active!.size
        let out = s.active!.buffer.append(size: size)
        key.withUnsafeBytes { k in
            meta.withUnsafeBytes { m in
                value.withUnsafeBytes { v in
                    RecordFormat.encode(to: out, timestamp: timestamp, flags: flags, key: k, meta: m, value: v)
                }
            }
        }
        s.active!.size += size
        s.appendedBytes += UInt64(size)
        let location = RecordLocation(
            fileID: s.active!.id, offset: UInt32(offset), timestamp: timestamp, flags: flags,
            metaSize: UInt32(meta.count), valueSize: UInt32(value.count))
        let (replaced, _) = key.withUnsafeBytes { k in
            s.keydir.upsert(key: k, hash: hash, location: location, collection: nameBytes)
        }
        if let replaced { s.files[replaced.fileID]?.deadBytes += replaced.recordSize }
        return s.appendedBytes
    }

    /// Starts a new active file with the next number.
    private func openActive(_ s: inout CollectionState) throws(StorageError) {
        let id = s.nextFileID
        s.nextFileID += 1
        if path != nil {
            let file = try FileDescriptor.open(dataPath(id), create: true)
            var header = [UInt8](repeating: 0, count: RecordFormat.fileHeaderSize)
            header.withUnsafeMutableBytes {
                RecordFormat.writeFileHeader(magic: RecordFormat.dataMagic, fileID: id, to: $0.baseAddress!)
            }
            do {
                try file.write(header, at: 0)
                // The file's name must be durable before any record in it is acknowledged as durable.
                if options.sync != .none { try FileSystem.syncDirectory(path!) }
            } catch {
                // A full disk must not leave one empty file behind per refused write.
                try? FileSystem.remove(dataPath(id))
                throw error
            }
            let size = RecordFormat.fileHeaderSize
            s.active = ActiveFile(
                id: id, file: file, buffer: ByteStore(capacity: Self.flushThreshold + 4096),
                flushedSize: size, size: size)
            s.files[id] = FileInfo(source: .file(file), size: size, deadBytes: 0, hasHint: false)
        } else {
            let buffer = ByteStore(capacity: 1 << 16)
            let out = buffer.append(size: RecordFormat.fileHeaderSize)
            RecordFormat.writeFileHeader(magic: RecordFormat.dataMagic, fileID: id, to: out)
            s.active = ActiveFile(id: id, file: nil, buffer: buffer, flushedSize: 0, size: RecordFormat.fileHeaderSize)
            s.files[id] = FileInfo(
                source: .memory(buffer), size: RecordFormat.fileHeaderSize, deadBytes: 0,
                hasHint: false)
        }
    }

    /// Seals the active file: flushed, fsynced unless the policy is `none`, then immutable. Its hint is written
    /// later (by merge or close) so a write never waits for a whole file to be scanned.
    func seal(_ s: inout CollectionState) throws(StorageError) {
        guard let active = s.active else { return }
        try s.flush()
        if let file = active.file, options.sync != .none {
            do { try file.sync() } catch {
                failSync(&s, error)
                throw error
            }
        }
        s.files[active.id]?.size = active.size
        s.active = nil
    }

    /// Flushes the buffer and fsyncs the active file; returns the append position now durable.
    func syncNow() throws(StorageError) -> UInt64 {
        let (file, position) = try state.withLock {
            (s: inout CollectionState) throws(StorageError) -> (FileDescriptor?, UInt64) in
            if let failure = s.syncFailure { throw .readOnly(collection: name, cause: failure.description) }
            try s.flush()
            return (s.active?.file, s.appendedBytes)
        }
        do { try file?.sync() } catch {
            state.withLock { failSync(&$0, error) }
            throw error
        }
        _ = durableBytes.max(position, ordering: .releasing)
        return position
    }

    /// After a failed fsync the kernel may have dropped the dirty pages it covered and a second fsync would
    /// report success (PostgreSQL's "fsyncgate"): never fsync this collection again, so nothing past the last
    /// good fsync is acknowledged, and refuse writes until a reopen rebuilds the keydir from the disk.
    private func failSync(_ s: inout CollectionState, _ error: StorageError) {
        guard s.syncFailure == nil else { return }
        s.syncFailure = error
        logger.critical(
            "fsync failed: the collection is read-only until the node restarts", metadata: ["error": "\(error)"])
    }

    /// The append position a write must wait for to be durable (everything appended so far).
    var appendPosition: UInt64 { state.withLock { $0.appendedBytes } }

    // MARK: Reading

    /// The record of `key`, with its value unless `metaOnly`.
    func read(key: [UInt8], metaOnly: Bool) throws(StorageError) -> StoredRecord? {
        let hash = key.withUnsafeBytes { self.hash($0) }
        let found = state.withLock { (s: inout CollectionState) -> (KeydirEntry, Fetch)? in
            guard let entry = key.withUnsafeBytes({ s.keydir.find(key: $0, hash: hash) }) else { return nil }
            return (entry, s.locate(entry, count: Self.readSize(entry, metaOnly: metaOnly)))
        }
        guard let (entry, fetch) = found else { return nil }
        return try decode(fetch.resolve(), entry: entry, metaOnly: metaOnly)
    }

    /// Meta-only reads of big values read the head of the record only (and cannot check its checksum).
    static func readSize(_ entry: KeydirEntry, metaOnly: Bool) -> Int {
        guard metaOnly, entry.valueSize > 4096 else { return entry.recordSize }
        return RecordFormat.headerSize + Int(entry.keyLength) + Int(entry.metaSize)
    }

    func decode(_ bytes: [UInt8]?, entry: KeydirEntry, metaOnly: Bool) throws(StorageError) -> StoredRecord {
        if let bytes {
            if bytes.count == entry.recordSize, let record = RecordDecoder.decode(bytes, expectMetaOnly: metaOnly) {
                return record
            }
            if bytes.count < entry.recordSize, let record = Self.decodeHead(bytes, entry: entry) { return record }
        }
        corruptReads.add(1, ordering: .relaxed)
        logger.error("record fails its checksum", metadata: ["file": "\(entry.fileID)", "offset": "\(entry.offset)"])
        throw .corruptRecord(collection: name, file: entry.fileID, offset: Int(entry.offset))
    }

    private static func decodeHead(_ bytes: [UInt8], entry: KeydirEntry) -> StoredRecord? {
        bytes.withUnsafeBytes { raw -> StoredRecord? in
            guard let header = RecordHeader(raw, at: 0), header.timestamp == entry.timestamp,
                header.keySize == Int(entry.keyLength), header.metaSize == Int(entry.metaSize),
                header.valueSize == Int(entry.valueSize),
                raw.count == RecordFormat.headerSize + header.keySize + header.metaSize
            else { return nil }
            let meta = Array(raw[(RecordFormat.headerSize + header.keySize)...])
            return StoredRecord(meta: meta, value: [], isTombstone: header.isTombstone, timestamp: header.timestamp)
        }
    }
}
