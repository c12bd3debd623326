import Foundation
import Storage
import Testing

/// A collection drop is remembered with its time, across reopens, so late writes can be told from new ones.
@Suite struct CollectionDropTests {
    @Test(arguments: Mode.allCases)
    func drop_isRecordedEvenForACollectionNeverSeen(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            #expect(engine.droppedAt("late") == nil)
            let before = UInt64(Date().timeIntervalSince1970 * 1e9)
            await #expect(throws: StorageError.collectionNotFound("late")) { try await engine.dropCollection("late") }
            let dropped = try #require(engine.droppedAt("late"))
            #expect(dropped >= before)
        }
    }

    @Test func dropTime_survivesAReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        try await engine.put(collection: "gone", key: bytes("k"), meta: [], value: [1])
        try await engine.dropCollection("gone")
        let dropped = try #require(engine.droppedAt("gone"))
        try await engine.close()
        engine = try await StorageEngine.open(options(directory))
        #expect(engine.droppedAt("gone") == dropped)
        #expect(engine.droppedAt("kept") == nil)
        try await engine.close()
    }

    /// A crash between recording the drop and deleting the files: on reopen, the older records are dead.
    @Test func interruptedDrop_completesOnReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        try await engine.put(collection: "half", key: bytes("k"), meta: [], value: [1])
        try await engine.close()
        // Keep a copy of the files, drop, then put the files back as a crash mid-drop would have left them.
        let copy = directory.path + "-copy"
        try FileManager.default.copyItem(atPath: directory.path + "/half", toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        engine = try await StorageEngine.open(options(directory))
        try await engine.dropCollection("half")
        try await engine.close()
        try FileManager.default.copyItem(atPath: copy, toPath: directory.path + "/half")
        engine = try await StorageEngine.open(options(directory))
        #expect(try await engine.get(collection: "half", key: bytes("k")) == nil)
        try await engine.put(collection: "half", key: bytes("k2"), meta: [], value: [2])
        #expect(try await engine.get(collection: "half", key: bytes("k2"))?.value == [2])
        try await engine.close()
    }

    @Test func damagedDropFile_refusesToOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await StorageEngine.open(options(directory))
        await #expect(throws: StorageError.self) { try await engine.dropCollection("x") }
        try await engine.close()
        var file = readFile(directory.path + "/COLLECTION-DROPS")
        file[file.count - 9] ^= 0xFF
        writeFile(directory.path + "/COLLECTION-DROPS", file)
        await #expect(throws: StorageError.self) { _ = try await StorageEngine.open(options(directory)) }
    }
}
