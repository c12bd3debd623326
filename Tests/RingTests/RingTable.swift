import Foundation

enum Environment {
    /// Set `DHRT_RING_TABLE=dir` to write the growth tables of Docs/RING.md into `dir`.
    static var ringTablePath: String? { ProcessInfo.processInfo.environment["DHRT_RING_TABLE"] }
}

/// Writes one (Q, N) growth table as markdown, for Docs/RING.md.
enum RingTable {
    static let shownSizes: Set<Int> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 24, 32, 48, 63, 64]

    static func write(grow: [RingStep], shrink: [RingStep], partitions: Int, replicas: Int, to directory: String) {
        var lines = ["| S | join: moved | join: spacing violations | join: worst load dev. | leave: moved | leave: spacing violations | leave: worst load dev. |",
                     "|---:|---:|---:|---:|---:|---:|---:|"]
        let shrinkBySize = Dictionary(shrink.map { ($0.members, $0) }, uniquingKeysWith: { a, _ in a })
        for step in grow where shownSizes.contains(step.members) {
            let leave = shrinkBySize[step.members]
            lines.append(
                "| \(step.members) | \(step.moved) | \(step.spacingViolations) | \(percent(step.worstLoadDeviation)) | "
                    + "\(leave.map { String($0.moved) } ?? "–") | \(leave.map { String($0.spacingViolations) } ?? "–") | "
                    + "\(leave.map { percent($0.worstLoadDeviation) } ?? "–") |")
        }
        let maxGrow = grow.filter { $0.members >= replicas + 4 }.map(\.spacingViolations).max() ?? 0
        let maxShrink = shrink.filter { $0.members >= 2 * replicas }.map(\.spacingViolations).max() ?? 0
        lines.append("")
        lines.append("Worst over all S: join violations for S ≥ N+4: \(maxGrow); leave violations for S ≥ 2N: \(maxShrink).")
        let text = "### Q = \(partitions), N = \(replicas)\n\n" + lines.joined(separator: "\n") + "\n"
        try? text.write(toFile: "\(directory)/ring-q\(partitions)-n\(replicas).md", atomically: true, encoding: .utf8)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}
