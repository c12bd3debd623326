import Foundation
import Storage

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "dhrt-storage-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func files(in collection: String, withSuffix suffix: String) -> [String] {
        let dir = path + "/" + collection
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { dir + "/" + $0 }
    }
}

/// Where an engine under test keeps its data.
enum Mode: String, CaseIterable, CustomStringConvertible {
    case disk, memory
    var description: String { rawValue }
}

/// Opens an engine in `mode`, runs `body`, closes it and removes its directory.
func withEngine(
    _ mode: Mode, sync: SyncPolicy = .group, maxFileSize: Int = 256 << 20, partitionCount: Int = 256,
    maxValueSize: Int = 4096, _ body: (StorageEngine, TemporaryDirectory) async throws -> Void
) async throws {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    let options = StorageOptions(
        directory: mode == .disk ? directory.path : nil, partitionCount: partitionCount, sync: sync,
        maxFileSize: maxFileSize, maxValueSize: maxValueSize, maxMetaSize: 1024)
    let engine = try await StorageEngine.open(options)
    do {
        try await body(engine, directory)
    } catch {
        try? await engine.close()
        throw error
    }
    try? await engine.close()
}

func options(_ directory: TemporaryDirectory, sync: SyncPolicy = .none, maxFileSize: Int = 256 << 20) -> StorageOptions
{
    StorageOptions(
        directory: directory.path, sync: sync, maxFileSize: maxFileSize, maxValueSize: 4096, maxMetaSize: 1024)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func readFile(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
func writeFile(_ path: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

enum FileManagerHelper {
    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }
}

/// A crash of the writing process, simulated: a copy of the data directory as the files hold it now. Bytes the
/// engine still buffers are not in it, as they would not survive a kill -9.
func crashImage(of directory: TemporaryDirectory) throws -> TemporaryDirectory {
    try crashImage(ofPath: directory.path)
}

/// `crashImage(of:)` of any data directory (top-level files such as COLLECTION-DROPS included).
func crashImage(ofPath path: String) throws -> TemporaryDirectory {
    let image = TemporaryDirectory()
    let manager = FileManager.default
    for entry in try manager.contentsOfDirectory(atPath: path) {
        let source = path + "/" + entry
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            writeFile(image.path + "/" + entry, readFile(source))
            continue
        }
        try manager.createDirectory(atPath: image.path + "/" + entry, withIntermediateDirectories: true)
        for name in try manager.contentsOfDirectory(atPath: source) {
            writeFile(image.path + "/" + entry + "/" + name, readFile(source + "/" + name))
        }
    }
    return image
}

/// Awaits `body`, failing after `limit` instead of hanging the suite.
func bounded<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw BoundExceeded(what: what, limit: limit)
        }
        return value
    }
}

struct BoundExceeded: Error, CustomStringConvertible {
    var what: String
    var limit: Duration
    var description: String { "\(what) did not finish within \(limit)" }
}
