import Testing

@testable import Coordinator

@Suite struct EpochFenceTests {
    @Test func anOlderCoordinator_isRefusedWhereTheReplicaLostThePartition_orForAWriteToAMovingOne() {
        func refuses(_ request: UInt64?, _ me: String, incoming: [String] = [], writing: Bool) -> Bool {
            EpochFence.refuses(
                requestEpoch: request, localEpoch: 5, me: me, replicas: ["n1", "n2", "n3"], incoming: incoming,
                writing: writing)
        }
        #expect(!refuses(5, "n4", writing: true), "same epoch: never refused")
        #expect(!refuses(nil, "n4", writing: true), "the older wire layout: never refused")
        #expect(refuses(4, "n4", writing: false), "no longer holds the partition")
        #expect(!refuses(4, "n1", writing: true), "holds it, nothing moving")
        #expect(refuses(4, "n1", incoming: ["n4"], writing: true), "a write to a moving partition")
        #expect(!refuses(4, "n1", incoming: ["n4"], writing: false), "a read of a moving partition it holds")
        #expect(!refuses(4, "n4", incoming: ["n4"], writing: false), "a receiver holds the partition")
    }
}
