import Foundation
import Hummingbird
import Ring

/// `/health`, `/v1/ready`, `/metrics`, `/v1/status` and the original design's `GET /` stats.
struct StatusHandlers {
    let node: Node

    func health() -> Response {
        var json = JSONWriter()
        json.object { json in
            json.field("status", "ok")
            json.field("node", node.config.name)
        }
        return json.response()
    }

    /// 200 once data requests can succeed: this node is in a formed cluster and its storage is open. Else 503
    /// `not_ready` naming why, so that a script or an orchestrator waits on this rather than on `/health`.
    func ready() -> Response {
        let snapshot = node.cluster.snapshot
        let why: String? =
            if !node.storage.isOpen {
                "\(node.config.name) is shutting down: its storage is closed"
            } else if !snapshot.isFormed {
                "\(node.config.name) is not in a cluster yet: it forms one with its seeds or waits to be joined"
            } else {
                nil
            }
        if let why { return APIError(.serviceUnavailable, "not_ready", why).response }
        var json = JSONWriter()
        json.object { json in
            json.field("status", "ready")
            json.field("node", node.config.name)
            json.key("epoch")
            json.value(Int(snapshot.ring.epoch))
        }
        return json.response()
    }

    /// `GET /v1/openapi.yaml`: the bytes of Docs/openapi.yaml, embedded at build time (`OpenAPIDocument`).
    static func openAPIDocument() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = OpenAPIDocument.contentType
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
    }

    func metrics() -> Response {
        let bytes = node.metrics.exposition(
            storage: node.storageFigures(), members: node.cluster.members.count, hints: node.hintFigures())
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The node, its members (ring state, liveness from here, ownership), a ring summary, the transfers into
    /// this node, warnings and storage figures.
    func status() -> Response {
        let snapshot = node.cluster.snapshot
        let ring = snapshot.ring
        let members = node.cluster.members
        let owned = ring.ownership
        var json = JSONWriter()
        json.object { json in
            json.field("node", node.config.name)
            json.field("cluster_address", node.cluster.local.clusterAddress)
            json.field("http_address", node.cluster.local.httpAddress)
            json.field("formed", snapshot.isFormed)
            json.field("claimant", node.control.claimantName ?? "")
            json.key("members")
            json.array { json in
                for member in members {
                    json.object { json in
                        json.field("name", member.name)
                        json.field("state", member.state.rawValue)
                        json.field(
                            "liveness",
                            member.name == node.config.name ? "up" : node.cluster.liveness(of: member.name).rawValue)
                        json.field("cluster_address", member.clusterAddress)
                        json.field("http_address", member.httpAddress)
                        json.field("partitions", owned[member.name] ?? 0)
                        json.key("ring_percent")
                        json.value(Double(owned[member.name] ?? 0) * 100 / Double(ring.partitionCount))
                    }
                }
            }
            json.key("ring")
            json.object { json in
                json.key("epoch")
                json.value(Int(ring.epoch))
                json.field("partitions", ring.partitionCount)
                json.field("partitions_count", ring.partitionCount)
                json.field("n", ring.replicas)
                json.field("effective_n", min(ring.replicas, max(1, members.count)))
                json.field("pending", ring.pending.count)
                json.key("ownership")
                json.object { json in
                    for (name, count) in owned.sorted(by: { $0.key < $1.key }) { json.field(name, count) }
                }
            }
            json.key("transfers")
            TransferHandlers.progress(node.transfers, into: &json)
            json.key("hints")
            node.writeHints(into: &json, listing: false)
            json.key("warnings")
            json.array { json in
                for warning in warnings(ring, formed: snapshot.isFormed) { json.value(warning) }
            }
            json.key("notes")
            json.array { json in if let note = ring.spacingNote { json.value(note) } }
            json.key("storage")
            json.object { json in
                for (name, value) in node.storageFigures() {
                    json.key(name)
                    json.value(value)
                }
            }
        }
        return json.response()
    }

    /// `GET /v1/hints`: per target, the hints held (collection, key, bytes, age), oldest first.
    func hints() -> Response {
        var json = JSONWriter()
        node.writeHints(into: &json, listing: true)
        return json.response()
    }

    /// The ring's JSON view: epoch, partition count, N, members with their partitions, owners, warnings.
    func ring() throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(node.cluster.snapshot.ring.view)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `GET /`: the original design's stats, kept flat.
    func seedStats() -> Response {
        var json = JSONWriter()
        json.object { json in
            json.field("Node", node.config.name)
            json.field("Members", node.cluster.members.count)
            for (name, value) in node.storageFigures() {
                json.key(name)
                json.value(value)
            }
        }
        return json.response()
    }

    private func warnings(_ ring: Ring, formed: Bool) -> [String] {
        guard formed else {
            return ["this node is not in a cluster yet: it forms one with its seeds or waits for a join"]
        }
        var warnings = ring.warnings
        if node.control.abstainsFromVoting {
            warnings.append(
                "this node lost its metadata log and does not vote in it: remove it (leave or force-remove) and "
                    + "join it back with an empty data directory to make it vote again")
        }
        return warnings
    }
}
