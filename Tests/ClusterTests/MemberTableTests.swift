import Testing
import Wire

@testable import dhrt_node

/// Membership learning rules: own word beats hearsay.
@Suite struct MemberTableTests {
    let n1 = MemberInfo(name: "n1", clusterAddress: "127.0.0.1:9701", httpAddress: "127.0.0.1:8701")
    let n2 = MemberInfo(name: "n2", clusterAddress: "127.0.0.1:9702", httpAddress: "127.0.0.1:8702")

    @Test func reportedMembersAreAddedOnce() {
        var table = MemberTable(local: n1)
        let first = table.learnReported([n2])
        let second = table.learnReported([n2])
        #expect(first && !second)
        #expect(table.sorted.map(\.name) == ["n1", "n2"])
        #expect(table.peers.map(\.name) == ["n2"])
    }

    @Test func hearsayDoesNotOverwriteAMembersOwnAddress() {
        var table = MemberTable(local: n1)
        _ = table.learnDirect(n2)
        var moved = n2
        moved.clusterAddress = "127.0.0.1:1"
        let byHearsay = table.learnReported([moved])
        #expect(!byHearsay)
        #expect(table.members["n2"]?.clusterAddress == "127.0.0.1:9702")
        let byItself = table.learnDirect(moved)
        #expect(byItself)
        #expect(table.members["n2"]?.clusterAddress == "127.0.0.1:1")
    }

    @Test func theLocalMemberIsNeverReplaced() {
        var table = MemberTable(local: n1)
        var impostor = n1
        impostor.clusterAddress = "127.0.0.1:1"
        let direct = table.learnDirect(impostor)
        let reported = table.learnReported([impostor])
        #expect(!direct && !reported)
        #expect(table.members["n1"] == n1)
    }
}
