import Ring
import Storage
import Testing

@Suite struct PartitionBatchTests {
    @Test(arguments: Mode.allCases)
    func batches_walkEveryRecordOnceInCursorOrder_andStayWithinTheirBound(mode: Mode) async throws {
        try await withEngine(mode, partitionCount: 8) { engine, _ in
            let partition = 5
            var expected: [(String, [UInt8])] = []
            for collection in ["b", "a"] {
                for i in 0..<300 {
                    let key = bytes("key\(i)")
                    guard engine.partition(collection: collection, key: key) == partition else { continue }
                    // Every tenth value is large: a batch must not grow past its bound to take one.
                    let value = [UInt8](repeating: 7, count: i % 10 == 0 ? 3_000 : 10)
                    try await engine.put(collection: collection, key: key, meta: [1], value: value)
                    expected.append((collection, key))
                }
            }
            expected.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.lexicographicallyPrecedes($1.1) }
            var seen: [(String, [UInt8])] = []
            var cursor: (String, [UInt8])?
            var batches = 0
            while true {
                let batch = try engine.partitionBatch(
                    partition: partition, afterCollection: cursor?.0, afterKey: cursor?.1 ?? [], maxBytes: 4_096)
                batches += 1
                let size = batch.records.reduce(0) {
                    $0 + $1.key.count + $1.record.meta.count + $1.record.value.count + 32
                }
                #expect(
                    batch.records.count == 1 || size <= 4_096, "a batch of \(batch.records.count) holds \(size) bytes")
                seen += batch.records.map { ($0.collection, $0.key) }
                #expect(batch.remaining == expected.count - seen.count)
                if batch.finished { break }
                cursor = batch.records.last.map { ($0.collection, $0.key) }
                #expect(batches < 1_000)
            }
            #expect(seen.map(\.0) == expected.map(\.0))
            #expect(seen.map(\.1) == expected.map(\.1))
            #expect(batches > 2)
        }
    }
}
