import ArgumentParser

/// `dhrt-admin cluster …`: local multi-process clusters for development and tests.
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Start, inspect, test and stop a local cluster of dhrt-node processes on 127.0.0.1.",
        subcommands: [
            ClusterStart.self, ClusterStatus.self, ClusterLogs.self, ClusterStop.self, ClusterClean.self,
            ClusterTest.self,
        ]
    )
}

/// Where the local cluster keeps its PIDs, logs and data.
struct ClusterDirectory: ParsableArguments {
    @Option(help: "Directory holding cluster.json, pids/, logs/ and data/.")
    var dir: String = ".dhrt-cluster"

    var cluster: LocalCluster { LocalCluster(directory: dir) }
}
