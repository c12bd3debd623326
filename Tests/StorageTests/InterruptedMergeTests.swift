import Foundation
import Testing

@testable import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// Crashes in the middle of a merge, leftover temporary files and a damaged DROPS file.
@Suite(.serialized) struct InterruptedMergeTests {
    /// What every key must read as: its value, or nil when deleted (a tombstone or nothing).
    typealias Model = [[UInt8]: [UInt8]?]

    /// A closed data directory with overwritten, deleted and partition-dropped keys in 16 KiB files.
    static func populate(_ directory: TemporaryDirectory) async throws -> Model {
        let engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        var model: Model = [:]
        // Each round after the first overwrites half the keys: every file keeps live records to move.
        let padding = String(repeating: ".", count: 50)
        for round in 0..<6 {
            for k in 0..<150 where round == 0 || k % 2 == round % 2 {
                let value = bytes("v\(round)-\(k)\(padding)")
                try await engine.put(collection: "c", key: bytes("k\(k)"), meta: [UInt8(round)], value: value)
                model[bytes("k\(k)")] = value
            }
        }
        for k in stride(from: 0, to: 150, by: 5) {
            try await engine.delete(collection: "c", key: bytes("k\(k)"), meta: [9])
            model[bytes("k\(k)")] = .some(nil)
        }
        let dropped = engine.partition(collection: "c", key: bytes("k1"))
        try await engine.dropPartition(collection: "c", partition: dropped)
        for key in model.keys where engine.partition(collection: "c", key: key) == dropped {
            model[key] = .some(nil)
        }
        try await engine.put(collection: "c", key: bytes("k1"), meta: [], value: bytes("after-drop"))
        model[bytes("k1")] = bytes("after-drop")
        try await engine.close()
        return model
    }

