import Storage
import Testing

@Suite struct UpdateTests {
    @Test(arguments: Mode.allCases)
    func concurrentUpdates_neverLoseAnIncrement(mode: Mode) async throws {
        try await withEngine(mode) { engine, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        for _ in 0..<100 {
                            _ = try await engine.update(collection: "c", key: bytes("counter")) { current in
                                let value = current.map { Int(String(decoding: $0.value, as: UTF8.self))! } ?? 0
                                return .put(meta: [], value: bytes(String(value + 1)))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await engine.get(collection: "c", key: bytes("counter"))?.value == bytes("800"))
        }
    }

    @Test func update_returningNil_writesNothing() async throws {
        try await withEngine(.disk) { engine, _ in
            let written = try await engine.update(collection: "c", key: [1]) { current in
                #expect(current == nil)
                return nil
            }
            #expect(written == nil)
            #expect(try await engine.get(collection: "c", key: [1]) == nil)
        }
    }

    @Test func update_seesTheCurrentRecordAndCanWriteATombstone() async throws {
        try await withEngine(.disk) { engine, _ in
            try await engine.put(collection: "c", key: [1], meta: [9], value: [1, 2, 3])
            let written = try await engine.update(collection: "c", key: [1]) { current in
                #expect(current?.value == [1, 2, 3])
                #expect(current?.meta == [9])
                return .tombstone(meta: [10])
            }
            #expect(written == .tombstone(meta: [10]))
            #expect(try await engine.get(collection: "c", key: [1])?.isTombstone == true)
        }
    }

    struct Refused: Error {}

    @Test func update_whoseTransformThrows_writesNothing() async throws {
        try await withEngine(.memory) { engine, _ in
            try await engine.put(collection: "c", key: [1], meta: [], value: [1])
            await #expect(throws: Refused.self) {
                _ = try await engine.update(collection: "c", key: [1]) { _ in throw Refused() }
            }
            #expect(try await engine.get(collection: "c", key: [1])?.value == [1])
        }
    }
}
