import Coordinator
import Logging
import NIOCore
import Storage
import Wire

/// Answers the inter-node messages of one node: membership, replica reads and merges, forwarded writes.
///
/// A payload that does not decode is answered with an error frame and logged; it never reaches storage.
struct InterNodeHandler: Sendable {
    let node: Node

    func handle(_ frame: Frame) async -> Frame {
        guard let type = MessageType(rawValue: frame.type) else {
            node.logger.warning("unknown inter-node message type", metadata: ["type": "\(frame.type)"])
            return .error(type: frame.type, code: "unknown_type", detail: "unknown message type \(frame.type)")
        }
        do {
            switch type {
            case .hello: return try hello(Hello.decode(frame.payload))
            case .replicaGet: return try await replicaGet(ReplicaGet.decode(frame.payload))
            case .replicaPut: return try await replicaPut(ReplicaPut.decode(frame.payload))
            case .coordinatePut: return try await coordinatePut(CoordinatePut.decode(frame.payload))
            case .listKeys: return try await listKeys(ListKeys.decode(frame.payload))
            case .dropCollection: return try await dropCollection(DropCollection.decode(frame.payload))
            }
        } catch let error as MessageDecodingError {
            node.logger.warning("malformed inter-node message", metadata: ["type": "\(type)", "error": "\(error)"])
            return .error(type: frame.type, code: "bad_message", detail: error.description)
        } catch let error as ErrorReply {
            return .error(type: frame.type, code: error.code, detail: error.detail)
        } catch {
            node.logger.error("inter-node request failed", metadata: ["type": "\(type)", "error": "\(error)"])
            return .error(type: frame.type, code: "failed", detail: "\(error)")
        }
    }

    private func hello(_ hello: Hello) throws -> Frame {
        let cluster = node.cluster
        guard Int(hello.partitions) == cluster.partitions, Int(hello.replicas) == cluster.replicas else {
            let detail =
                "\(hello.member.name) runs Q=\(hello.partitions) N=\(hello.replicas), "
                + "\(cluster.local.name) runs Q=\(cluster.partitions) N=\(cluster.replicas)"
            node.logger.error("refusing peer with different ring parameters", metadata: ["detail": "\(detail)"])
            throw ErrorReply(code: "wrong_ring", detail: detail)
        }
        guard hello.member.name != cluster.local.name || hello.member.clusterAddress == cluster.local.clusterAddress
        else {
            node.logger.error(
                "another node uses this node's name", metadata: ["address": "\(hello.member.clusterAddress)"])
            throw ErrorReply(code: "duplicate_name", detail: "the name \(hello.member.name) is taken")
        }
        if cluster.learn(direct: hello.member, reported: []) {
            let names = cluster.members.map(\.name).joined(separator: ",")
            node.logger.info("membership changed", metadata: ["members": "\(names)", "via": "\(hello.member.name)"])
        }
        let others = cluster.members.filter { $0.name != cluster.local.name }
        return .reply(HelloReply(members: [cluster.local] + others))
    }

    private func replicaGet(_ request: ReplicaGet) async throws -> Frame {
        let object = try await node.replica.get(collection: request.collection, key: request.key)
        return .reply(ReplicaGetReply(object: object.isEmpty ? nil : object.encoded()))
    }

    private func replicaPut(_ request: ReplicaPut) async throws -> Frame {
        let incoming: VersionedObject
        do {
            incoming = try VersionedObject.decode(request.object)
        } catch {
            throw ErrorReply(code: "bad_object", detail: "\(error)")
        }
        try await node.replica.merge(collection: request.collection, key: request.key, incoming)
        return .reply(ReplicaPutReply())
    }

    private func coordinatePut(_ request: CoordinatePut) async throws -> Frame {
        let write = WriteRequest(
            collection: request.collection, key: request.key,
            content: request.value.map { Content(value: $0, contentType: request.contentType) },
            context: request.context.map { String(decoding: $0, as: UTF8.self) },
            ifMatch: request.ifMatch.map { String(decoding: $0, as: UTF8.self) }, ifNoneMatch: request.ifNoneMatch,
            writeQuorum: request.writeQuorum.isEmpty ? nil : (header: "X-Dhrt-W", value: request.writeQuorum))
        do {
            let outcome = try await node.kv.coordinateLocally(write)
            return .reply(CoordinatePutReply(status: 204, acks: UInt8(outcome.acks), replicas: outcome.replicas))
        } catch {
            return .reply(
                CoordinatePutReply(
                    status: UInt16(error.status.code), acks: 0, replicas: [], errorCode: error.code,
                    detail: error.detail))
        }
    }

    private func listKeys(_ request: ListKeys) async throws -> Frame {
        let limit = min(Int(request.limit), 10_000)
        let keys = try await node.replica.keys(collection: request.collection, after: request.after, limit: limit)
        return .reply(ListKeysReply(keys: keys))
    }

    private func dropCollection(_ request: DropCollection) async throws -> Frame {
        try await node.replica.dropCollection(request.collection)
        return .reply(DropCollectionReply())
    }
}
