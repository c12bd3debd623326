import ArgumentParser
import Testing

@testable import dhrt_admin

@Suite struct OptionParsingTests {
    @Test func bench_defaultsFollowTheIssue() throws {
        let configuration = try Bench.parse([]).makeConfiguration()
        #expect(configuration.settings.map(\.name) == ["one", "quorum", "all"])
        #expect(configuration.keys == 100_000 && configuration.valueSize == 100 && configuration.connections == 64)
        #expect(configuration.durationSeconds == 10 && configuration.ops == nil && configuration.rate == nil)
        #expect(configuration.distribution == .zipfian && configuration.workload == .a)
        #expect(configuration.load)
    }

    @Test func bench_fullCommandLine_parses() throws {
        let bench = try Bench.parse([
            "--nodes", "http://127.0.0.1:8701,http://127.0.0.1:8702/", "--workload", "mixed:90/10",
            "--rw", "1/1,2/2", "--keys", "1000", "--value-size", "10", "--distribution", "uniform",
            "--connections", "8", "--ops", "5000", "--rate", "2000/s", "--warmup", "500ms", "--rounds", "2",
            "--json", "out.json", "--plot", "out.svg",
        ])
        let configuration = try bench.makeConfiguration()
        #expect(configuration.targets.map(\.port) == [8701, 8702])
        #expect(configuration.workload.readFraction == 0.9)
        #expect(configuration.settings.map(\.name) == ["r1w1", "r2w2"])
        #expect(configuration.ops == 5000 && configuration.durationSeconds == nil)
        #expect(configuration.rate == 2000 && configuration.warmupSeconds == 0.5 && configuration.rounds == 2)
        #expect(configuration.jsonPath == "out.json" && configuration.plotPath == "out.svg")
    }

    @Test(arguments: [
        ["--consistency", "one", "--rw", "1/1"],
        ["--duration", "5s", "--ops", "100"],
        ["--nodes", "localhost:8701"],
        ["--nodes", "http://127.0.0.1:99999"],
        ["--distribution", "pareto"],
        ["--connections", "0"],
        ["--duration", "soon"],
        ["--rate", "fast"],
        ["--keys", "0"],
        ["--workload", "z"],
        ["--rounds", "0"],
    ])
    func bench_badOptions_fail(arguments: [String]) {
        #expect(throws: (any Error).self) { try Bench.parse(arguments) }
    }

    @Test func bench_badOption_messageNamesTheOption() {
        let message = Bench.message(for: ValidationError("x"))
        #expect(!message.isEmpty)
        do {
            _ = try Bench.parse(["--rw", "0/1"])
            Issue.record("accepted --rw 0/1")
        } catch {
            #expect(Bench.message(for: error).contains("--rw"))
        }
    }

    @Test func kv_wordsGiveCollectionAndKey() throws {
        let get = try KVGet.parse(["users", "alice", "--node", "http://127.0.0.1:8702", "--r", "one"])
        #expect(try collectionAndKey(get.words) == ("users", "alice"))
        #expect(get.options.client.baseURL == "http://127.0.0.1:8702")
        #expect(get.quorum.headers.map(\.0) == ["X-Dhrt-R"])
        #expect(try collectionAndKey(["alice"]) == ("default", "alice"))
    }

    @Test(arguments: [
        ["a", "b", "c"], ["--r", "most", "k"], ["--consistency", "two", "k"], ["--node", "ftp://x", "k"], [],
    ])
    func kvGet_badArguments_fail(arguments: [String]) {
        #expect(throws: (any Error).self) { try KVGet.parse(arguments) }
    }

    @Test func kvSet_needsAValue() {
        #expect(throws: (any Error).self) { try KVSet.parse(["onlykey"]) }
        #expect(throws: (any Error).self) { try KVSet.parse(["a", "b", "c", "d"]) }
    }

    @Test(arguments: [
        ["-n", "0"], ["-n", "40"], ["--base-http", "80"], ["--sync", "sometimes"],
        ["--base-http", "9000", "--base-cluster", "9001"], ["--partitions", "100"],
        ["--base-resp", "8702"], ["--base-resp", "80"],
    ])
    func clusterStart_badOptions_fail(arguments: [String]) {
        #expect(throws: (any Error).self) { try ClusterStart.parse(arguments) }
    }

    @Test func clusterLayout_placesNodesOnConsecutivePorts() {
        let layout = ClusterLayout(
            nodes: 3, baseHTTP: 8701, baseCluster: 9701, memory: true, sync: nil, partitions: nil, replicas: nil,
            binary: "/bin/true")
        #expect(layout.url(3) == "http://127.0.0.1:8703")
        #expect(layout.respAddress(1) == nil)
        var resp = layout
        resp.baseRESP = 6701
        #expect(resp.respAddress(3) == "127.0.0.1:6703")
        #expect(layout.clusterAddress(2) == "127.0.0.1:9702")
        #expect(layout.name(1) == "n1")
    }
}
