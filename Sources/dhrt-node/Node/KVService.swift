import Coordinator
import Foundation
import HTTPTypes
import NIOCore
import Ring
import Storage
import Wire

/// Coordinates client reads and writes: preference list, quorum fan-out, versions, read repair.
struct KVService: Sendable {
    let node: Node

    var timeout: Duration { node.config.requestTimeout }

    // MARK: - Reads

    func read(_ request: ReadRequest) async throws(APIError) -> ReadOutcome {
        try await Self.awaiting(startRead(request))
    }

    /// Starts a read; the future fails with an `APIError` (503 with the replicas' figures) or succeeds.
    func startRead(_ request: ReadRequest, retryOnMove: Bool = true) throws(APIError) -> EventLoopFuture<ReadOutcome> {
        try validate(key: request.key)
        let snapshot = try formedSnapshot()
        let names = snapshot.replicas(collection: request.collection, key: request.key)
        let need = try quorum(request.readQuorum, overridden: request.overriddenConsistency, available: names.count)
        let run = ReadRun(
            node: node, snapshot: snapshot, collection: request.collection, key: request.key, replicas: names,
            r: need)
        return run.start().flatMap { outcome in
            if case .failure = outcome, retryOnMove, let mover = run.ringMovedBy {
                return retryRead(request, after: mover)
            }
            return node.executors.currentOrAnyLoop.makeCompletedFuture { () throws(APIError) in
                try Self.readOutcome(outcome, names)
            }
        }
    }

    static func readOutcome(_ outcome: QuorumRead.Outcome, _ names: [String]) throws(APIError) -> ReadOutcome {
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
        let need = try quorum(
            request.writeQuorum, overridden: request.overriddenConsistency, available: replicas.count)
        guard need <= replicas.count else {
            throw .unavailable(
                "write needs \(need) replicas (X-Dhrt-W) but the cluster holds only \(replicas.count) of the key")
        }
        // Validated here too, so that a forwarded write refuses a bad header as a direct one does.
        _ = try primaries(request, available: replicas.count)
        if replicas.contains(node.config.name) {
            return try startCoordinating(request, snapshot: snapshot, replicas: replicas, w: need)
        }
        // Forwarding is the rare path (a client talking to a node outside the key's preference list).
        let promise = node.executors.currentOrAnyLoop.makePromise(of: WriteOutcome.self)
        promise.completeWithTask { try await forward(superseding(request), to: replicas) }
        return promise.futureResult
    }

    /// Applies the write to the local replica with this node's actor id, then replicates it (`QuorumWrite`).
    func coordinateLocally(_ request: WriteRequest, retried: VersionedObject? = nil) async throws(APIError)
        -> WriteOutcome
    {
        try validate(key: request.key)
        let snapshot = try formedSnapshot()
        var replicas = snapshot.replicas(collection: request.collection, key: request.key)
        // A forwarded write may reach a node whose ring view does not list it yet; it still coordinates.
        if !replicas.contains(node.config.name) { replicas = [node.config.name] + replicas.dropLast() }
        let need = try quorum(
            request.writeQuorum, overridden: request.overriddenConsistency, available: replicas.count)
        return try await Self.awaiting(
            startCoordinating(request, snapshot: snapshot, replicas: replicas, w: need, retried: retried))
    }

