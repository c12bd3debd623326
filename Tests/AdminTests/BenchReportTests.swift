import Foundation
import Testing

@testable import dhrt_admin

@Suite struct BenchReportTests {
    private func report(settings: [String]) throws -> BenchReport {
        let configuration = try Bench.parse(["--consistency", settings.joined(separator: ",")]).makeConfiguration()
        var all: [(QuorumSetting, OperationStats)] = []
        for (index, setting) in configuration.settings.enumerated() {
            var stats = OperationStats()
            for micros in UInt64(100 * (index + 1))...UInt64(2000 * (index + 1)) {
                stats.record(micros % 2 == 0 ? .read : .update, micros: micros)
                stats.ok += 1
            }
            stats.seconds = 2
            if index == 2 { stats.errors["503"] = 7 }
            all.append((setting, stats))
        }
        return BenchReport(configuration: configuration, n: 3, started: Date(), settings: all)
    }

    @Test func json_hasOneResultPerSettingWithNumericQuorums() throws {
        let data = try report(settings: ["one", "quorum", "all"]).json()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.map { $0["setting"] as? String } == ["one", "quorum", "all"])
        #expect(results.map { $0["r"] as? Int } == [1, 2, 3])
        #expect(results.map { $0["w"] as? Int } == [1, 2, 3])
        let latency = try #require(results[0]["latency_ms"] as? [String: Double])
        #expect(Set(latency.keys).isSuperset(of: ["p50", "p90", "p99", "p999", "max"]))
        #expect((results[2]["errors"] as? [String: Int]) == ["503": 7])
        #expect((object["parameters"] as? [String: Any])?["value_size"] as? Int == 100)
        #expect(try BenchReport.decode(data).results.count == 3)
    }

    @Test func table_hasAHeaderAndOneRowPerSetting() throws {
        let lines = try report(settings: ["one", "all"]).table().split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("setting"))
        #expect(lines[2].hasPrefix("one") && lines[3].hasPrefix("all"))
    }

    @Test(arguments: [["quorum"], ["one", "quorum"], ["one", "quorum", "all"]])
    func svg_hasOneSeriesAndOneBarPerSetting(settings: [String]) throws {
        let svg = BenchPlot(report: try report(settings: settings)).svg()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "class=\"series\"").count - 1 == settings.count)
        #expect(svg.components(separatedBy: "class=\"bar\"").count - 1 == settings.count)
        for setting in settings { #expect(svg.contains("data-setting=\"\(setting)\"")) }
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func groupedNumbers_haveThousandsSeparators() {
        #expect(BenchReport.grouped(1_234_567.4) == "1,234,567")
        #expect(BenchReport.grouped(999) == "999")
    }
}
