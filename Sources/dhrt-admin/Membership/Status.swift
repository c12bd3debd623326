import ArgumentParser
import Foundation

/// `dhrt-admin status`: the members as one node sees them.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the cluster's members: ring state, liveness, addresses, ring share, transfers and hints.")

    @OptionGroup var options: NodeOptions

    func run() async throws {
        let status = try await options.client.json("/v1/status")
        print(options.json ? JSONText.render(status) : Self.text(status as? [String: Any] ?? [:]))
    }

    static func text(_ status: [String: Any]) -> String {
        var lines: [String] = []
        let ring = status["ring"] as? [String: Any] ?? [:]
        lines.append(
            "node \(status["node"] ?? "?"), claimant \(status["claimant"] ?? "?"), ring epoch \(ring["epoch"] ?? "?"), "
                + "\(ring["partitions"] ?? "?") partitions, n=\(ring["n"] ?? "?")")
        if status["formed"] as? Bool == false { lines.append("not in a cluster yet") }
        lines.append(
            PlanText.pad("member", 12) + PlanText.pad("state", 9) + PlanText.pad("liveness", 10)
                + PlanText.pad("cluster", 17) + PlanText.pad("http", 17) + PlanText.pad("partitions", 11) + "ring%")
        for member in status["members"] as? [[String: Any]] ?? [] {
            lines.append(
                PlanText.pad("\(member["name"] ?? "")", 12) + PlanText.pad("\(member["state"] ?? "")", 9)
                    + PlanText.pad("\(member["liveness"] ?? "")", 10)
                    + PlanText.pad("\(member["cluster_address"] ?? "")", 17)
                    + PlanText.pad("\(member["http_address"] ?? "")", 17)
                    + PlanText.pad("\(member["partitions"] ?? "")", 11) + PlanText.percent(member["ring_percent"]))
        }
        if let pending = ring["pending"] as? Int, pending > 0 {
            lines.append("pending transfers: \(pending) partition(s)")
        }
        if let transfers = status["transfers"] as? [String: Any], let count = transfers["partitions"] as? Int, count > 0
        {
            lines.append("receiving here: \(transfers["done"] ?? 0) of \(count) partition(s) copied")
        }
        lines += HintsText.summary(status["hints"] as? [String: Any] ?? [:])
        for warning in status["warnings"] as? [String] ?? [] { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }
}
