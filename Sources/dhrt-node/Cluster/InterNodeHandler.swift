import Coordinator
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Storage
import Wire

/// Answers the inter-node messages of one node: membership, replica reads and merges, forwarded writes.
///
/// Replica reads and merges are answered on the connection's event loop, without a task: a read from the
/// keydir and the record, a merge appended under the collection lock and answered when group commit reports
/// it durable; a membership hello is answered in place too. Forwarded writes, listing and drops are rare and run
/// in a task each.
/// A payload that does not decode is answered with an error frame and logged; it never reaches storage.
struct InterNodeHandler: Sendable {
    let node: Node

    /// The wire server's responder.
    func respond(_ frame: Frame, on loop: any EventLoop, reply: @escaping @Sendable (Frame) -> Void) {
        guard let type = MessageType(rawValue: frame.type) else {
            node.logger.warning("unknown inter-node message type", metadata: ["type": "\(frame.type)"])
            reply(.error(type: frame.type, code: "unknown_type", detail: "unknown message type \(frame.type)"))
            return
        }
        do {
            switch type {
            case .hello:
                reply(try hello(Hello.decode(frame.payload)))
            case .replicaGet:
                reply(try replicaGet(ReplicaGet.decode(frame.payload)))
            case .replicaPut:
                let durable = try replicaPut(ReplicaPut.decode(frame.payload))
                node.storage.whenDurable(durable, on: node.executors.executor(for: loop)) { result in
                    switch result {
                    case .success: reply(.reply(ReplicaPutReply()))
                    case .failure(let error): reply(errorFrame(error, answering: frame))
                    }
                }
            case .hintPut:
                let request = try HintPut.decode(frame.payload)
                node.hints.accept(request, on: node.executors.executor(for: loop)) { result in
                    switch result {
                    case .success: reply(.reply(HintPutReply()))
                    case .failure(let error): reply(errorFrame(error, answering: frame))
                    }
                }
            case .coordinatePut:
                let request = try CoordinatePut.decode(frame.payload)
                Task { reply(await coordinatePut(request)) }
            case .listKeys:
                let request = try ListKeys.decode(frame.payload)
                Task { reply(await inTask(frame) { try await listKeys(request) }) }
            case .dropCollection:
                let request = try DropCollection.decode(frame.payload)
                Task { reply(await inTask(frame) { try await dropCollection(request) }) }
            case .gossip:
                reply(.reply(try node.control.answer(Gossip.decode(frame.payload))))
            case .metadata:
                let call = try MetadataCall.decode(frame.payload)
                // Answering may store the log (an fsync): not on the event loop.
                Task { reply(await inTask(frame) { .reply(try node.control.answerMetadata(call)) }) }
            case .clusterCommand:
                let request = try ClusterCommand.decode(frame.payload)
                Task { reply(await inTask(frame) { .reply(try await node.control.command(request)) }) }
            case .transferPull:
                let request = try TransferPull.decode(frame.payload)
                // Reading a batch is thousands of preads: the blocking-I/O pool does it, not an event loop.
                Task {
                    reply(
                        await inTask(frame) {
                            try await NIOThreadPool.singleton.runIfActive { try transferBatch(request) }
                        })
                }
            }
        } catch {
            reply(errorFrame(error, answering: frame))
        }
    }

    private func inTask(_ frame: Frame, _ body: () async throws -> Frame) async -> Frame {
        do {
            return try await body()
        } catch {
            return errorFrame(error, answering: frame)
        }
    }

