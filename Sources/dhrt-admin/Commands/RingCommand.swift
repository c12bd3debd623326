import ArgumentParser
import Foundation

/// `dhrt-admin ring`: who owns which partitions.
struct RingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Show the ring: epoch, partition count, N, members and partitions per member."
    )

    @OptionGroup var options: NodeOptions

    @Flag(help: "Also print the owner of every partition (and its pending move).")
    var partitions = false

    func run() async throws {
        let view = try await RingSummary.fetch(options.client)
        print(options.json ? JSONText.render(view.json) : view.text + (partitions ? "\n" + view.partitionMap : ""))
    }
}

/// The ring as a node reports it: from `/v1/ring` when the node has it, else the `ring` part of `/v1/status`.
struct RingSummary {
    var json: [String: Any]

    static func fetch(_ client: NodeClient) async throws -> RingSummary {
        let direct = try await client.send(.GET, "/v1/ring")
        if direct.isSuccess, let object = try? JSONSerialization.jsonObject(with: Data(direct.body)) as? [String: Any] {
            return RingSummary(json: object)
        }
        let status = try await client.json("/v1/status")
        guard let object = status as? [String: Any] else { throw AdminError.badAnswer("/v1/status is not an object") }
        return RingSummary(status: object)
    }

    init(json: [String: Any]) { self.json = json }

    /// The ring view's shape built from a status document (`ring` with a partition count and an `ownership`
    /// map, members at the top level).
    init(status: [String: Any]) {
        let ring = status["ring"] as? [String: Any] ?? [:]
        var view: [String: Any] = [:]
        view["epoch"] = ring["epoch"]
        view["partitions_count"] = ring["partitions_count"] ?? (ring["partitions"] as? Int)
        view["n"] = ring["n"]
        view["members"] = ring["members"] ?? status["members"] ?? []
        view["partitions"] = ring["partitions"] as? [Any] ?? []
        view["pending"] = ring["pending"] ?? []
        if let ownership = ring["ownership"] { view["ownership"] = ownership }
        if let effective = ring["effective_n"] { view["effective_n"] = effective }
        json = view
    }

    var memberNames: [String] {
        (json["members"] as? [Any] ?? []).map { item in
            if let member = item as? [String: Any] { return member["name"] as? String ?? "\(member)" }
            return "\(item)"
        }
    }

    /// Partitions owned per member name, from `partitions` (owner names or objects with an `owner`).
    var ownedCounts: [String: Int] {
        if let ownership = json["ownership"] as? [String: Int] { return ownership }
        var counts: [String: Int] = [:]
        for item in json["partitions"] as? [Any] ?? [] {
            let owner: String? =
                if let name = item as? String { name } else if let object = item as? [String: Any] {
                    object["owner"] as? String ?? (object["owners"] as? [String])?.first
                } else { nil }
            if let owner { counts[owner, default: 0] += 1 }
        }
        return counts
    }

    var pending: [[String: Any]] { json["pending"] as? [[String: Any]] ?? [] }

    /// "pending in N, out M" for a member, or nothing.
    func pendingMoves(of name: String) -> String {
        let incoming = pending.filter { $0["to"] as? String == name }.count
        let outgoing = pending.filter { $0["from"] as? String == name }.count
        return incoming + outgoing == 0 ? "" : "pending in \(incoming), out \(outgoing)"
    }

    /// One line per partition: its owner, and where it moves if a transfer is pending.
    var partitionMap: String {
        var moving: [Int: String] = [:]
        for transfer in pending {
            if let partition = transfer["partition"] as? Int, let to = transfer["to"] as? String {
                moving[partition] = to
            }
        }
        return (json["partitions"] as? [[String: Any]] ?? []).map { entry in
            let partition = entry["partition"] as? Int ?? -1
            let owner = entry["owner"] as? String ?? "?"
            return "\(partition)\t\(owner)" + (moving[partition].map { " -> \($0)" } ?? "")
        }.joined(separator: "\n")
    }

    var text: String {
        var lines: [String] = []
        let field = { (name: String) in self.json[name].map { "\($0)" } ?? "?" }
        lines.append("epoch \(field("epoch")), \(field("partitions_count")) partitions, n=\(field("n"))")
        let counts = ownedCounts
        let members = json["members"] as? [Any] ?? []
        if members.isEmpty { return Outline.render(json) }
        lines.append("members:")
        for item in members {
            let member = item as? [String: Any] ?? ["name": "\(item)"]
            let name = member["name"] as? String ?? "?"
            let state = member["state"] as? String ?? ""
            let address = member["http_address"] as? String ?? member["httpAddress"] as? String ?? ""
            let owned = counts[name].map { "\($0) partitions" } ?? ""
            let total = json["partitions_count"] as? Int ?? 0
            let share = total > 0 ? String(format: "%.1f%%", Double(counts[name] ?? 0) * 100 / Double(total)) : ""
            let moves = pendingMoves(of: name)
            lines.append(
                "  " + [name, state, address, owned, share, moves].filter { !$0.isEmpty }.joined(separator: "  "))
        }
        for warning in json["warnings"] as? [String] ?? [] { lines.append("warning: \(warning)") }
        if let pending = json["pending"] as? [Any], !pending.isEmpty {
            lines.append("pending transfers: \(pending.count)")
        }
        return lines.joined(separator: "\n")
    }
}
