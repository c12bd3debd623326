/// Why a storage operation failed. Bad input is reported before anything is written.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    case keyTooLarge(Int, limit: Int)
    case emptyKey
    case valueTooLarge(Int, limit: Int)
    case metaTooLarge(Int, limit: Int)
    case invalidCollectionName(String)
    case collectionNotFound(String)
    case invalidPartition(Int, count: Int)
    case invalidOptions(String)
    case corruptRecord(collection: String, file: UInt32, offset: Int)
    case unsupportedFormat(path: String, detail: String)
    /// A file the engine cannot do without fails its checksum; opening anyway could bring dropped data back.
    case damaged(path: String, detail: String)
    case io(operation: String, path: String, errno: Int32)
    /// An fsync of the collection failed: what it covered may be lost, so the collection takes no more writes
    /// until the engine is opened again (from what the disk holds).
    case readOnly(collection: String, cause: String)
    case closed

    public var description: String {
        switch self {
        case .keyTooLarge(let size, let limit):
            return "key is \(size) bytes, larger than the limit of \(limit) bytes"
        case .emptyKey:
            return "key is empty: a key must have at least one byte"
        case .valueTooLarge(let size, let limit):
            return "value is \(size) bytes, larger than the limit of \(limit) bytes"
        case .metaTooLarge(let size, let limit):
            return "meta (causal context) is \(size) bytes, larger than the limit of \(limit) bytes"
        case .invalidCollectionName(let name):
            return "collection name '\(name)' is invalid: use 1 to 64 characters of [A-Za-z0-9_.-], not '.' or '..'"
        case .collectionNotFound(let name):
            return "collection '\(name)' does not exist"
        case .invalidPartition(let partition, let count):
            return "partition \(partition) is out of range: there are \(count) partitions (0...\(count - 1))"
        case .invalidOptions(let why):
            return "storage options are invalid: \(why)"
        case .corruptRecord(let collection, let file, let offset):
            return "record at offset \(offset) of data file \(file) in collection '\(collection)' fails its checksum"
        case .unsupportedFormat(let path, let detail):
            return "file \(path) is not a dhrt data file this version reads: \(detail)"
        case .damaged(let path, let detail):
            return "file \(path) fails its checksum (\(detail)): the data directory is not opened, since going "
                + "on without it could bring dropped records back; restore the file, or remove it to accept that"
        case .io(let operation, let path, let code):
            return "\(operation) failed for \(path): \(errnoDescription(code)) (errno \(code))"
        case .readOnly(let collection, let cause):
            return "collection '\(collection)' is read-only after a failed fsync (\(cause)); writes since the last "
                + "good fsync may be lost: restart the node to reopen it from what the disk holds"
        case .closed:
            return "the storage engine is closed"
        }
    }

    /// Whether the disk (or a quota) is full: freeing space lets writes succeed again.
    public var isOutOfSpace: Bool {
        guard case .io(_, _, let code) = self else { return false }
        return code == ENOSPC || code == EDQUOT
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "unknown error" }
    return String(cString: text)
}

/// Collection names: 1 to 64 of `[A-Za-z0-9_.-]`, never `.` or `..` (they name directories).
enum CollectionName {
    static func validate(_ name: String) throws(StorageError) {
        let bytes = name.utf8
        guard bytes.count >= 1, bytes.count <= 64, name != ".", name != ".." else {
            throw .invalidCollectionName(name)
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                continue
            default:
                throw .invalidCollectionName(name)
            }
        }
    }
}
