import ArgumentParser
import Foundation

/// `dhrt-admin cluster logs [i]`.
struct ClusterLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the end of one node's log, or of every node's."
    )

    @OptionGroup var location: ClusterDirectory

    @Argument(help: "Node number (1 = n1); all nodes if absent.")
    var index: Int?

    @Option(name: .long, help: "Lines from the end of each log.")
    var lines: Int = 40

    func validate() throws {
        guard lines > 0 else { throw ValidationError("--lines must be positive.") }
        if let index, index < 1 { throw ValidationError("node numbers start at 1.") }
    }

    func run() async throws {
        let cluster = location.cluster
        let layout = try cluster.loadLayout()
        if let index, !layout.indices.contains(index) {
            throw ValidationError("node \(index) does not exist; the cluster has \(layout.nodes) nodes.")
        }
        let indices = index.map { [$0] } ?? Array(layout.indices)
        for index in indices {
            let path = cluster.logPath(index)
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if indices.count > 1 { print("==> \(layout.name(index)) (\(path)) <==") }
            print(text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n"))
        }
    }
}
