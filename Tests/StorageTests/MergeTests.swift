import Storage
import Testing
import TestSupport

@Suite struct MergeTests {
    @Test(arguments: Mode.allCases)
    func merge_reclaimsDeadBytesAndKeepsTheNewestValues(mode: Mode) async throws {
        try await withEngine(mode, sync: .none, maxFileSize: 16 << 10) { engine, _ in
            for round in 0..<20 {
                for k in 0..<100 {
                    try await engine.put(
                        collection: "c", key: bytes("k\(k)"), meta: [UInt8(round)], value: bytes("v\(round)-\(k)"))
                }
            }
            try await engine.delete(collection: "c", key: bytes("k0"), meta: [])
            let before = try #require(engine.stats().collections["c"])
            let summary = try await engine.merge()
            let after = try #require(engine.stats().collections["c"])
            #expect(summary.filesMerged > 0)
            #expect(summary.bytesReclaimed > 0)
            #expect(after.dataBytes < before.dataBytes)
            #expect(after.deadBytes < before.deadBytes)
            #expect(after.merges == 1)
            for k in 1..<100 {
                #expect(try await engine.get(collection: "c", key: bytes("k\(k)"))?.value == bytes("v19-\(k)"))
            }
            #expect(try await engine.get(collection: "c", key: bytes("k0"))?.isTombstone == true)
        }
    }

    @Test func mergedFiles_reopenFromTheirHints() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        for round in 0..<10 {
            for k in 0..<100 {
                try await engine.put(collection: "c", key: bytes("k\(k)"), meta: [], value: bytes("v\(round)-\(k)"))
            }
        }
        _ = try await engine.merge(force: true)
        try await engine.close()
        engine = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
        let stats = try #require(engine.stats().collections["c"])
        #expect(stats.hintsRejected == 0)
        #expect(stats.hintsLoaded == directory.files(in: "c", withSuffix: ".data").count)
        for k in 0..<100 {
            #expect(try await engine.get(collection: "c", key: bytes("k\(k)"))?.value == bytes("v9-\(k)"))
        }
        try await engine.close()
    }

    /// Writers own disjoint keys and publish each acknowledged version; readers check they never see a version
    /// older than one already acknowledged, while merges run back to back.
    @Test(arguments: Mode.allCases)
    func mergeDuringConcurrentWritesAndReads_losesNothingAndServesNothingStale(mode: Mode) async throws {
        try await withEngine(mode, sync: .group, maxFileSize: 16 << 10) { engine, directory in
            let writers = 4
            let keysPerWriter = 25
            let versions = 20
            let ledger = VersionLedger(keys: writers * keysPerWriter, writers: writers)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for version in 0..<versions {
                            await ledger.awaitMerges(version / 4)
                            for k in 0..<keysPerWriter {
                                let key = writer * keysPerWriter + k
                                try await engine.put(
                                    collection: "c", key: bytes("k\(key)"), meta: [], value: bytes("\(version)"))
                                ledger.acknowledge(key: key, version: version)
                                await Task.yield()  // memory-mode puts never suspend; let merges interleave
                            }
                        }
                        ledger.writerFinished()
                    }
                }
                for reader in 0..<2 {
                    group.addTask {
                        var random = SeededGenerator(seed: UInt64(reader))
                        while ledger.writing {
                            let key = Int.random(in: 0..<(writers * keysPerWriter), using: &random)
                            let floor = ledger.floor(of: key)
                            let record = try await engine.get(collection: "c", key: bytes("k\(key)"))
                            let seen = record.map { Int(String(decoding: $0.value, as: UTF8.self))! } ?? -1
                            if seen < floor { ledger.recordStaleRead() }
                            // Reads never suspend; yield so that writers get the pool's few threads.
                            await Task.yield()
                        }
                    }
                }
                group.addTask {
                    while ledger.writing {
                        _ = try await engine.merge(force: true)
                        ledger.mergeFinished()
                        await Task.yield()
                    }
                }
                try await group.waitForAll()
            }
            #expect(ledger.staleReadCount == 0)
            #expect((engine.stats().collections["c"]?.merges ?? 0) > 0)
            _ = try await engine.merge(force: true)
            for key in 0..<(writers * keysPerWriter) {
                #expect(try await engine.get(collection: "c", key: bytes("k\(key)"))?.value == bytes("\(versions - 1)"))
            }
            guard mode == .disk else { return }
            try await engine.close()
            let reopened = try await StorageEngine.open(options(directory, maxFileSize: 16 << 10))
            for key in 0..<(writers * keysPerWriter) {
                #expect(
                    try await reopened.get(collection: "c", key: bytes("k\(key)"))?.value == bytes("\(versions - 1)"))
            }
            try await reopened.close()
        }
    }

    @Test func mergeLoop_mergesInTheBackground_andReturnsWhenCancelled() async throws {
        try await withEngine(.memory, maxFileSize: 16 << 10) { engine, _ in
            // Overwrites leave sealed files full of dead records for the loop to merge.
            for version in 0..<20 {
                for key in 0..<50 {
                    try await engine.put(collection: "c", key: bytes("k\(key)"), meta: [], value: bytes("\(version)"))
                }
            }
            #expect(engine.stats().collections["c"]?.merges == 0)
            let loop = Task { await engine.runMergeLoop(interval: .milliseconds(5)) }
            let merged = try await bounded(.seconds(60), "the first background merge") {
                while engine.stats().collections["c"]?.merges == 0 { try await Task.sleep(for: .milliseconds(5)) }
                return true
            }
            #expect(merged)
            loop.cancel()
            try await bounded(.seconds(60), "the cancelled merge loop") { await loop.value }
            for key in 0..<50 {
                #expect(try await engine.get(collection: "c", key: bytes("k\(key)"))?.value == bytes("19"))
            }
        }
    }
}