    /// The error frame answering `frame` for `error`.
    private func errorFrame(_ error: any Error, answering frame: Frame) -> Frame {
        let type = MessageType(rawValue: frame.type).map { "\($0)" } ?? "\(frame.type)"
        switch error {
        case let error as MessageDecodingError:
            node.logger.warning(
                "malformed inter-node message", metadata: ["type": "\(type)", "error": "\(error)"])
            return .error(type: frame.type, code: "bad_message", detail: error.description)
        case let error as ErrorReply:
            return .error(type: frame.type, code: error.code, detail: error.detail)
        default:
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
        guard let ring = cluster.ring else {
            node.control.heardHello(from: hello.member)
            let others = node.control.formationMembers.filter { $0.name != cluster.local.name }
            return .reply(HelloReply(members: [cluster.local] + others))
        }
        let others = cluster.members.filter { $0.name != cluster.local.name }.map {
            MemberInfo(name: $0.name, clusterAddress: $0.clusterAddress, httpAddress: $0.httpAddress)
        }
        return .reply(HelloReply(members: [cluster.local] + others, ring: ring.encoded()))
    }

    /// A batch of a partition's records as stored, for a receiver of range transfer.
    private func transferBatch(_ request: TransferPull) throws -> Frame {
        let batch = try node.storage.partitionBatch(
            partition: Int(request.partition), afterCollection: request.afterCollection, afterKey: request.afterKey,
            maxBytes: Int(min(request.maxBytes, 8 << 20)))
        let records = batch.records.map {
            TransferRecord(
                collection: $0.collection, key: $0.key, isTombstone: $0.record.isTombstone, meta: $0.record.meta,
                value: $0.record.value)
        }
        return .reply(TransferBatch(records: records, finished: batch.finished, remaining: UInt32(batch.remaining)))
    }

    /// The stored record's object bytes as they are: a live record's value and a tombstone's meta are both
    /// the object's full encoding (`StoredForm`), so nothing is decoded or encoded again.
    private func replicaGet(_ request: ReplicaGet) throws -> Frame {
        try fence(collection: request.collection, key: request.key, epoch: request.epoch, writing: false)
        guard let record = try node.storage.getNow(collection: request.collection, key: request.key) else {
            return .reply(ReplicaGetReply(object: nil))
        }
        return .reply(ReplicaGetReply(object: record.isTombstone ? record.meta : record.value))
    }

    /// Merges the incoming object; the caller answers once the returned point is durable.
    private func replicaPut(_ request: ReplicaPut) throws -> DurablePoint {
        try fence(collection: request.collection, key: request.key, epoch: request.epoch, writing: true)
        let incoming: VersionedObject
        do {
            incoming = try VersionedObject.decode(request.object)
        } catch {
            throw ErrorReply(code: "bad_object", detail: "\(error)")
        }
        return try node.replica.applyMerge(
            collection: request.collection, key: request.key, incoming, encoded: request.object)
    }

    /// Refuses a request from a coordinator on an older ring when this node's ring says the request would be
    /// wrong here: the node no longer holds the key (it would drop a write, or answer from a copy that stopped
    /// receiving writes), or, for a write, the key's partition is moving and the coordinator cannot know it must
    /// also write to the incoming member. The coordinator then takes the newer ring and tries again.
    private func fence(collection: String, key: [UInt8], epoch: UInt64?, writing: Bool) throws(ErrorReply) {
        guard let epoch else { return }
        let snapshot = node.cluster.snapshot
        // Most requests carry this ring's epoch: they skip hashing the key for the lists.
        guard snapshot.isFormed, snapshot.ring.epoch > epoch else { return }
        let refused = EpochFence.refuses(
            requestEpoch: epoch, localEpoch: snapshot.ring.epoch, me: node.config.name,
            replicas: snapshot.replicas(collection: collection, key: key),
            incoming: snapshot.incoming(collection: collection, key: key), writing: writing)
        guard refused else { return }
        node.metrics.recordFencedRequest()
        throw ErrorReply(code: "ring_moved", detail: "\(snapshot.ring.epoch)")
    }

    private func coordinatePut(_ request: CoordinatePut) async -> Frame {
        let primaryQuorum = request.primaryQuorum ?? ""
        let write = WriteRequest(
            collection: request.collection, key: request.key,
            content: request.value.map { Content(value: $0, contentType: request.contentType) },
            context: request.context.map { String(decoding: $0, as: UTF8.self) },
            ifMatch: request.ifMatch.map { String(decoding: $0, as: UTF8.self) }, ifNoneMatch: request.ifNoneMatch,
            writeQuorum: request.writeQuorum.isEmpty ? nil : (header: "X-Dhrt-W", value: request.writeQuorum),
            primaryQuorum: primaryQuorum.isEmpty ? nil : primaryQuorum)
        do throws(APIError) {
            let retried: VersionedObject?
            do {
                retried = try request.retried.map(VersionedObject.decode)
            } catch {
                throw APIError.badRequest("bad_retried", "the retried object does not decode: \(error)")
            }
            let outcome = try await node.kv.coordinateLocally(write, retried: retried)
            // A sender of the older layout cannot decode the trailing `hinted`.
            let hinted =
                request.primaryQuorum == nil
                ? []
                : outcome.hinted.map {
                    CoordinatePutReply.Hinted(fallback: $0.fallback, owner: $0.owner)
                }
            return .reply(
                CoordinatePutReply(
                    status: 204, acks: UInt8(outcome.acks), replicas: outcome.replicas, context: outcome.context,
                    hinted: hinted))
        } catch {
            // A failed quorum says how far it got, as the direct answer's headers do.
            let acks = error.headers[.dhrtAcks].flatMap { UInt8($0) } ?? 0
            let replicas = error.headers[.dhrtReplicas].map { $0.split(separator: ",").map(String.init) } ?? []
            return .reply(
                CoordinatePutReply(
                    status: UInt16(error.status.code), acks: acks, replicas: replicas, errorCode: error.code,
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
