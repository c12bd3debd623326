import Foundation
import Storage
import Testing

/// The engine on a tmpfs of 1 MiB, written until the disk is full.
@Suite(.serialized, .enabled(if: SmallFileSystem.isAvailable, "mounting a tmpfs needs root (CAP_SYS_ADMIN)"))
struct FullDiskTests {
    static func value(_ i: Int) -> [UInt8] { [UInt8](repeating: UInt8(i % 251), count: 1000) }
    static func key(_ i: Int) -> [UInt8] { bytes("key-\(i)") }

    static func options(_ path: String, sync: SyncPolicy) -> StorageOptions {
        StorageOptions(directory: path, sync: sync, maxFileSize: 128 << 10, maxValueSize: 4096, maxMetaSize: 1024)
    }

    static func isOutOfSpace(_ error: any Error) -> Bool { (error as? StorageError)?.isOutOfSpace == true }

    /// With 256 KiB of filler the disk fills exactly as a new data file starts (its header is refused); with
    /// 200 KiB, in the middle of one (a short write, then ENOSPC).
    @Test(arguments: [SyncPolicy.group, .always], [256 << 10, 200 << 10])
    func fullDisk_refusesWritesWithENOSPC_losesNoAcknowledgedWrite_andRecoversOnceSpaceIsFreed(
        sync: SyncPolicy, filled: Int
    ) async throws {
        let disk = try #require(SmallFileSystem(bytes: 1 << 20), "mounting a tmpfs failed")
        defer { disk.remove() }
        let filler = disk.path + "/filler"
        writeFile(filler, [UInt8](repeating: 7, count: filled))
        let data = disk.path + "/data"
        let engine = try await StorageEngine.open(Self.options(data, sync: sync))
        var acknowledged: [Int] = []
        var refusal: (any Error)?
        for i in 0..<5_000 {
            do {
                try await engine.put(collection: "c", key: Self.key(i), meta: [1], value: Self.value(i))
                acknowledged.append(i)
            } catch {
                refusal = error
                break
            }
        }
        let error = try #require(refusal, "1 MiB held 5,000 values of 1 KB")
        #expect(Self.isOutOfSpace(error), "the write failed with \(error)")
        #expect("\(error)".contains("No space left on device"))
        #expect(acknowledged.count > 300)

        // Full: writes keep failing cleanly, reads go on.
        for j in 0..<5 {
            await #expect(
                performing: {
                    try await engine.put(collection: "c", key: bytes("late-\(j)"), meta: [], value: Self.value(j))
                }, throws: Self.isOutOfSpace)
        }
        for i in acknowledged {
            #expect(try engine.getNow(collection: "c", key: Self.key(i))?.value == Self.value(i))
        }
        // A refused write was not stored: not visible now, not written once space is back.
        for j in 0..<5 { #expect(try engine.getNow(collection: "c", key: bytes("late-\(j)")) == nil) }
        let files = try FileManager.default.contentsOfDirectory(atPath: data + "/c")
        let empty = try files.filter {
            (try FileManager.default.attributesOfItem(atPath: data + "/c/" + $0)[.size] as? Int) == 0
        }
        #expect(empty.isEmpty, "refused writes left empty files: \(empty)")

        // A crash while full: what the disk holds reopens cleanly with every acknowledged write.
        let image = try crashImage(ofPath: data)
        defer { image.remove() }
        let crashed = try await StorageEngine.open(Self.options(image.path, sync: .none))
        for i in acknowledged {
            #expect(try crashed.getNow(collection: "c", key: Self.key(i))?.value == Self.value(i))
        }
        #expect(crashed.stats().corruptRecordsSkipped == 0)
        try await crashed.close()

        // Space freed: the same engine takes writes again, closes, and reopens with everything.
        try FileManager.default.removeItem(atPath: filler)
        try await engine.put(collection: "c", key: bytes("after"), meta: [], value: Self.value(0))
        try await engine.close()
        let reopened = try await StorageEngine.open(Self.options(data, sync: sync))
        for i in acknowledged {
            #expect(try reopened.getNow(collection: "c", key: Self.key(i))?.value == Self.value(i))
        }
        #expect(try reopened.getNow(collection: "c", key: bytes("after"))?.value == Self.value(0))
        for j in 0..<5 { #expect(try reopened.getNow(collection: "c", key: bytes("late-\(j)")) == nil) }
        #expect(reopened.stats().corruptRecordsSkipped == 0)
        try await reopened.close()
    }
}