    /// Runs `QuorumWrite` for a key this node holds a replica of; `replicas` and `w` are already resolved.
    ///
    /// While a plan is pending, members that gain the key receive the write too, and W must hold both in the
    /// current preference list and in the list after the plan (`QuorumWrite`'s `incoming`/`leaving`): the write
    /// keeps W copies whether or not the owners switch, as Cassandra's pending endpoints ensure, and a dead
    /// receiver fails only the writes whose next list cannot reach W without it (force-remove it to go on).
    ///
    /// `retried` is the object a first attempt stored before a replica answered `ring_moved`: the run on the newer
    /// ring merges it rather than applying the client's write a second time (which would add a second version).
    func startCoordinating(
        _ request: WriteRequest, snapshot: RingSnapshot, replicas current: [String], w wanted: Int,
        retried: VersionedObject? = nil, retryOnMove: Bool = true
    ) throws(APIError) -> EventLoopFuture<WriteOutcome> {
        let incoming = snapshot.incoming(collection: request.collection, key: request.key)
        let receivers = incoming.filter { !current.contains($0) }
        let replicas = current + receivers
        let preconditions = try preconditions(request)
        let context = try causalContext(request, preconditions: preconditions)
        let write = Self.clientWrite(request.content, context: context)
        // A delete without a context supersedes everything the coordinator has seen: a plain DELETE removes
        // the key rather than adding a tombstone sibling next to the values.
        let blindDelete = request.content == nil && context == nil
        let overwrite = request.supersedesStored && context == nil ? request.content : nil
        let superseding = blindDelete || overwrite != nil
        let actor = node.actor
        let change: WriteRun.Change
        if let first = retried {
            change = { @Sendable stored in
                var merged = stored
                merged.merge(first)
                return merged
            }
        } else {
            change = { @Sendable stored in
                try ReplicaStore.coordinate(
                    stored: stored, write: superseding ? Self.clientWrite(overwrite, context: stored.context) : write,
                    preconditions: preconditions, actor: actor,
                    timestamp: UInt64(Date().timeIntervalSince1970 * 1_000_000_000))
            }
        }
        var handoff = try sloppy(request, snapshot: snapshot, replicas: replicas)
        if !receivers.isEmpty {
            handoff.incoming = Set(receivers)
            handoff.leaving = Set(snapshot.leaving(collection: request.collection, key: request.key))
        }
        let run = WriteRun(
            node: node, snapshot: snapshot, collection: request.collection, key: request.key, replicas: replicas,
            w: wanted, sloppy: handoff, change: change)
        let (node, replicaNames) = (self.node, replicas)
        return run.start().flatMap { outcome in
            if case .failure = outcome, retryOnMove, let mover = run.ringMovedBy {
                return retryWrite(request, merging: run.appliedObject, after: mover)
            }
            return node.executors.currentOrAnyLoop.makeCompletedFuture { () throws(APIError) in
                switch outcome {
                case .success(let acks, let object):
                    return WriteOutcome(
                        acks: acks.count, replicas: replicaNames, context: object.context.clientContext,
                        hinted: run.hinted)
                case .failure(let failure):
                    var error = APIError.unavailable(failure.description)
                    // This node's own store failed (a disk error at fsync): say so rather than blame the replicas.
                    if case .notEnoughReplicas(_, _, _, let failed) = failure, failed[node.config.name] != nil {
                        error.code = "storage"
                    }
                    error.headers = KVHandlers.headers(acks: Self.acks(of: failure), replicas: replicaNames)
                    throw error
                }
            }
        }.flatMapErrorThrowing { error in
            switch error {
            case let error as APIError:
                throw error
            case let error as PreconditionError:
                throw error.isPreconditionFailure
                    ? APIError.preconditionFailed(error.description)
                    : APIError.badRequest("bad_precondition", error.description)
            case StorageError.valueTooLarge(let size, let limit):
                throw APIError(
                    .contentTooLarge, "object_too_large",
                    "the key's stored object (every sibling and the causal context) would be \(size) bytes; "
                        + "an object is limited to \(limit) bytes: read the key and write with its "
                        + "X-Dhrt-Context to replace the siblings")
            case let error as StorageError:
                node.logger.error("storage failed", metadata: ["error": "\(error)"])
                throw APIError.storage(error)
            default:
                node.logger.error("storage failed", metadata: ["error": "\(error)"])
                throw APIError(.internalServerError, "storage", "\(error)")
            }
        }
    }

    /// A forwarded overwrite carries the context of a quorum read, so that its coordinator replaces what was read
    /// (the inter-node message has no overwrite flag).
    private func superseding(_ request: WriteRequest) async throws(APIError) -> WriteRequest {
        guard request.supersedesStored, request.content != nil, request.context == nil,
            request.ifMatch == nil || request.ifMatch == "*"
        else { return request }
        var request = request
        let read = try await self.read(ReadRequest(collection: request.collection, key: request.key))
        if !read.context.isEmpty { request.context = read.context }
        return request
    }

