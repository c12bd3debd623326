import Storage
import Testing

@Suite struct StorageEngineTests {
    @Test(arguments: Mode.allCases)
    func put_thenGet_returnsValueMetaAndTimestamp(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            try await engine.put(collection: "users", key: bytes("alice"), meta: bytes("v1"), value: bytes("hello"))
            let record = try #require(try await engine.get(collection: "users", key: bytes("alice")))
            #expect(record.value == bytes("hello"))
            #expect(record.meta == bytes("v1"))
            #expect(!record.isTombstone)
            #expect(record.timestamp > 0)
            #expect(try await engine.get(collection: "users", key: bytes("bob")) == nil)
            #expect(try await engine.get(collection: "nobody", key: bytes("alice")) == nil)
        }
    }

    @Test(arguments: Mode.allCases)
    func overwrite_returnsTheNewestWrite(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            for i in 0..<10 {
                try await engine.put(collection: "c", key: bytes("k"), meta: [UInt8(i)], value: bytes("value \(i)"))
            }
            let record = try #require(try await engine.get(collection: "c", key: bytes("k")))
            #expect(record.value == bytes("value 9"))
            #expect(record.meta == [9])
            #expect(engine.stats().keyCount == 1)
        }
    }

    @Test(arguments: Mode.allCases)
    func delete_leavesATombstoneWithItsMeta(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            try await engine.put(collection: "c", key: bytes("k"), meta: bytes("m1"), value: bytes("v"))
            let before = try #require(try await engine.get(collection: "c", key: bytes("k")))
            try await engine.delete(collection: "c", key: bytes("k"), meta: bytes("m2"))
            let record = try #require(try await engine.get(collection: "c", key: bytes("k")))
            #expect(record.isTombstone)
            #expect(record.value.isEmpty)
            #expect(record.meta == bytes("m2"))
            #expect(record.timestamp > before.timestamp)
            #expect(try await engine.keys(collection: "c", after: nil, limit: 10).isEmpty)
            #expect(engine.stats().collections["c"]?.tombstoneCount == 1)
        }
    }

    @Test(arguments: Mode.allCases)
    func getMeta_returnsMetaWithoutTheValue(mode: Mode) async throws {
        // Values above 4096 bytes take the head-only read; smaller ones are read whole.
        try await withEngine(mode, maxValueSize: 1 << 16) { engine, _ in
            let big = [UInt8](repeating: 7, count: 10_000)
            try await engine.put(collection: "c", key: bytes("small"), meta: bytes("m"), value: bytes("v"))
            try await engine.put(collection: "c", key: bytes("big"), meta: bytes("mm"), value: big)
            let small = try #require(try await engine.getMeta(collection: "c", key: bytes("small")))
            #expect(small.meta == bytes("m") && small.value.isEmpty)
            let large = try #require(try await engine.getMeta(collection: "c", key: bytes("big")))
            #expect(large.meta == bytes("mm") && large.value.isEmpty)
            #expect(large.timestamp == (try await engine.get(collection: "c", key: bytes("big")))?.timestamp)
            #expect(try await engine.get(collection: "c", key: bytes("big"))?.value == big)
        }
    }

    @Test(arguments: Mode.allCases)
    func keys_arePagedInByteOrderWithoutTombstones(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            var expected: [[UInt8]] = []
            for i in 0..<250 {
                let key = bytes("key-\(1000 + i)")
                try await engine.put(collection: "c", key: key, meta: [], value: [1])
                if i % 10 == 3 {
                    try await engine.delete(collection: "c", key: key, meta: [])
                } else {
                    expected.append(key)
                }
            }
            var seen: [[UInt8]] = []
            var after: [UInt8]?
            while true {
                let page = try await engine.keys(collection: "c", after: after, limit: 32)
                if page.isEmpty { break }
                #expect(page.count <= 32)
                seen += page
                after = page.last
            }
            #expect(seen == expected)
        }
    }

    @Test(arguments: Mode.allCases)
    func collections_areCreatedListedAndDropped(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            try engine.createCollection("b")
            try engine.createCollection("b")
            try await engine.put(collection: "a", key: bytes("k"), meta: [], value: [1])
            #expect(engine.collections() == ["a", "b"])
            try await engine.dropCollection("a")
            #expect(engine.collections() == ["b"])
            #expect(try await engine.get(collection: "a", key: bytes("k")) == nil)
            await #expect(throws: StorageError.collectionNotFound("a")) { try await engine.dropCollection("a") }
        }
    }

    @Test func droppedCollection_staysGoneAfterReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        try await engine.put(collection: "gone", key: bytes("k"), meta: [], value: [1])
        try await engine.put(collection: "kept", key: bytes("k"), meta: [], value: [2])
        try await engine.dropCollection("gone")
        try await engine.close()
        engine = try await StorageEngine.open(options(directory))
        #expect(engine.collections() == ["kept"])
        #expect(try await engine.get(collection: "kept", key: bytes("k"))?.value == [2])
        try await engine.close()
    }

    /// Every acknowledged put survives a crash of the writer (the data directory as the files hold it, without
    /// a close); under `none` the same crash loses writes, which shows the crash image is a real one.
    @Test(arguments: [SyncPolicy.always, .group, .none])
    func acknowledgedPuts_surviveACrashOfTheWriter(sync: SyncPolicy) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await StorageEngine.open(options(directory, sync: sync))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    for i in 0..<50 {
                        try await engine.put(
                            collection: "c", key: bytes("w\(writer)-\(i)"), meta: [], value: [UInt8(i)])
                    }
                }
            }
            try await group.waitForAll()
        }
        let image = try crashImage(of: directory)
        defer { image.remove() }
        try await engine.close()
        let recovered = try await StorageEngine.open(options(image))
        var found = 0
        for writer in 0..<16 {
            for i in 0..<50
            where try await recovered.get(collection: "c", key: bytes("w\(writer)-\(i)"))?.value
                == [UInt8(i)]
            {
                found += 1
            }
        }
        try await recovered.close()
        if sync == .none {
            #expect(found < 800, "without fsync the writes sit in the engine's buffer and die with the process")
        } else {
            #expect(found == 800)
        }
        // A clean close keeps everything under every policy.
        let reopened = try await StorageEngine.open(options(directory))
        for writer in 0..<16 {
            for i in 0..<50 {
                #expect(try await reopened.get(collection: "c", key: bytes("w\(writer)-\(i)"))?.value == [UInt8(i)])
            }
        }
        try await reopened.close()
    }

    @Test func closedEngine_refusesCalls() async throws {
        let engine = try await StorageEngine.open(.memory())
        try await engine.close()
        await #expect(throws: StorageError.closed) {
            try await engine.put(collection: "c", key: [1], meta: [], value: [])
        }
        await #expect(throws: StorageError.closed) { _ = try await engine.get(collection: "c", key: [1]) }
    }

    @Test func stats_reportKeydirBytesPerKey() async throws {
        try await withEngine(.memory) { engine, _ in
            for i in 0..<10_000 {
                var key = [UInt8](repeating: 0, count: 16)
                withUnsafeBytes(of: UInt64(i).bigEndian) { key.replaceSubrange(8..<16, with: $0) }
                try await engine.put(collection: "c", key: key, meta: [], value: [1])
            }
            let stats = engine.stats()
            #expect(stats.keyCount == 10_000)
            #expect(stats.keyBytes == 160_000)
            #expect(stats.keydirOverheadPerKey > 32)
            #expect(stats.keydirBytesPerKey == stats.keydirOverheadPerKey + 16)
        }
    }
}
