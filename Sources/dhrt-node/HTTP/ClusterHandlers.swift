import Coordinator
import Hummingbird
import Ring
import Wire

/// `dhrt-admin join/leave/force-remove/replace/plan/commit/clear/plan abort`: staged membership changes, carried out by
/// the claimant (`ClusterControl.command`) whichever node receives them.
struct ClusterHandlers {
    let node: Node

    func handle(_ action: Route.ClusterAction, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let command: ClusterCommand
        switch action {
        case .plan: command = ClusterCommand(.plan)
        case .commit: command = ClusterCommand(.commit)
        case .clear: command = ClusterCommand(.clear)
        case .abort: command = ClusterCommand(.abort)
        case .join:
            command = ClusterCommand(.join, member: try await introduce(try parameter(query, "address")))
        case .leave: command = ClusterCommand(.leave, name: try parameter(query, "node"))
        case .forceRemove: command = ClusterCommand(.forceRemove, name: try parameter(query, "node"))
        case .replace:
            let old = try parameter(query, "old")
            command = ClusterCommand(.replace, name: old, member: try await introduce(try parameter(query, "new")))
        }
        let reply: ClusterCommandReply
        do {
            reply = try await node.control.command(command)
        } catch {
            switch error.code {
            case "bad_change", "duplicate_name": throw APIError(.conflict, error.code, error.detail)
            case "bad_request": throw APIError.badRequest(error.code, error.detail)
            // No majority on this side, or no confirmation in time: the ring did not change (or may not have).
            case "no_leader", "no_quorum", "indeterminate", "busy":
                throw APIError(.serviceUnavailable, error.code, error.detail)
            default: throw APIError.unavailable(error.detail)
            }
        }
        return try Self.planDocument(reply).response()
    }

    private func parameter(_ query: Parameters, _ name: String) throws(APIError) -> String {
        guard let value = query.get(name), !value.isEmpty else {
            throw APIError.badRequest("missing_parameter", "the query parameter '\(name)' is required")
        }
        return value
    }

    /// Asks the node at `address` who it is (a hello), so that a join names it as it names itself.
    private func introduce(_ address: String) async throws(APIError) -> MemberInfo {
        guard HostPort(address) != nil else {
            throw APIError.badRequest("bad_address", "'\(address)' is not HOST:PORT of a node's cluster port")
        }
        let cluster = node.cluster
        let hello = Hello(
            member: cluster.local, partitions: UInt32(cluster.partitions), replicas: UInt8(cluster.replicas))
        let reply: HelloReply
        do {
            reply = try await node.peers.call(hello, to: address, expecting: HelloReply.self, timeout: .seconds(5))
        } catch {
            throw APIError.unavailable("the node at \(address) did not answer: \(error)")
        }
        guard let member = reply.members.first else { throw APIError.unavailable("\(address) answered no member") }
        if let bytes = reply.ring, let ring = try? Ring.decode(bytes), ring.members.count > 1,
            ring.clusterID != cluster.ring?.clusterID
        {
            throw APIError(.conflict, "other_cluster", "\(member.name) at \(address) belongs to another cluster")
        }
        return member
    }

    /// What a commit would do: staged changes, each moving partition, counts and ownership per node, warnings.
    static func planDocument(_ reply: ClusterCommandReply) throws(APIError) -> JSONWriter {
        guard let ring = try? Ring.decode(reply.ring) else { throw APIError.unavailable("the claimant sent no ring") }
        // What a commit would produce (while a plan transfers, that plan with the staged force-removes and
        // replaces folded in); with nothing staged, the plan that transfers, if any.
        let planned = reply.planned.flatMap { try? Ring.decode($0) } ?? (ring.pending.isEmpty ? nil : ring)
        let before = ring.ownership
        let after = planned?.future.ownership ?? before
        let transfers = planned?.pending ?? []
        var json = JSONWriter()
        json.object { json in
            json.field("claimant", reply.claimant)
            json.key("epoch")
            json.value(Int(ring.epoch))
            json.field("transferring", !ring.pending.isEmpty)
            json.key("staged")
            json.array { json in for line in reply.staged { json.value(line) } }
            json.key("transfers")
            json.array { json in
                for transfer in transfers {
                    json.object { json in
                        json.field("partition", transfer.partition)
                        json.field("from", transfer.from)
                        json.field("to", transfer.to)
                    }
                }
            }
            let shown = (planned ?? ring).members.filter { $0.state != .left || (before[$0.name] ?? 0) > 0 }
            let names = shown.map(\.name).sorted()
            json.key("nodes")
            json.array { json in
                for name in names {
                    json.object { json in
                        json.field("name", name)
                        json.field("state", (planned ?? ring).member(named: name)?.state.rawValue ?? "")
                        json.field("partitions_before", before[name] ?? 0)
                        json.field("partitions_after", after[name] ?? 0)
                        json.field("in", transfers.filter { $0.to == name }.count)
                        json.field("out", transfers.filter { $0.from == name }.count)
                        json.key("percent_before")
                        json.value(Double(before[name] ?? 0) * 100 / Double(ring.partitionCount))
                        json.key("percent_after")
                        json.value(Double(after[name] ?? 0) * 100 / Double(ring.partitionCount))
                    }
                }
            }
            json.key("warnings")
            let result = planned?.future ?? ring
            json.array { json in
                for warning in result.warnings + (result.spacingNote.map { [$0] } ?? []) { json.value(warning) }
            }
        }
        return json
    }
}

/// `GET /v1/transfers`: the copies into this node.
enum TransferHandlers {
    static func response(_ node: Node) -> Response {
        var json = JSONWriter()
        json.object { json in
            json.field("node", node.config.name)
            json.key("transfers")
            progress(node.transfers, into: &json)
        }
        return json.response()
    }

    static func progress(_ service: TransferService, into json: inout JSONWriter) {
        let (planID, partitions) = service.progress
        let totals = service.totals.withLock { $0 }
        json.object { json in
            json.field("plan", String(planID, radix: 16))
            json.field("partitions", partitions.count)
            json.field("done", partitions.filter { $0.phase == .done }.count)
            json.field("received_keys", totals.keys)
            json.field("received_bytes", totals.bytes)
            json.key("active")
            json.array { json in
                for progress in partitions {
                    guard case .active(let source) = progress.phase else { continue }
                    json.object { json in
                        json.field("partition", progress.partition)
                        json.field("from", source)
                        json.field("keys", progress.keys)
                        json.field("bytes", progress.bytes)
                        json.field("remaining_keys", progress.remaining ?? -1)
                        json.field("failures", progress.failures)
                    }
                }
            }
            json.field("queued", partitions.filter { $0.phase == .queued }.count)
            // Waiting: the start delay after a commit, or a back-off after a failed pull.
            json.field("waiting", partitions.filter { if case .waiting = $0.phase { true } else { false } }.count)
            // Copies waiting for a down source (a source of a copy from several replicas is never skipped):
            // force-remove or replace the dead member, or abort the plan.
            json.key("waiting_for_source")
            json.array { json in
                for progress in partitions {
                    guard let source = progress.waitingFor else { continue }
                    json.object { json in
                        json.field("partition", progress.partition)
                        json.field("source", source)
                    }
                }
            }
        }
    }
}
