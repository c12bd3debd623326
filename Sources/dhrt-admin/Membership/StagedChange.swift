import ArgumentParser
import Foundation

/// Sends one staged-change request and prints the plan the claimant answers with.
enum StagedChange {
    static func send(_ options: NodeOptions, _ action: String, _ query: [(String, String)]) async throws {
        let suffix = query.isEmpty ? "" : "?" + query.map { "\($0)=\(PathEscape.query($1))" }.joined(separator: "&")
        let response = try await options.client.expect(.POST, "/v1/cluster/\(action)\(suffix)")
        let plan = try JSONSerialization.jsonObject(with: Data(response.body))
        print(options.json ? JSONText.render(plan) : PlanText.render(plan as? [String: Any] ?? [:]))
    }
}

/// `dhrt-admin join ADDRESS`: stage the join of a started node.
struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stage the join of a node (its cluster address); see it with plan, carry it out with commit.")

    @Argument(help: "Cluster address HOST:PORT of the new node (its --cluster).")
    var address: String

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "join", [("address", address)]) }
}

/// `dhrt-admin leave NODE`: stage a member's leave.
struct Leave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stage the leave of a member: its partitions move to the others, then it owns nothing.")

    @Argument(help: "Name of the member that leaves.")
    var name: String

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "leave", [("node", name)]) }
}

/// `dhrt-admin force-remove NODE`: stage the removal of a member that is gone for good.
struct ForceRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "force-remove",
        abstract: "Stage the removal of a dead member: its partitions are rebuilt from the other replicas.")

    @Argument(help: "Name of the member to remove.")
    var name: String

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "force-remove", [("node", name)]) }
}

/// `dhrt-admin replace OLD NEW_ADDRESS`: stage a one-for-one replacement.
struct Replace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stage the replacement of a member by a new node, which takes exactly its partitions.")

    @Argument(help: "Name of the member to replace.")
    var old: String

    @Argument(help: "Cluster address HOST:PORT of the new node.")
    var address: String

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "replace", [("old", old), ("new", address)]) }
}

/// `dhrt-admin commit`: carry out the staged changes.
struct Commit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit the staged changes: the moving partitions start to transfer.")

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "commit", []) }
}

/// `dhrt-admin clear`: forget the staged changes.
struct Clear: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Forget every staged change.")

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "clear", []) }
}

/// `dhrt-admin plan`: what a commit would do; `plan abort` gives up the pending plan.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the staged changes and every partition a commit would move, with per-node counts.",
        subcommands: [PlanShow.self, PlanAbort.self], defaultSubcommand: PlanShow.self)
}

/// `dhrt-admin plan [show]`: what a commit would do, or the plan that is transferring.
struct PlanShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the staged changes and every partition a commit would move, with per-node counts.")

    @OptionGroup var options: NodeOptions

    func run() async throws {
        let plan = try await options.client.json("/v1/cluster/plan")
        print(options.json ? JSONText.render(plan) : PlanText.render(plan as? [String: Any] ?? [:]))
    }
}

/// `dhrt-admin plan abort`: the ring goes back to its owners before the pending plan.
struct PlanAbort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Abort the plan that is transferring: owners stay as before it, joiners are removed, leavers "
            + "are up again, and what the receivers copied is dropped.")

    @OptionGroup var options: NodeOptions

    func run() async throws { try await StagedChange.send(options, "abort", []) }
}