    static func check(_ engine: StorageEngine, _ model: Model, _ when: String) async throws {
        for (key, expected) in model {
            let record = try engine.getNow(collection: "c", key: key)
            let name = String(decoding: key, as: UTF8.self)
            if let expected {
                #expect(record?.isTombstone == false && record?.value == expected, "\(when): \(name) lost")
            } else {
                #expect(record == nil || record!.isTombstone, "\(when): deleted \(name) came back")
            }
        }
        let live = Set(model.compactMap { $0.value == nil ? nil : $0.key })
        let listed = try await engine.keys(collection: "c", after: nil, limit: 10_000)
        #expect(Set(listed) == live, "\(when): the listing differs")
        #expect(listed.count == live.count)
    }

    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var images: [TemporaryDirectory] = []
        func add(_ image: TemporaryDirectory) { lock.withLock { images.append(image) } }
        var all: [TemporaryDirectory] { lock.withLock { images } }
    }

    static func copy(_ source: TemporaryDirectory) throws -> TemporaryDirectory {
        try crashImage(of: source)
    }

    /// Fails the merge's n-th file operation (torn when it is a write) and takes a crash image at that moment,
    /// for n = 0, 1, ... until the merge runs out of operations: every step boundary of a merge.
    @Test func aCrashAtEveryStepOfAMerge_reopensWithEveryLiveKeyAndNoDeletedOne() async throws {
        let template = TemporaryDirectory()
        defer { template.remove() }
        let model = try await Self.populate(template)
        var step = 0
        var finished = false
        while !finished, step < 200 {
            let directory = try Self.copy(template)
            defer { directory.remove() }
            defer { FileFaults.clear(under: directory.path) }
            let engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
            let captured = Captured()
            FileFaults.inject(
                .init(
                    directory: directory.path, operations: [.write, .sync, .rename, .remove, .syncDirectory],
                    skip: step, errno: EIO, tornBytes: 100,
                    onFault: { if let image = try? crashImage(of: directory) { captured.add(image) } }))
            do { _ = try await engine.merge(force: true) } catch {
                #expect(IOFaultTests.isIOError(error), "step \(step): \(error)")
            }
            finished = FileFaults.pending(under: directory.path) > 0
            FileFaults.clear(under: directory.path)
            defer { for image in captured.all { image.remove() } }
            for image in captured.all {
                let crashed = try await StorageEngine.open(options(image, maxFileSize: 16 << 10))
                try await Self.check(crashed, model, "crash at step \(step)")
                try await crashed.close()
            }
            #expect(finished || captured.all.count == 1, "step \(step) took no crash image")
            // The engine that saw the failure goes on: it serves, merges and reopens with the same keys.
            try await Self.check(engine, model, "after the failure at step \(step)")
            _ = try await engine.merge(force: true)
            try await engine.close()
            let reopened = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
            try await Self.check(reopened, model, "reopened after the failure at step \(step)")
            #expect(directory.files(in: "c", withSuffix: ".tmp").isEmpty)
            try await reopened.close()
            step += 1
        }
        #expect(finished, "a merge did more than 200 file operations")
        #expect(step > 20, "a merge of several files did only \(step) file operations")
    }

    /// Temporary files from an interrupted atomic write or merge hold newer-looking records; open removes them
    /// and never reads them as data, hints or drop markers.
    @Test func leftoverTemporaryFiles_areRemovedAtOpen_andNeverTakenAsData() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        try await engine.put(collection: "c", key: bytes("k"), meta: [], value: bytes("real"))
        try await engine.close()
        // A newer value of the same key, in a data file of another directory.
        let other = TemporaryDirectory()
        defer { other.remove() }
        engine = try await StorageEngine.open(options(other))
        try await engine.put(collection: "c", key: bytes("k"), meta: [], value: bytes("from-tmp"))
        try await engine.put(collection: "c", key: bytes("ghost"), meta: [], value: bytes("from-tmp"))
        try await engine.dropPartition(collection: "c", partition: engine.partition(collection: "c", key: bytes("k")))
        try await engine.close()
        let otherData = try #require(other.files(in: "c", withSuffix: ".data").first)
        let otherHint = try #require(other.files(in: "c", withSuffix: ".hint").first)
        let c = directory.path + "/c/"
        writeFile(c + "0000000009.data.tmp", readFile(otherData))
        writeFile(c + "0000000009.hint.tmp", readFile(otherHint))
        writeFile(c + "0000000001.hint.tmp", readFile(otherHint))
        writeFile(c + "DROPS.tmp", readFile(other.path + "/c/DROPS"))
        writeFile(directory.path + "/c/0000000010.data.tmp", Array(readFile(otherData).prefix(40)))

        engine = try await StorageEngine.open(options(directory))
        #expect(try engine.getNow(collection: "c", key: bytes("k"))?.value == bytes("real"))
        #expect(try engine.getNow(collection: "c", key: bytes("ghost")) == nil)
        #expect(directory.files(in: "c", withSuffix: ".tmp").isEmpty)
        #expect(engine.stats().keyCount == 1)
        try await engine.close()
    }

    /// A flipped byte in a collection's DROPS file: open refuses with an error naming the file instead of
    /// reading the dropped partition back or forgetting live keys; with the file restored, nothing is lost.
    @Test func damagedDropsFile_isDetected_andNeitherLosesNorResurrectsData() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        for i in 0..<200 { try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: bytes("v\(i)")) }
        let victim = engine.partition(collection: "c", key: bytes("k0"))
        try await engine.dropPartition(collection: "c", partition: victim)
        try await engine.put(collection: "c", key: bytes("k0"), meta: [], value: bytes("new"))
        try await engine.close()

        let drops = directory.path + "/c/DROPS"
        let good = readFile(drops)
        for position in [0, 12, good.count / 2, good.count - 1] {
            var damaged = good
            damaged[position] ^= 0x5A
            writeFile(drops, damaged)
            await #expect(
                performing: { _ = try await StorageEngine.open(options(directory)) },
                throws: { error in
                    guard case .damaged(let path, _)? = error as? StorageError else { return false }
                    return path == drops && "\(error)".contains("fails its checksum")
                })
        }
        writeFile(drops, Array(good.prefix(good.count - 3)))
        await #expect(throws: StorageError.self) { _ = try await StorageEngine.open(options(directory)) }

        writeFile(drops, good)
        engine = try await StorageEngine.open(options(directory))
        for i in 0..<200 {
            let key = bytes("k\(i)")
            let expected =
                i == 0 ? bytes("new") : engine.partition(collection: "c", key: key) == victim ? nil : bytes("v\(i)")
            #expect(try engine.getNow(collection: "c", key: key)?.value == expected, "k\(i)")
        }
        try await engine.close()
    }
}
