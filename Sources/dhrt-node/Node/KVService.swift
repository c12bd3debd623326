import Coordinator
import Foundation
import HTTPTypes
import Ring
import Wire

/// Coordinates client reads and writes: preference list, quorum fan-out, versions, read repair.
struct KVService: Sendable {
    let node: Node

    private var timeout: Duration { node.config.requestTimeout }

    // MARK: - Reads

    func read(_ request: ReadRequest) async throws(APIError) -> ReadOutcome {
        try validate(key: request.key)
        let replicas = preferenceList(collection: request.collection, key: request.key)
        let names = replicas.map(\.name)
        let need = try quorum(request.readQuorum, available: names.count)
        guard need <= names.count else { throw tooFewReplicas(need, names.count, header: "R") }
        let (collection, key) = (request.collection, request.key)
        let results = await FanOut.run(
            names, need: need, background: node.background,
            call: { name in try await fetch(from: name, collection: collection, key: key) },
            whenAllDone: { all in await repair(all, collection: collection, key: key) })
        let objects = results.compactMap { entry in try? entry.result.get() }
        guard objects.count >= need else {
            throw unavailable(results, needed: need, of: names.count, verb: "answered", header: "R")
        }
        let merged = objects.reduce(VersionedObject()) { VersionedObject.sync($0, $1) }
        let stale = objects.filter { !$0.descends(merged) }.count
        let context = merged.isEmpty ? "" : merged.context.clientContext
        let found: ReadOutcome.Found
        if merged.isNotFound {
            found = .notFound
        } else if merged.hasConflict {
            found = .siblings(merged.liveSiblings.map { Content(value: $0.value, contentType: $0.contentType) })
        } else {
            let sibling = merged.liveSiblings[0]
            found = .value(Content(value: sibling.value, contentType: sibling.contentType))
        }
        return ReadOutcome(found: found, context: context, acks: objects.count, replicas: names, repaired: stale)
    }

    private func fetch(from name: String, collection: String, key: [UInt8]) async throws -> VersionedObject {
        if name == node.config.name { return try await node.replica.get(collection: collection, key: key) }
        let reply = try await call(ReplicaGet(collection: collection, key: key), to: name, expecting: ReplicaGetReply.self)
        return try reply.object.map { try VersionedObject.decode($0) } ?? VersionedObject()
    }

    /// Sends the merge of every answer to each replica whose answer lacked something.
    private func repair(_ results: FanOut.Results<VersionedObject>, collection: String, key: [UInt8]) async {
        let answers = results.compactMap { entry in (try? entry.result.get()).map { (entry.name, $0) } }
        let merged = answers.reduce(VersionedObject()) { VersionedObject.sync($0, $1.1) }
        guard !merged.isEmpty else { return }
        let stale = answers.filter { !$0.1.descends(merged) }.map(\.0)
        guard !stale.isEmpty else { return }
        node.metrics.recordReadRepairs(stale.count)
        for name in stale {
            do {
                try await store(merged, on: name, collection: collection, key: key)
            } catch {
                node.logger.debug("read repair failed", metadata: ["replica": "\(name)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Writes

    /// A client write: coordinated here if this node holds a replica, else forwarded to one that does.
    func write(_ request: WriteRequest) async throws(APIError) -> WriteOutcome {
        try validate(key: request.key)
        let replicas = preferenceList(collection: request.collection, key: request.key).map(\.name)
        let need = try quorum(request.writeQuorum, available: replicas.count)
        guard need <= replicas.count else { throw tooFewReplicas(need, replicas.count, header: "W") }
        if replicas.contains(node.config.name) { return try await coordinateLocally(request) }
        return try await forward(request, to: replicas)
    }

    /// Applies the write to the local replica with this node's actor id, then replicates it.
    func coordinateLocally(_ request: WriteRequest) async throws(APIError) -> WriteOutcome {
        try validate(key: request.key)
        let replicas = preferenceList(collection: request.collection, key: request.key).map(\.name)
        let need = try quorum(request.writeQuorum, available: replicas.count)
        guard need <= replicas.count else { throw tooFewReplicas(need, replicas.count, header: "W") }
        let change = try WriteChange(request, actor: node.config.name)
        let updated: VersionedObject
        do {
            updated = try await node.replica.transform(collection: request.collection, key: request.key) { current in
                try change.apply(to: current)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw storageError(error)
        }
        let others = replicas.filter { $0 != node.config.name }
        let (collection, key) = (request.collection, request.key)
        let results = await FanOut.run(
            others, need: need - 1, background: node.background,
            call: { name in try await store(updated, on: name, collection: collection, key: key) })
        let acks = 1 + results.filter { if case .success = $0.result { true } else { false } }.count
        var allReplicas = [node.config.name] + others
        allReplicas = replicas.filter { allReplicas.contains($0) }
        guard acks >= need else {
            var error = unavailable(results, needed: need - 1, of: others.count, verb: "acknowledged", header: "W")
            error.detail =
                "\(acks) of the \(need) acknowledgements needed (X-Dhrt-W) arrived: \(error.detail); "
                + "the write is stored on \(acks) replica(s) and may still reach the others"
            error.headers = KVHandlers.headers(acks: acks, replicas: allReplicas)
            throw error
        }
        return WriteOutcome(acks: acks, replicas: replicas)
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
                        HTTPResponse.Status(code: Int(reply.status)), reply.errorCode.isEmpty ? "failed" : reply.errorCode, reply.detail)
                    error.headers = KVHandlers.headers(acks: Int(reply.acks), replicas: reply.replicas)
                    throw error
                }
                return WriteOutcome(acks: Int(reply.acks), replicas: reply.replicas)
            } catch let error as APIError {
                throw error
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        throw APIError.unavailable(
            "no replica of the key could coordinate the write (\(failures.joined(separator: "; ")))")
    }

    /// Stores (merges) `object` on one replica.
    private func store(_ object: VersionedObject, on name: String, collection: String, key: [UInt8]) async throws {
        if name == node.config.name {
            try await node.replica.merge(collection: collection, key: key, object)
            return
        }
        _ = try await call(
            ReplicaPut(collection: collection, key: key, object: object.encoded()), to: name,
            expecting: ReplicaPutReply.self)
    }

    // MARK: - Helpers

    func preferenceList(collection: String, key: [UInt8]) -> [Member] {
        let ring = node.cluster.ring
        return ring.preferenceList(partition: ring.partition(collection: collection, key: key))
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

    private func tooFewReplicas(_ need: Int, _ available: Int, header: String) -> APIError {
        .unavailable(
            "\(need) replicas needed (X-Dhrt-\(header)) but the cluster holds only \(available) replica(s) of the key")
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

    private func unavailable<T>(
        _ results: FanOut.Results<T>, needed: Int, of total: Int, verb: String, header: String
    ) -> APIError {
        let successes = results.filter { if case .success = $0.result { true } else { false } }.count
        let failures = results.compactMap { entry -> String? in
            if case .failure(let error) = entry.result { return "\(entry.name): \(error)" }
            return nil
        }
        var detail = "\(successes) of \(total) replicas \(verb), \(needed) needed (X-Dhrt-\(header))"
        if !failures.isEmpty { detail += "; failed: " + failures.joined(separator: "; ") }
        return .unavailable(detail)
    }

    private func storageError(_ error: any Error) -> APIError {
        node.logger.error("storage failed", metadata: ["error": "\(error)"])
        return APIError(.internalServerError, "storage", "\(error)")
    }

    struct UnknownMember: Error {}
}
