import ArgumentParser

/// The operator's command line for a dhrt cluster.
@main
struct DhrtAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhrt-admin",
        abstract:
            "Operate a dhrt cluster: keys, status, ring, staged membership changes, transfers, a shell, local clusters and benchmarks.",
        subcommands: [
            KV.self, Stats.self, Status.self, RingCommand.self, Join.self, Leave.self, ForceRemove.self,
            Replace.self, Plan.self, Commit.self, Clear.self, Transfers.self, Hints.self, Shell.self, Cluster.self,
            Bench.self,
        ]
    )
}
