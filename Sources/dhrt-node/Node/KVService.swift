import Coordinator
import Foundation
import HTTPTypes
import NIOCore
import Ring
import Wire

/// Coordinates client reads and writes: preference list, quorum fan-out, versions, read repair.
struct KVService: Sendable {
    let node: Node

    private var timeout: Duration { node.config.requestTimeout }

    // MARK: - Reads

    func read(_ request: ReadRequest) async throws(APIError) -> ReadOutcome {
        try await Self.awaiting(startRead(request))
    }

    /// Starts a read; the future fails with an `APIError` (503 with the replicas' figures) or succeeds.
    func startRead(_ request: ReadRequest) throws(APIError) -> EventLoopFuture<ReadOutcome> {
        try validate(key: request.key)
        let snapshot = try formedSnapshot()
        let names = snapshot.replicas(collection: request.collection, key: request.key)
        let need = try quorum(request.readQuorum, available: names.count)
        let run = ReadRun(
            node: node, snapshot: snapshot, collection: request.collection, key: request.key, replicas: names,
            r: need)
        return run.start().flatMapThrowing { outcome throws(APIError) in try Self.readOutcome(outcome, names) }
    }

    private static func readOutcome(_ outcome: QuorumRead.Outcome, _ names: [String]) throws(APIError) -> ReadOutcome {
        switch outcome {
        case .failure(let failure):
            var error = APIError.unavailable(failure.description)
            let answered: Int
            switch failure {
            case .notEnoughReplicas(_, _, let names, _), .timedOut(_, let names): answered = names.count
            }
            error.headers = KVHandlers.headers(acks: answered, replicas: names)
            throw error
        case .success(let result):
            let merged = result.object
            let found: ReadOutcome.Found
            if merged.isNotFound {
                found = .notFound
            } else if merged.hasConflict {
                found = .siblings(merged.liveSiblings.map { Content(value: $0.value, contentType: $0.contentType) })
            } else {
                let sibling = merged.liveSiblings[0]
                found = .value(Content(value: sibling.value, contentType: sibling.contentType))
            }
            return ReadOutcome(
                found: found, context: merged.isEmpty ? "" : merged.context.clientContext,
                acks: result.answered.count, replicas: names, repaired: result.stale.count)
        }
    }

    // MARK: - Writes

    /// A client write: coordinated here if this node holds a replica, else forwarded to one that does.
    func write(_ request: WriteRequest) async throws(APIError) -> WriteOutcome {
        try await Self.awaiting(startWrite(request))
    }

    /// Starts a client write; the future fails with an `APIError` or succeeds.
    func startWrite(_ request: WriteRequest) throws(APIError) -> EventLoopFuture<WriteOutcome> {
        try validate(key: request.key)
        let snapshot = try formedSnapshot()
        let replicas = snapshot.replicas(collection: request.collection, key: request.key)
        let need = try quorum(request.writeQuorum, available: replicas.count)
        guard need <= replicas.count else {
            throw .unavailable(
                "write needs \(need) replicas (X-Dhrt-W) but the cluster holds only \(replicas.count) of the key")
        }
        if replicas.contains(node.config.name) {
            return try startCoordinating(request, snapshot: snapshot, replicas: replicas, w: need)
        }
        // Forwarding is the rare path (a client talking to a node outside the key's preference list).
        let promise = node.executors.currentOrAnyLoop.makePromise(of: WriteOutcome.self)
        promise.completeWithTask { try await forward(request, to: replicas) }
        return promise.futureResult
    }

    /// Applies the write to the local replica with this node's actor id, then replicates it (`QuorumWrite`).
    func coordinateLocally(_ request: WriteRequest) async throws(APIError) -> WriteOutcome {
        try validate(key: request.key)
        let snapshot = try formedSnapshot()
        var replicas = snapshot.replicas(collection: request.collection, key: request.key)
        // A forwarded write may reach a node whose ring view does not list it yet; it still coordinates.
        if !replicas.contains(node.config.name) { replicas = [node.config.name] + replicas.dropLast() }
        let need = try quorum(request.writeQuorum, available: replicas.count)
        return try await Self.awaiting(startCoordinating(request, snapshot: snapshot, replicas: replicas, w: need))
    }

    /// Runs `QuorumWrite` for a key this node holds a replica of; `replicas` and `w` are already resolved.
    ///
    /// While a plan is pending, members that gain the key receive the write too and W grows by their number (as
    /// Cassandra counts pending endpoints): the write then keeps W copies whichever replicas the plan drops.
    private func startCoordinating(
        _ request: WriteRequest, snapshot: RingSnapshot, replicas current: [String], w wanted: Int
    ) throws(APIError) -> EventLoopFuture<WriteOutcome> {
        let incoming = snapshot.incoming(collection: request.collection, key: request.key)
        let replicas = current + incoming.filter { !current.contains($0) }
        let need = wanted + replicas.count - current.count
        let write = try clientWrite(request)
        let preconditions = try preconditions(request)
        // A delete without a context supersedes everything the coordinator has seen: a plain DELETE removes
        // the key rather than adding a tombstone sibling next to the values.
        let blindDelete = request.content == nil && request.context == nil
        let actor = node.config.name
        let run = WriteRun(
            node: node, snapshot: snapshot, collection: request.collection, key: request.key, replicas: replicas,
            w: need,
            change: { stored in
                try ReplicaStore.coordinate(
                    stored: stored, write: blindDelete ? .delete(context: stored.context) : write,
                    preconditions: preconditions, actor: actor,
                    timestamp: UInt64(Date().timeIntervalSince1970 * 1_000_000_000))
            })
        let (node, replicaNames) = (self.node, replicas)
        return run.start().flatMapThrowing { outcome throws(APIError) in
            switch outcome {
            case .success(let acks, let object):
                return WriteOutcome(acks: acks.count, replicas: replicaNames, context: object.context.clientContext)
            case .failure(let failure):
                var error = APIError.unavailable(failure.description)
                error.headers = KVHandlers.headers(acks: Self.acks(of: failure), replicas: replicaNames)
                throw error
            }
        }.flatMapErrorThrowing { error in
            switch error {
            case let error as APIError:
                throw error
            case let error as PreconditionError:
                throw error.isPreconditionFailure
                    ? APIError.preconditionFailed(error.description)
                    : APIError.badRequest("bad_precondition", error.description)
            default:
                node.logger.error("storage failed", metadata: ["error": "\(error)"])
                throw APIError(.internalServerError, "storage", "\(error)")
            }
        }
    }

