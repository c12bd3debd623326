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
    case io(operation: String, path: String, errno: Int32)
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
        case .io(let operation, let path, let code):
            return "\(operation) failed for \(path): \(errnoDescription(code)) (errno \(code))"
        case .closed:
            return "the storage engine is closed"
        }
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
