import ArgumentParser
import Foundation

/// `dhrt-admin hints`: the hints every member holds for replicas that missed writes, per target.
struct Hints: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the hints each member holds for replicas that were down: per target, count, bytes, age.")

    @OptionGroup var options: NodeOptions

    @Flag(help: "List every hint (collection, key, bytes, age), not only the totals per target.")
    var keys = false

    func run() async throws {
        let held = try await options.fromEveryMember("/v1/hints")
        print(options.json ? JSONText.render(held.mapValues { $0 as Any }) : Self.text(held, keys: keys))
    }

    static func text(_ held: [String: [String: Any]], keys: Bool) -> String {
        var lines: [String] = []
        for holder in held.keys.sorted() {
            let hints = held[holder]!
            guard hints["unreachable"] == nil else {
                lines.append("\(holder): unreachable")
                continue
            }
            let targets = hints["targets"] as? [[String: Any]] ?? []
            lines.append(
                "\(holder): \(hints["count"] ?? 0) hint(s), \(hints["bytes"] ?? 0) bytes, "
                    + "\(hints["replayed"] ?? 0) replayed, \(hints["dropped"] ?? 0) dropped"
                    + String(format: ", replaying %.0f/s", hints["replay_rate"] as? Double ?? 0))
            for target in targets {
                lines.append("  " + HintsText.line(target))
                guard keys else { continue }
                for hint in target["hints"] as? [[String: Any]] ?? [] {
                    lines.append(
                        "    \(hint["collection"] ?? "?")/\(hint["key"] ?? "?")  \(hint["bytes"] ?? 0) bytes, "
                            + HintsText.age(hint["age_seconds"]))
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Hint figures as `status` and `hints` print them.
enum HintsText {
    /// The lines of `status` about the hints a node holds; none when it holds none.
    static func summary(_ hints: [String: Any]) -> [String] {
        let targets = hints["targets"] as? [[String: Any]] ?? []
        var lines: [String] = []
        if !targets.isEmpty {
            lines.append(
                "hints held here: \(hints["count"] ?? 0), \(hints["bytes"] ?? 0) bytes"
                    + String(format: ", replaying %.0f/s", hints["replay_rate"] as? Double ?? 0))
            for target in targets { lines.append("  " + line(target)) }
        }
        if let dropped = hints["dropped"] as? Int, dropped > 0 {
            lines.append("hints dropped: \(dropped) (anti-entropy or read repair must cover those keys)")
        }
        return lines
    }

    static func line(_ target: [String: Any]) -> String {
        "for \(target["target"] ?? "?") (\(target["liveness"] ?? "?")): \(target["count"] ?? 0) hint(s), "
            + "\(target["bytes"] ?? 0) bytes, oldest " + age(target["oldest_age_seconds"])
    }

    static func age(_ value: Any?) -> String {
        let seconds = value as? Double ?? Double(value as? Int ?? 0)
        if seconds < 120 { return String(format: "%.0f s", seconds) }
        if seconds < 7_200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3_600)
    }
}