    /// Sloppy quorum for a write: the key's fallbacks (not members that receive it anyway during a transfer),
    /// the members the detector judges down, and `X-Dhrt-PW`.
    private func sloppy(_ request: WriteRequest, snapshot: RingSnapshot, replicas: [String])
        throws(APIError) -> WriteRun.Sloppy
    {
        var sloppy = WriteRun.Sloppy()
        sloppy.pw = try primaries(
            request, available: snapshot.replicas(collection: request.collection, key: request.key).count)
        let fallbacks = snapshot.fallbacks(collection: request.collection, key: request.key)
        guard !fallbacks.isEmpty else { return sloppy }
        sloppy.down = node.cluster.down
        sloppy.fallbacks = fallbacks.filter { !replicas.contains($0) }
        return sloppy
    }

    /// The primaries `X-Dhrt-PW` asks for (0 without the header), or a 400.
    private func primaries(_ request: WriteRequest, available: Int) throws(APIError) -> Int {
        guard let text = request.primaryQuorum else { return 0 }
        do {
            let level = try ConsistencyLevel.parse(text, header: "X-Dhrt-PW", n: node.config.replicas)
            return level.required(n: node.config.replicas, available: available)
        } catch {
            throw .badRequest("bad_consistency", error.description)
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
        case .notEnoughReplicas(_, _, let acked, _), .timedOut(_, let acked), .notEnoughPrimaries(_, let acked):
            acked.count
        case .localStoreFailed, .coordinatorNotAReplica: 0
        }
    }

    /// The causal context the write supersedes: `X-Dhrt-Context`, else an `If-Match` context (a compare-and-swap
    /// replaces exactly what it matched), else nil (a blind write). Two different contexts are refused.
    private func causalContext(_ request: WriteRequest, preconditions: WritePreconditions)
        throws(APIError) -> VersionVector?
    {
        var matched: VersionVector?
        if case .context(let context)? = preconditions.ifMatch { matched = context }
        guard let text = request.context else { return matched }
        let context: VersionVector
        do {
            context = try VersionVector(clientContext: text)
        } catch {
            throw .badRequest("bad_context", "X-Dhrt-Context is not a valid context: \(error)")
        }
        if let matched, matched != context {
            throw .badRequest(
                "bad_precondition", "If-Match and X-Dhrt-Context name different versions; send one of them")
        }
        return context
    }

    private static func clientWrite(_ content: Content?, context: VersionVector?) -> ClientWrite {
        guard let content else { return .delete(context: context ?? VersionVector()) }
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
        _ message: Message, to name: String, expecting: Reply.Type, timeout: Duration? = nil
    ) async throws -> Reply {
        guard let address = node.cluster.clusterAddress(of: name) else { throw PeerError.transport(UnknownMember()) }
        do {
            return try await node.peers.call(
                message, to: address, expecting: Reply.self, timeout: timeout ?? self.timeout)
        } catch {
            node.metrics.recordReplicaFailure()
            throw error
        }
    }

    /// The replies needed for `text` (nil: the default, quorum). `overridden`, an `X-Dhrt-Consistency` that
    /// `text` overrides, must be valid too: a bad header is a 400 whether or not it is in force.
    private func quorum(_ text: (header: String, value: String)?, overridden: String?, available: Int)
        throws(APIError) -> Int
    {
        let n = node.config.replicas
        var level = ConsistencyLevel.quorum
        do {
            if let overridden {
                _ = try ConsistencyLevel.parse(overridden, header: ConsistencyHeaders.consistency, n: n)
            }
            if let text { level = try ConsistencyLevel.parse(text.value, header: text.header, n: n) }
        } catch {
            throw .badRequest("bad_consistency", error.description)
        }
        return level.required(n: n, available: available)
    }

    /// The W a write needs among `available` replicas.
    func writeQuorum(_ request: WriteRequest, available: Int) throws(APIError) -> Int {
        try quorum(request.writeQuorum, overridden: request.overriddenConsistency, available: available)
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
