import ArgumentParser
import Foundation

/// `dhrt-admin transfers`: range transfers into every member, with progress and rates.
struct Transfers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show active and queued range transfers on every member: progress, bytes/s, keys/s, ETA.")

    @OptionGroup var options: NodeOptions

    @Flag(help: "Refresh every second until no transfer is left.")
    var watch = false

    @Option(help: "Seconds between the two samples that rates are measured over.")
    var interval: Double = 1

    func validate() throws {
        guard interval > 0, interval <= 60 else { throw ValidationError("--interval must be between 0 and 60 s.") }
    }

    func run() async throws {
        repeat {
            let first = try await sample()
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            let second = try await sample()
            if options.json {
                print(JSONText.render(second.mapValues { $0 as Any }))
            } else {
                print(Self.text(before: first, after: second, seconds: interval))
            }
            let busy = second.values.contains { node in
                let transfers = node["transfers"] as? [String: Any] ?? [:]
                return (transfers["partitions"] as? Int ?? 0) > (transfers["done"] as? Int ?? 0)
            }
            if !busy { break }
        } while watch
    }

    /// `/v1/transfers` of every member, by name.
    private func sample() async throws -> [String: [String: Any]] {
        try await options.fromEveryMember("/v1/transfers")
    }

    static func text(before: [String: [String: Any]], after: [String: [String: Any]], seconds: Double) -> String {
        var lines: [String] = []
        for name in after.keys.sorted() {
            let node = after[name]!
            guard let transfers = node["transfers"] as? [String: Any] else {
                lines.append("\(name): unreachable")
                continue
            }
            let total = transfers["partitions"] as? Int ?? 0
            let done = transfers["done"] as? Int ?? 0
            guard total > 0 else {
                lines.append("\(name): no transfer into this node")
                continue
            }
            let earlier = before[name]?["transfers"] as? [String: Any] ?? [:]
            let bytes = Double((transfers["received_bytes"] as? Int ?? 0) - (earlier["received_bytes"] as? Int ?? 0))
            let keys = Double((transfers["received_keys"] as? Int ?? 0) - (earlier["received_keys"] as? Int ?? 0))
            let active = transfers["active"] as? [[String: Any]] ?? []
            let remaining = active.reduce(0) { $0 + max(0, $1["remaining_keys"] as? Int ?? 0) }
            let keyRate = keys / seconds
            let eta = keyRate > 0 ? String(format: "%.0f s", Double(remaining) / keyRate) : "-"
            lines.append(
                "\(name): \(done)/\(total) partitions \(bar(Double(done) / Double(total)))  "
                    + String(format: "%.1f MB/s, %.0f keys/s", bytes / seconds / 1e6, keyRate)
                    + ", queued \(transfers["queued"] ?? 0), waiting \(transfers["waiting"] ?? 0), ETA of active \(eta)"
            )
            for stalled in transfers["waiting_for_source"] as? [[String: Any]] ?? [] {
                let source = stalled["source"] as? String ?? ""
                lines.append(
                    "  partition \(stalled["partition"] ?? "?"): "
                        + (source.isEmpty ? "no source" : "waiting for \(source), down")
                        + "; force-remove or replace the dead member, or dhrt-admin plan abort")
            }
            for partition in active {
                let got = partition["keys"] as? Int ?? 0
                let left = max(0, partition["remaining_keys"] as? Int ?? 0)
                let share = got + left > 0 ? Double(got) / Double(got + left) : 0
                lines.append(
                    "  partition \(partition["partition"] ?? "?") from \(partition["from"] ?? "?") "
                        + "\(bar(share)) \(got) keys, \(partition["bytes"] ?? 0) bytes")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func bar(_ share: Double, width: Int = 20) -> String {
        let filled = Int((min(1, max(0, share)) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}
