import Coordinator
import Storage
import Testing

@testable import dhrt_node

/// A collection dropped on this replica does not come back through range transfer: a copied record written
/// before the drop is forgotten, as a replica merge forgets it; one written after it is kept.
@Suite struct TransferDropFilterTests {
    private func record(_ value: UInt8, at timestamp: UInt64) throws -> StoredForm {
        try ReplicaStore.coordinate(
            stored: VersionedObject(), write: .put(value: [value], contentType: "", context: VersionVector()),
            actor: "n2", timestamp: timestamp
        ).storedForm()
    }

    private func transfer(_ form: StoredForm, key: [UInt8], into replica: LocalReplica) async throws {
        let point = try replica.applyTransferred(
            collection: "c", key: key, isTombstone: form.isTombstone, meta: form.meta, value: form.value)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            replica.storage.whenDurable(point, on: nil) { continuation.resume(with: $0) }
        }
    }

    @Test func aRecordWrittenBeforeTheDrop_isNotStoredByATransfer_oneWrittenAfterIs() async throws {
        let storage = try await StorageEngine.open(StorageOptions(directory: nil))
        let replica = LocalReplica(storage: storage)
        try await transfer(try record(1, at: 10), key: [1], into: replica)
        try await replica.dropCollection("c")
        let dropped = try #require(storage.droppedAt("c"))
        try await transfer(try record(2, at: dropped - 1), key: [2], into: replica)
        #expect(try replica.getNow(collection: "c", key: [2]).isEmpty, "written before the drop: forgotten")
        try await transfer(try record(3, at: dropped + 1), key: [3], into: replica)
        #expect(try replica.getNow(collection: "c", key: [3]).siblings.map(\.value) == [[3]])
    }
}
