import Foundation
import Testing

@testable import Storage
import TestSupport

/// Mutated data and hint files never crash a reopen, and reads after it answer or throw, never trap.
@Suite struct RecordFuzzTests {
    /// A collection's files after a few writes, a delete and a close (which writes the hint file).
    static func sampleFiles() async throws -> (data: [UInt8], hint: [UInt8]) {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await StorageEngine.open(options(directory))
        for index in 0..<6 {
            try await engine.put(collection: "c", key: bytes("key\(index)"), meta: [1, 2], value: bytes("v\(index)"))
        }
        try await engine.delete(collection: "c", key: bytes("key2"), meta: [3])
        try await engine.close()
        let data = try #require(directory.files(in: "c", withSuffix: ".data").first)
        let hint = try #require(directory.files(in: "c", withSuffix: ".hint").first)
        return (readFile(data), readFile(hint))
    }

    @Test func recordDecoder_survivesMutations() async throws {
        let (data, _) = try await Self.sampleFiles()
        let tried = Fuzzing.run(seeds: [data, Array(data.dropFirst(RecordFormat.fileHeaderSize))]) { input in
            _ = RecordDecoder.decode(input)
            _ = RecordDecoder.decode(input, expectMetaOnly: true)
        }
        #expect(tried >= 1000)
    }

    @Test func reopen_survivesMutatedDataAndHintFiles() async throws {
        let (data, hint) = try await Self.sampleFiles()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try FileManagerHelper.makeDirectory(directory.path + "/c")
        var inputs: [(file: String, bytes: [UInt8])] = []
        // Each mutant replaces one of the two files; the other stays intact.
        Fuzzing.run(seeds: [data, hint], minimum: 100) { input in
            inputs.append((input.starts(with: data.prefix(8)) ? "1.data" : "1.hint", input))
        }
        for (file, content) in inputs.prefix(400) {
            writeFile(directory.path + "/c/1.data", file == "1.data" ? content : data)
            writeFile(directory.path + "/c/1.hint", file == "1.hint" ? content : hint)
            guard let engine = try? await StorageEngine.open(options(directory)) else { continue }
            for index in 0..<6 { _ = try? await engine.get(collection: "c", key: bytes("key\(index)")) }
            _ = try? await engine.keys(collection: "c", after: nil, limit: 100)
            try? await engine.close()
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path + "/c")) ?? [] {
                try? FileManager.default.removeItem(atPath: directory.path + "/c/" + name)
            }
        }
        #expect(inputs.count >= 100)
    }
}
