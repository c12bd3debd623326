import Testing

@testable import Coordinator

@Suite struct ConsistencyTests {
    @Test(arguments: [
        ("one", 1), ("ONE", 1), ("Quorum", 2), ("all", 3), (" all ", 3), ("1", 1), ("2", 2), ("3", 3), ("03", 3),
    ])
    func levelsResolveAgainstThreeReplicas(text: String, expected: Int) throws {
        let level = try ConsistencyLevel.parse(text, header: ConsistencyHeaders.r, n: 3)
        #expect(level.required(n: 3, available: 3) == expected)
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
    func quorumIsAMajorityOfTheAvailableReplicas(available: Int, expected: Int) {
        #expect(ConsistencyLevel.quorum.required(n: 5, available: available) == expected)
        #expect(ConsistencyLevel.all.required(n: 5, available: available) == available)
    }

    @Test func aClusterSmallerThanNCountsOverTheNodesItHas() throws {
        let alone = try Quorums.resolve(consistency: nil, r: nil, w: nil, n: 3, available: 1)
        #expect(alone == Quorums(r: 1, w: 1))
        let pair = try Quorums.resolve(consistency: "all", r: nil, w: nil, n: 3, available: 2)
        #expect(pair == Quorums(r: 2, w: 2))
        // An explicit count is kept: the request then fails for lack of replicas (503), not as a 400.
        let explicit = try Quorums.resolve(consistency: nil, r: nil, w: "3", n: 3, available: 2)
        #expect(explicit == Quorums(r: 2, w: 3))
    }

    @Test func consistencySetsBothAndRWOverrideIt() throws {
        #expect(try Quorums.resolve(consistency: nil, r: nil, w: nil, n: 3, available: 3) == Quorums(r: 2, w: 2))
        #expect(try Quorums.resolve(consistency: "one", r: nil, w: nil, n: 3, available: 3) == Quorums(r: 1, w: 1))
        #expect(try Quorums.resolve(consistency: "one", r: "all", w: nil, n: 3, available: 3) == Quorums(r: 3, w: 1))
        #expect(try Quorums.resolve(consistency: "all", r: nil, w: "2", n: 3, available: 3) == Quorums(r: 3, w: 2))
        #expect(
            try Quorums.resolve(consistency: nil, r: nil, w: nil, n: 3, available: 3, defaultR: .one, defaultW: .all)
                == Quorums(r: 1, w: 3))
    }

    @Test(arguments: [
        (nil, "4", nil, ConsistencyError.exceedsN(header: "X-Dhrt-R", value: "4", n: 3)),
        (nil, nil, "0", .zero(header: "X-Dhrt-W")),
        ("most", nil, nil, .malformed(header: "X-Dhrt-Consistency", value: "most", n: 3)),
        (nil, "", nil, .malformed(header: "X-Dhrt-R", value: "", n: 3)),
        (nil, "-1", nil, .malformed(header: "X-Dhrt-R", value: "-1", n: 3)),
        (nil, "+2", nil, .malformed(header: "X-Dhrt-R", value: "+2", n: 3)),
        (nil, "2.0", nil, .malformed(header: "X-Dhrt-R", value: "2.0", n: 3)),
        (nil, nil, "99999999999999999999999", .exceedsN(header: "X-Dhrt-W", value: "99999999999999999999999", n: 3)),
        // An overridden header is still validated.
        ("bogus", "1", "1", .malformed(header: "X-Dhrt-Consistency", value: "bogus", n: 3)),
    ] as [(String?, String?, String?, ConsistencyError)])
    func badHeadersAreRejectedWithAMessage(consistency: String?, r: String?, w: String?, expected: ConsistencyError) {
        #expect(throws: expected) {
            try Quorums.resolve(consistency: consistency, r: r, w: w, n: 3, available: 3)
        }
        #expect(!expected.description.isEmpty)
    }

    @Test func errorMessagesNameTheHeaderAndTheLimit() {
        let error = ConsistencyError.exceedsN(header: "X-Dhrt-R", value: "4", n: 3)
        #expect(error.description == "X-Dhrt-R: 4 exceeds the replication factor N=3")
        let malformed = ConsistencyError.malformed(header: "X-Dhrt-W", value: "x", n: 3)
        #expect(malformed.description == "X-Dhrt-W: \"x\" is not one, quorum, all or an integer from 1 to 3")
    }
}
