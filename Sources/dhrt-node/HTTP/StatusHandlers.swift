import Foundation
import Hummingbird

/// `/health`, `/metrics`, `/v1/status` and the original design's `GET /` stats.
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

    func metrics() -> Response {
        let bytes = node.metrics.exposition(storage: node.storageFigures(), members: node.cluster.members.count)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The node, its members, a ring summary, warnings and storage figures.
    func status() -> Response {
        let ring = node.cluster.ring
        let members = node.cluster.members
        var json = JSONWriter()
        json.object { json in
            json.field("node", node.config.name)
            json.field("cluster_address", node.cluster.local.clusterAddress)
            json.field("http_address", node.cluster.local.httpAddress)
            json.key("members")
            json.array { json in
                for member in members {
                    json.object { json in
                        json.field("name", member.name)
                        json.field("cluster_address", member.clusterAddress)
                        json.field("http_address", member.httpAddress)
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
                json.field("effective_n", min(ring.replicas, members.count))
                json.key("ownership")
                json.object { json in
                    for (name, count) in ring.ownership.sorted(by: { $0.key < $1.key }) { json.field(name, count) }
                }
            }
            json.key("warnings")
            json.array { json in
                for warning in warnings(memberCount: members.count) { json.value(warning) }
            }
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

    /// The ring's JSON view: epoch, partition count, N, members with their partitions, owners, warnings.
    func ring() throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(node.cluster.ring.view)
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

    private func warnings(memberCount: Int) -> [String] {
        var warnings: [String] = []
        if memberCount < node.config.replicas {
            warnings.append(
                "replication is below N: \(memberCount) member(s) known for N=\(node.config.replicas);"
                    + " each key is stored \(memberCount) time(s)")
        }
        return warnings
    }
}
