import ArgumentParser
import Foundation

/// `dhrt-admin cluster status`.
struct ClusterStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each local node: PID, whether it runs, health and members it knows."
    )

    @OptionGroup var location: ClusterDirectory

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let cluster = location.cluster
        let layout = try cluster.loadLayout()
        var rows: [[String: Any]] = []
        for index in layout.indices {
            let pid = cluster.runningPID(index)
            var client = cluster.client(index, layout: layout)
            client.timeout = .seconds(2)
            var healthy = false
            if pid != nil, let response = try? await client.send(.GET, "/health") { healthy = response.isSuccess }
            var members = 0
            if healthy, let status = try? await client.json("/v1/status") {
                members = Readiness.memberCount(in: status)
            }
            var row: [String: Any] = [
                "name": layout.name(index), "url": layout.url(index), "running": pid != nil,
                "healthy": healthy, "members": members,
            ]
            row["pid"] = pid.map { Int($0) }
            rows.append(row)
        }
        if json {
            print(JSONText.render(["directory": cluster.directory, "nodes": rows]))
            return
        }
        print("cluster in \(cluster.directory)")
        for row in rows {
            let state = (row["running"] as! Bool) ? ((row["healthy"] as! Bool) ? "up" : "unhealthy") : "stopped"
            let pid = (row["pid"] as? Int).map { "pid \($0)" } ?? "-"
            let members = (row["healthy"] as! Bool) ? "\(row["members"]!) members known" : ""
            print("  \(row["name"]!)  \(state.padding(9))  \(pid.padding(10))  \(row["url"]!)  \(members)")
        }
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// Right-aligned in a column of `width` characters.
    func leftPadding(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
