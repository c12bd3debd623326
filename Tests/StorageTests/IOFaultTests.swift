import Foundation
import Testing

@testable import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// I/O errors injected into the file layer (`FileFaults`): a disk failing a write or an fsync.
@Suite(.serialized) struct IOFaultTests {
    static func isIOError(_ error: any Error) -> Bool {
        if case .io(_, _, EIO)? = error as? StorageError { return true }
        return false
    }

    static func isReadOnly(_ error: any Error) -> Bool {
        if case .readOnly? = error as? StorageError { return true }
        return false
    }

    /// After a failed fsync a second one may succeed though the pages it covered were dropped: the writes it
    /// covered must fail, and so must every later write, until a reopen.
    @Test(arguments: [SyncPolicy.group, .always])
    func failedFsync_failsTheWritesItCovered_andLeavesTheCollectionReadOnlyUntilReopened(
        sync: SyncPolicy
    ) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        defer { FileFaults.clear(under: directory.path) }
        let engine = try await StorageEngine.open(options(directory, sync: sync))
        for i in 0..<20 { try await engine.put(collection: "c", key: bytes("before-\(i)"), meta: [], value: [1]) }

        FileFaults.inject(.init(directory: directory.path, operations: [.sync], errno: EIO))
        let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
            for i in 0..<8 {
                group.addTask {
                    do {
                        try await engine.put(collection: "c", key: bytes("during-\(i)"), meta: [], value: [2])
                        return nil
                    } catch { return error }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(FileFaults.pending(under: directory.path) == 0, "the fsync fault did not fire")
        #expect(outcomes.allSatisfy { $0 != nil }, "a write was acknowledged after its fsync failed")
        #expect(outcomes.contains { $0.map(Self.isIOError) == true })
        #expect(outcomes.allSatisfy { $0.map { Self.isIOError($0) || Self.isReadOnly($0) } == true })

        // The next fsync would succeed: the engine must not try it and acknowledge.
        await #expect(
            performing: {
                try await engine.put(collection: "c", key: bytes("after"), meta: [], value: [3])
            }, throws: Self.isReadOnly)
        await #expect(
            performing: {
                try await engine.delete(collection: "c", key: bytes("before-0"), meta: [])
            }, throws: Self.isReadOnly)
        for i in 0..<20 {
            #expect(try engine.getNow(collection: "c", key: bytes("before-\(i)"))?.value == [1])
        }
        try await engine.close()

        let reopened = try await StorageEngine.open(options(directory, sync: sync))
        for i in 0..<20 {
            #expect(try reopened.getNow(collection: "c", key: bytes("before-\(i)"))?.value == [1])
        }
        try await reopened.put(collection: "c", key: bytes("after"), meta: [], value: [3])
        #expect(try reopened.getNow(collection: "c", key: bytes("after"))?.value == [3])
        try await reopened.close()
    }

    /// A write error (torn: part of the bytes reached the file) fails the write; nothing is lost, the next
    /// write rewrites the same bytes, and a crash afterwards reopens with every acknowledged write.
    @Test func failedWrite_failsThatWrite_thenTheEngineRecovers() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        defer { FileFaults.clear(under: directory.path) }
        let engine = try await StorageEngine.open(options(directory, sync: .group))
        for i in 0..<20 { try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: bytes("v\(i)")) }

        FileFaults.inject(.init(directory: directory.path, operations: [.write], errno: EIO, tornBytes: 7, count: 3))
        for _ in 0..<3 {
            await #expect(
                performing: {
                    try await engine.put(collection: "c", key: bytes("refused"), meta: [], value: bytes("x"))
                }, throws: Self.isIOError)
        }
        #expect(FileFaults.pending(under: directory.path) == 0)
        for i in 0..<20 { #expect(try engine.getNow(collection: "c", key: bytes("k\(i)"))?.value == bytes("v\(i)")) }

        for i in 20..<40 {
            try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: bytes("v\(i)"))
        }
        let image = try crashImage(of: directory)
        defer { image.remove() }
        try await engine.close()
        let crashed = try await StorageEngine.open(options(image, sync: .none))
        for i in 0..<40 { #expect(try crashed.getNow(collection: "c", key: bytes("k\(i)"))?.value == bytes("v\(i)")) }
        #expect(crashed.stats().corruptRecordsSkipped == 0)
        try await crashed.close()
    }
}
