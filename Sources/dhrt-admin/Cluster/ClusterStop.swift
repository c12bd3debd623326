import ArgumentParser
import Foundation

/// `dhrt-admin cluster stop`.
struct ClusterStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop every local node: SIGTERM, then SIGKILL after the grace period."
    )

    @OptionGroup var location: ClusterDirectory

    @Option(help: "Seconds to wait after SIGTERM before SIGKILL.")
    var grace: Double = 10

    func run() async throws {
        try await ClusterStop.stopAll(location.cluster, grace: grace)
    }

    static func stopAll(_ cluster: LocalCluster, grace: Double) async throws {
        let layout = try cluster.loadLayout()
        await withTaskGroup(of: String?.self) { group in
            for index in layout.indices {
                group.addTask {
                    guard let (pid, killed) = await cluster.stopNode(index, grace: grace) else { return nil }
                    return "stopped \(layout.name(index)) pid \(pid)\(killed ? " (SIGKILL after \(grace) s)" : "")"
                }
            }
            for await line in group { if let line { print(line) } }
        }
    }
}

/// `dhrt-admin cluster clean`.
struct ClusterClean: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Stop the local nodes and delete the cluster directory (data and logs)."
    )

    @OptionGroup var location: ClusterDirectory

    func run() async throws {
        let cluster = location.cluster
        guard FileManager.default.fileExists(atPath: cluster.layoutPath) else {
            print("nothing to clean in \(cluster.directory)")
            return
        }
        try await ClusterStop.stopAll(cluster, grace: 10)
        try FileManager.default.removeItem(atPath: cluster.directory)
        print("removed \(cluster.directory)")
    }
}
