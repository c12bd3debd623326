import ArgumentParser

/// The operator's command line for a dhrt cluster.
@main
struct DhrtAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhrt-admin",
        abstract: "Operate a dhrt cluster: keys, status, ring, a shell, local clusters and benchmarks.",
        subcommands: [KV.self, Stats.self, RingCommand.self, Shell.self, Cluster.self, Bench.self]
    )
}
