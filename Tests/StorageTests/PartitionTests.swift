import Ring
import Storage
import Testing

@Suite struct PartitionTests {
    @Test(arguments: Mode.allCases)
    func records_ofAPartition_areExactlyItsKeysWithTombstones(mode: Mode) async throws {
        try await withEngine(mode, partitionCount: 16) { engine, _ in
            let partitioner = try Partitioner(count: 16)
            var expected: [Int: Set<[UInt8]>] = [:]
            for i in 0..<500 {
                let key = bytes("key\(i)")
                if i % 7 == 0 {
                    try await engine.delete(collection: "c", key: key, meta: [1])
                } else {
                    try await engine.put(collection: "c", key: key, meta: [], value: bytes("v\(i)"))
                }
                expected[partitioner.partition(collection: "c", key: key), default: []].insert(key)
                #expect(engine.partition(collection: "c", key: key) == partitioner.partition(collection: "c", key: key))
            }
            for partition in 0..<16 {
                let records = try await engine.records(collection: "c", partition: partition)
                #expect(Set(records.map(\.key)) == expected[partition, default: []])
                for (key, record) in records {
                    let i = Int(String(decoding: key.dropFirst(3), as: UTF8.self))!
                    #expect(record.isTombstone == (i % 7 == 0))
                    if !record.isTombstone { #expect(record.value == bytes("v\(i)")) }
                }
            }
        }
    }

    @Test(arguments: Mode.allCases)
    func dropPartition_forgetsOnlyThatPartition(mode: Mode) async throws {
        try await withEngine(mode, partitionCount: 8) { engine, _ in
            for i in 0..<200 { try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: [1]) }
            let before = try await engine.records(collection: "c", partition: 3).count
            #expect(before > 0)
            try await engine.dropPartition(collection: "c", partition: 3)
            #expect(try await engine.records(collection: "c", partition: 3).isEmpty)
            #expect(engine.stats().keyCount == 200 - before)
            for i in 0..<200 {
                let key = bytes("k\(i)")
                let found = try await engine.get(collection: "c", key: key)
                #expect((found == nil) == (engine.partition(collection: "c", key: key) == 3))
            }
        }
    }

    @Test func droppedPartition_staysDroppedAfterReopenButNewWritesSurvive() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var engine = try await StorageEngine.open(options(directory))
        for i in 0..<300 { try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: [1]) }
        let victim = engine.partition(collection: "c", key: bytes("k0"))
        let dropped = (0..<300).map { bytes("k\($0)") }.filter { engine.partition(collection: "c", key: $0) == victim }
        try await engine.dropPartition(collection: "c", partition: victim)
        try await engine.put(collection: "c", key: dropped[0], meta: [], value: [2])
        try await engine.close()

        engine = try await StorageEngine.open(options(directory))
        #expect(try await engine.records(collection: "c", partition: victim).map(\.key) == [dropped[0]])
        #expect(try await engine.get(collection: "c", key: dropped[0])?.value == [2])
        #expect(engine.stats().keyCount == 300 - dropped.count + 1)
        _ = try await engine.merge(force: true)
        try await engine.close()

        engine = try await StorageEngine.open(options(directory))
        #expect(engine.stats().keyCount == 300 - dropped.count + 1)
        try await engine.close()
    }

    @Test func merge_dropsPartitionsNoLongerOwned() async throws {
        try await withEngine(.disk, partitionCount: 8) { engine, _ in
            for i in 0..<200 { try await engine.put(collection: "c", key: bytes("k\(i)"), meta: [], value: [1]) }
            _ = try await engine.merge(retaining: { _, partition in partition % 2 == 0 })
            for partition in 0..<8 {
                let count = try await engine.records(collection: "c", partition: partition).count
                #expect((count == 0) == (partition % 2 == 1))
            }
        }
    }
}
