/// A data file the collection knows: where to read it, its size and how much of it is dead.
struct FileInfo {
    var source: ReadSource
    var size: Int
    var deadBytes: Int
    var hasHint: Bool
}

/// The file being appended to. On disk, bytes up to `flushedSize` are in the file and the rest in `buffer`;
/// in memory mode the buffer is the whole file and `flushedSize` stays 0.
struct ActiveFile {
    let id: UInt32
    let file: FileDescriptor?
    let buffer: ByteStore
    var flushedSize: Int
    var size: Int
}

/// How a record's bytes are fetched once the collection lock is released.
enum Fetch: Sendable {
    /// Copied from the active file's buffer under the lock.
    case bytes([UInt8]?)
    /// To be read from a file or sealed memory file.
    case source(ReadSource, offset: Int, count: Int)
    case missing
}

/// Counts of what recovery, reads and merges ran into.
struct CollectionCounters {
    var corruptRegionsSkipped = 0
    var corruptBytesSkipped = 0
    var tornTailsTruncated = 0
    var truncatedBytes = 0
    var hintsLoaded = 0
    var hintsRejected = 0
    var merges = 0
    var mergeReclaimedBytes = 0
}

/// Everything a collection mutates, guarded by one lock.
struct CollectionState {
    var keydir: Keydir
    var files: [UInt32: FileInfo] = [:]
    var active: ActiveFile?
    var nextFileID: UInt32 = 1
    var lastTimestamp: UInt64 = 0
    /// Bytes appended since open; group commit waits until a sync covered a write's end.
    var appendedBytes: UInt64 = 0
    /// Partitions dropped, with the timestamp of the drop: older records of them are dead.
    var drops: [Int: UInt64] = [:]
    var counters = CollectionCounters()
    var isClosed = false
    var isMerging = false
    /// The last flush of the active file failed (a full disk): the next write retries it before appending.
    var flushFailed = false
    /// An fsync failed: the collection is read-only until reopened (`CollectionStore.failSync`).
    var syncFailure: StorageError?

    init(keydir: Keydir) {
        self.keydir = keydir
    }

    /// A timestamp above every one this collection has handed out, close to the wall clock.
    @inline(__always)
    mutating func nextTimestamp() -> UInt64 {
        let now = wallClockNanoseconds()
        lastTimestamp = now > lastTimestamp ? now : lastTimestamp + 1
        return lastTimestamp
    }

    /// Where to read `count` bytes of the record `entry` names.
    func locate(_ entry: KeydirEntry, count: Int) -> Fetch {
        let offset = Int(entry.offset)
        if let active, active.id == entry.fileID, offset >= active.flushedSize {
            return .bytes(active.buffer.copy(offset: offset - active.flushedSize, count: count))
        }
        guard let info = files[entry.fileID] else { return .missing }
        return .source(info.source, offset: offset, count: count)
    }

    /// Writes the active file's buffer to disk (no fsync). Memory mode keeps its buffer.
    mutating func flush() throws(StorageError) {
        guard var current = active, let file = current.file, current.buffer.count > 0 else { return }
        do { try file.write(current.buffer.bytes, at: current.flushedSize) } catch {
            flushFailed = true
            throw error
        }
        flushFailed = false
        current.flushedSize += current.buffer.count
        current.buffer.removeAll()
        active = current
    }

    /// Total size of data files, the active one included.
    var dataBytes: Int {
        var total = 0
        for (id, info) in files { total += id == active?.id ? active!.size : info.size }
        return total
    }

    var deadBytes: Int { files.values.reduce(0) { $0 + $1.deadBytes } }
}

/// Fetches the bytes a `Fetch` names.
extension Fetch {
    func resolve() throws(StorageError) -> [UInt8]? {
        switch self {
        case .bytes(let bytes): return bytes
        case .source(let source, let offset, let count): return try source.read(offset: offset, count: count)
        case .missing: return nil
        }
    }
}