    /// Waits for a future of the request path, keeping its `APIError`.
    private static func awaiting<T: Sendable>(_ future: EventLoopFuture<T>) async throws(APIError) -> T {
        do {
            return try await future.get()
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "internal", "\(error)")
        }
    }

    private static func acks(of failure: WriteFailure) -> Int {
        switch failure {
        case .notEnoughReplicas(_, _, let acked, _), .timedOut(_, let acked): acked.count
        case .localStoreFailed, .coordinatorNotAReplica: 0
        }
    }

    private func clientWrite(_ request: WriteRequest) throws(APIError) -> ClientWrite {
        var context: VersionVector?
        if let text = request.context {
            do {
                context = try VersionVector(clientContext: text)
            } catch {
                throw .badRequest("bad_context", "X-Dhrt-Context is not a valid context: \(error)")
            }
        }
        guard let content = request.content else { return .delete(context: context ?? VersionVector()) }
        return .put(value: content.value, contentType: content.contentType, context: context ?? VersionVector())
    }

    private func preconditions(_ request: WriteRequest) throws(APIError) -> WritePreconditions {
        do {
            return try WritePreconditions.parse(
                ifMatch: request.ifMatch, ifNoneMatch: request.ifNoneMatch ? "*" : nil)
        } catch {
            throw .badRequest("bad_precondition", error.description)
        }
    }

    private func forward(_ request: WriteRequest, to replicas: [String]) async throws(APIError) -> WriteOutcome {
        let message = CoordinatePut(
            collection: request.collection, key: request.key, value: request.content?.value,
            contentType: request.content?.contentType ?? "", context: request.context.map { Array($0.utf8) },
            ifMatch: request.ifMatch.map { Array($0.utf8) }, ifNoneMatch: request.ifNoneMatch,
            writeQuorum: request.writeQuorum?.value ?? "")
        var failures: [String] = []
        // The first reachable replica coordinates; a refused connection moves on at once.
        for name in replicas {
            do {
                let reply = try await call(message, to: name, expecting: CoordinatePutReply.self)
                guard reply.status == 204 else {
                    var error = APIError(
                        HTTPResponse.Status(code: Int(reply.status)),
                        reply.errorCode.isEmpty ? "failed" : reply.errorCode, reply.detail)
                    error.headers = KVHandlers.headers(acks: Int(reply.acks), replicas: reply.replicas)
                    throw error
                }
                return WriteOutcome(acks: Int(reply.acks), replicas: reply.replicas, context: reply.context)
            } catch let error as APIError {
                throw error
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        throw APIError.unavailable(
            "no replica of the key could coordinate the write (\(failures.joined(separator: "; ")))")
    }

    // MARK: - Helpers

    /// The ring snapshot, or a 503 while this node is not part of a formed cluster.
    private func formedSnapshot() throws(APIError) -> RingSnapshot {
        let snapshot = node.cluster.snapshot
        guard snapshot.isFormed else {
            throw .unavailable(
                "\(node.config.name) is not in a cluster yet: it forms one with its seeds or waits to be joined")
        }
        return snapshot
    }

    /// Sends a message to a member by name, with the request timeout.
    func call<Message: WireMessage, Reply: WireMessage>(
        _ message: Message, to name: String, expecting: Reply.Type
    ) async throws -> Reply {
        guard let address = node.cluster.clusterAddress(of: name) else { throw PeerError.transport(UnknownMember()) }
        do {
            return try await node.peers.call(message, to: address, expecting: Reply.self, timeout: timeout)
        } catch {
            node.metrics.recordReplicaFailure()
            throw error
        }
    }

    private func quorum(_ text: (header: String, value: String)?, available: Int)
        throws(APIError) -> Int
    {
        let level: ConsistencyLevel
        if let text {
            do {
                level = try ConsistencyLevel.parse(text.value, header: text.header, n: node.config.replicas)
            } catch {
                throw .badRequest("bad_consistency", error.description)
            }
        } else {
            level = .quorum
        }
        return level.required(n: node.config.replicas, available: available)
    }

    func validate(key: [UInt8]) throws(APIError) {
        guard !key.isEmpty else { throw .badRequest("empty_key", "a key must have at least one byte") }
        guard key.count <= node.limits.maxKeySize else {
            throw .badRequest(
                "key_too_large", "the key is \(key.count) bytes; the limit is \(node.limits.maxKeySize) bytes")
        }
    }

    struct UnknownMember: Error {}
}
