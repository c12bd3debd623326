import Storage
import Testing

@Suite struct BadInputTests {
    @Test(arguments: [
        "", String(repeating: "a", count: 65), "has space", "slash/name", "ünïcode", ".", "..", "a\u{0}b",
    ])
    func invalidCollectionNames_areRefused(name: String) async throws {
        try await withEngine(.memory) { engine, _ in
            await #expect(throws: StorageError.invalidCollectionName(name)) {
                try await engine.put(collection: name, key: [1], meta: [], value: [])
            }
            #expect(throws: StorageError.invalidCollectionName(name)) { try engine.createCollection(name) }
            #expect(engine.collections().isEmpty)
        }
    }

    @Test(arguments: ["a", "Users_2024", "web.sessions", "x-y", String(repeating: "z", count: 64), "..."])
    func validCollectionNames_areAccepted(name: String) async throws {
        try await withEngine(.disk) { engine, _ in
            try await engine.put(collection: name, key: [1], meta: [], value: [2])
            #expect(try await engine.get(collection: name, key: [1])?.value == [2])
        }
    }

    @Test func oversizedKeyValueAndMeta_areRefusedWithTheirSizes() async throws {
        try await withEngine(.disk) { engine, _ in
            let key = [UInt8](repeating: 1, count: 1025)
            await #expect(throws: StorageError.keyTooLarge(1025, limit: 1024)) {
                try await engine.put(collection: "c", key: key, meta: [], value: [])
            }
            await #expect(throws: StorageError.emptyKey) {
                try await engine.put(collection: "c", key: [], meta: [], value: [])
            }
            await #expect(throws: StorageError.valueTooLarge(4097, limit: 4096)) {
                try await engine.put(collection: "c", key: [1], meta: [], value: [UInt8](repeating: 0, count: 4097))
            }
            await #expect(throws: StorageError.metaTooLarge(1025, limit: 1024)) {
                try await engine.delete(collection: "c", key: [1], meta: [UInt8](repeating: 0, count: 1025))
            }
            await #expect(throws: StorageError.valueTooLarge(4097, limit: 4096)) {
                _ = try await engine.update(collection: "c", key: [1]) { _ in
                    .put(meta: [], value: [UInt8](repeating: 0, count: 4097))
                }
            }
            await #expect(throws: StorageError.invalidPartition(256, count: 256)) {
                _ = try await engine.records(collection: "c", partition: 256)
            }
            #expect(engine.stats().keyCount == 0)
        }
    }

    @Test func errors_describeThemselvesClearly() {
        #expect(
            "\(StorageError.keyTooLarge(2000, limit: 1024))" == "key is 2000 bytes, larger than the limit of 1024 bytes"
        )
        #expect("\(StorageError.valueTooLarge(9, limit: 8))" == "value is 9 bytes, larger than the limit of 8 bytes")
        #expect("\(StorageError.invalidCollectionName("a b"))".contains("[A-Za-z0-9_.-]"))
        #expect("\(StorageError.io(operation: "open", path: "/x", errno: 2))".contains("No such file or directory"))
    }

    @Test func invalidOptions_areRefusedAtOpen() async throws {
        await #expect(throws: StorageError.self) {
            _ = try await StorageEngine.open(StorageOptions(directory: nil, partitionCount: 100))
        }
        await #expect(throws: StorageError.self) {
            _ = try await StorageEngine.open(StorageOptions(directory: nil, maxFileSize: 1000))
        }
    }
}
