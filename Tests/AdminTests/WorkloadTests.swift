import Testing

@testable import dhrt_admin

@Suite struct WorkloadTests {
    @Test(arguments: [("a", 0.5), ("b", 0.95), ("c", 1.0), ("put", 0.0), ("get", 1.0), ("mixed:80/20", 0.8)])
    func workload_mixMatchesItsReadShare(name: String, share: Double) throws {
        let workload = try Workload.parse(name)
        var rng = SplitMix64(seed: 7)
        let draws = 200_000
        let reads = (0..<draws).filter { _ in workload.isRead(&rng) }.count
        #expect(abs(Double(reads) / Double(draws) - share) < 0.005)
    }

    @Test(arguments: ["d", "mixed:80/30", "mixed:80", "mixed:x/y", "", "mixed:-10/110"])
    func workload_badNames_areRejectedWithAMessage(name: String) {
        #expect(throws: BenchOptionError.self) { try Workload.parse(name) }
    }

    @Test func consistency_listBecomesOneSettingEach() throws {
        let settings = try QuorumSetting.parseConsistency("one,quorum,all")
        #expect(settings.map(\.name) == ["one", "quorum", "all"])
        #expect(settings[1].r == "quorum" && settings[1].w == "quorum")
    }

    @Test func rwPairs_becomeNumericSettings() throws {
        let settings = try QuorumSetting.parseRW("1/1,2/2,1/3")
        #expect(settings.map(\.name) == ["r1w1", "r2w2", "r1w3"])
        #expect(settings[2].r == "1" && settings[2].w == "3")
    }

    @Test(arguments: ["0/1", "1", "a/b", "1/1,1/1", ""])
    func rwPairs_badPairs_areRejected(text: String) {
        #expect(throws: BenchOptionError.self) { try QuorumSetting.parseRW(text) }
    }

    @Test func consistency_unknownLevel_isRejected() {
        #expect(throws: BenchOptionError.self) { try QuorumSetting.parseConsistency("one,most") }
    }

    @Test(arguments: [("10s", 10.0), ("500ms", 0.5), ("2m", 120.0), ("3", 3.0), ("1.5s", 1.5)])
    func durations_parseWithUnits(text: String, seconds: Double) throws {
        #expect(try DurationText.seconds(text) == seconds)
    }

    @Test func schedule_interleavesSettingsOverRounds() {
        let settings = [QuorumSetting(name: "a", r: "1", w: "1"), QuorumSetting(name: "b", r: "2", w: "2")]
        let order = BenchSession.schedule(settings: settings, rounds: 3).map { "\($0.setting.name)\($0.round)" }
        #expect(order == ["a1", "b1", "a2", "b2", "a3", "b3"])
    }

    @Test func share_splitsACountEvenly() {
        let parts = (0..<4).map { BenchSession.share(10, parts: 4, index: $0) }
        #expect(parts == [3, 3, 2, 2])
    }
}
