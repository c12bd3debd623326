import Foundation

/// The text form of a plan document (`/v1/cluster/plan` and the answers of staging commands).
enum PlanText {
    static func render(_ plan: [String: Any]) -> String {
        var lines: [String] = []
        let transferring = plan["transferring"] as? Bool ?? false
        lines.append("claimant \(plan["claimant"] ?? "?"), ring epoch \(plan["epoch"] ?? "?")")
        let staged = plan["staged"] as? [String] ?? []
        if transferring {
            lines.append(
                staged.isEmpty
                    ? "a committed plan is transferring (dhrt-admin plan abort gives it up):"
                    : "a committed plan is transferring; a commit folds these changes into it:")
        } else {
            lines.append(staged.isEmpty ? "nothing staged" : "staged:")
        }
        for change in staged { lines.append("  \(change)") }
        let transfers = plan["transfers"] as? [[String: Any]] ?? []
        lines.append("\(transfers.count) partition(s) \(transferring ? "moving" : "would move")")
        let nodes = plan["nodes"] as? [[String: Any]] ?? []
        if !nodes.isEmpty {
            lines.append(
                pad("node", 12) + pad("state", 9) + pad("before", 8) + pad("after", 7) + pad("in", 5) + pad("out", 5)
                    + pad("%before", 9) + "%after")
            for node in nodes {
                lines.append(
                    pad("\(node["name"] ?? "")", 12) + pad("\(node["state"] ?? "")", 9)
                        + pad("\(node["partitions_before"] ?? 0)", 8) + pad("\(node["partitions_after"] ?? 0)", 7)
                        + pad("\(node["in"] ?? 0)", 5) + pad("\(node["out"] ?? 0)", 5)
                        + pad(percent(node["percent_before"]), 9) + percent(node["percent_after"]))
            }
        }
        if !transfers.isEmpty {
            lines.append("transfers (partition: from -> to):")
            var row: [String] = []
            for transfer in transfers {
                row.append("\(transfer["partition"] ?? "?"): \(transfer["from"] ?? "?") -> \(transfer["to"] ?? "?")")
                if row.count == 4 {
                    lines.append(("  " + row.map { pad($0, 22) }.joined()).trimmingTrailingSpaces)
                    row = []
                }
            }
            if !row.isEmpty { lines.append(("  " + row.map { pad($0, 22) }.joined()).trimmingTrailingSpaces) }
        }
        for warning in plan["warnings"] as? [String] ?? [] { lines.append("warning: \(warning)") }
        if !staged.isEmpty { lines.append("carry it out with: dhrt-admin commit") }
        return lines.joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func percent(_ value: Any?) -> String {
        guard let number = value as? Double ?? (value as? Int).map(Double.init) else { return "-" }
        return String(format: "%.1f", number)
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
