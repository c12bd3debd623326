import Storage
import Testing
import TestSupport

@Suite struct RecoveryTests {
    @Test func reopenAfterCleanClose_keepsEveryRecordAcrossManyFiles() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        for i in 0..<1000 {
            try await engine.put(
                collection: "c", key: bytes("k\(i % 400)"), meta: [UInt8(i % 256)], value: bytes("v\(i)"))
        }
        try await engine.delete(collection: "c", key: bytes("k7"), meta: [1])
        try await engine.close()
        #expect(directory.files(in: "c", withSuffix: ".data").count >= 3)

        engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        for k in 0..<400 where k != 7 {
            let last = k < 200 ? k + 800 : k + 400
            let record = try #require(try await engine.get(collection: "c", key: bytes("k\(k)")))
            #expect(record.value == bytes("v\(last)"))
            #expect(record.meta == [UInt8(last % 256)])
        }
        #expect(try await engine.get(collection: "c", key: bytes("k7"))?.isTombstone == true)
        let stats = try #require(engine.stats().collections["c"])
        #expect(stats.keyCount == 400)
        #expect(stats.tornTailsTruncated == 0 && stats.corruptRecordsSkipped == 0)
        // Writes after a reopen get later timestamps than everything loaded.
        let old = try #require(try await engine.get(collection: "c", key: bytes("k1")))
        try await engine.put(collection: "c", key: bytes("k1"), meta: [], value: bytes("newer"))
        #expect(try #require(try await engine.get(collection: "c", key: bytes("k1"))).timestamp > old.timestamp)
        try await engine.close()
    }

    @Test func hintFiles_areUsedOnReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        for i in 0..<600 {
            try await engine.put(collection: "c", key: bytes("k\(i % 250)"), meta: [], value: bytes("v\(i)"))
        }
        try await engine.close()
        let dataFiles = directory.files(in: "c", withSuffix: ".data")
        #expect(directory.files(in: "c", withSuffix: ".hint").count == dataFiles.count)

        engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        let stats = try #require(engine.stats().collections["c"])
        #expect(stats.hintsLoaded == dataFiles.count)
        #expect(stats.hintsRejected == 0)
        for k in 0..<250 {
            #expect(
                try await engine.get(collection: "c", key: bytes("k\(k)"))?.value
                    == bytes("v\(k + 500 >= 600 ? k + 250 : k + 500)"))
        }
        try await engine.close()
    }

    @Test func corruptHintFile_isIgnoredAndRewritten() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        for i in 0..<400 { try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: bytes("v\(i)")) }
        try await engine.close()
        let hints = directory.files(in: "c", withSuffix: ".hint")
        var hint = readFile(hints[0])
        hint[hint.count / 2] ^= 0x40
        writeFile(hints[0], hint)

        engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        #expect(engine.stats().collections["c"]?.hintsRejected == 1)
        for i in 0..<400 {
            #expect(try await engine.get(collection: "c", key: bytes("k\(i)"))?.value == bytes("v\(i)"))
        }
        try await engine.close()

        engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        #expect(engine.stats().collections["c"]?.hintsRejected == 0)
        #expect(engine.stats().collections["c"]?.hintsLoaded == hints.count)
        try await engine.close()
    }

    /// A crash mid-append leaves any prefix of the last record; every cut must reopen cleanly with every earlier
    /// record intact.
    @Test func reopenAfterCrash_atEveryByteOfTheLastRecord_keepsEarlierRecords() async throws {
        let source = TemporaryDirectory()
        defer { source.remove() }
        let engine = try await StorageEngine.open(options(source))
        for i in 0..<4 {
            try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [1], value: bytes("value \(i)"))
        }
        try await engine.put(collection: "c", key: bytes("k0"), meta: [2], value: bytes("overwritten"))
        try await engine.close()
        let dataFile = try #require(source.files(in: "c", withSuffix: ".data").first)
        let image = readFile(dataFile)
        let lastRecordSize = 27 + 2 + 1 + 11
        let lastStart = image.count - lastRecordSize

        for cut in lastStart...image.count {
            let crashed = TemporaryDirectory()
            defer { crashed.remove() }
            try FileManagerHelper.makeDirectory(crashed.path + "/c")
            writeFile(crashed.path + "/c/0000000001.data", Array(image[0..<cut]))
            let reopened = try await StorageEngine.open(options(crashed))
            for i in 1..<4 {
                #expect(try await reopened.get(collection: "c", key: bytes("k\(i)"))?.value == bytes("value \(i)"))
            }
            let k0 = try await reopened.get(collection: "c", key: bytes("k0"))
            #expect(k0?.value == (cut == image.count ? bytes("overwritten") : bytes("value 0")))
            let stats = try #require(reopened.stats().collections["c"])
            #expect(stats.tornTailsTruncated == (cut > lastStart && cut < image.count ? 1 : 0))
            #expect(stats.truncatedBytes == (cut < image.count ? cut - lastStart : 0))
            // Writing after recovery appends after the cut, and survives another reopen.
            try await reopened.put(collection: "c", key: bytes("after"), meta: [], value: [1])
            try await reopened.close()
            let again = try await StorageEngine.open(options(crashed))
            #expect(try await again.get(collection: "c", key: bytes("after"))?.value == [1])
            #expect(try await again.get(collection: "c", key: bytes("k3"))?.value == bytes("value 3"))
            try await again.close()
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomCorruption_insideAFile_skipsOnlyTheDamagedRecords(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        for i in 0..<800 {
            try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: bytes("value-\(i)"))
        }
        try await engine.close()
        for hint in directory.files(in: "c", withSuffix: ".hint") { try FileManagerHelper.remove(hint) }
        let files = directory.files(in: "c", withSuffix: ".data")
        var random = SeededGenerator(seed: seed)
        let victim = files[Int.random(in: 0..<(files.count - 1), using: &random)]
        var image = readFile(victim)
        for _ in 0..<3 {
            image[Int.random(in: 16..<(image.count - 200), using: &random)] ^= UInt8.random(in: 1...255, using: &random)
        }
        writeFile(victim, image)

        engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        var missing = 0
        for i in 0..<800 {
            if let record = try await engine.get(collection: "c", key: bytes("k\(i)")) {
                #expect(record.value == bytes("value-\(i)"))
            } else {
                missing += 1
            }
        }
        let stats = try #require(engine.stats().collections["c"])
        #expect(missing >= 1 && missing <= 3)
        #expect(stats.corruptRecordsSkipped >= 1)
        #expect(stats.tornTailsTruncated == 0)
        try await engine.close()
    }

    @Test func corruptRecord_readThroughAHint_isReportedNotReturned() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        for i in 0..<10 {
            try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: bytes("value-\(i)"))
        }
        try await engine.close()
        let dataFile = try #require(directory.files(in: "c", withSuffix: ".data").first)
        var image = readFile(dataFile)
        // The value of the first record (k0): file header 16, record header 27, key 2.
        image[16 + 27 + 2] ^= 0xFF
        writeFile(dataFile, image)

        engine = try await StorageEngine.open(options(directory))
        await #expect(throws: StorageError.corruptRecord(collection: "c", file: 1, offset: 16)) {
            _ = try await engine.get(collection: "c", key: bytes("k0"))
        }
        #expect(try await engine.get(collection: "c", key: bytes("k1"))?.value == bytes("value-1"))
        #expect(engine.stats().collections["c"]?.corruptReads == 1)
        try await engine.close()
    }
}
