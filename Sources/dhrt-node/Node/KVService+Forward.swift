import Coordinator
import HTTPTypes
import Wire

/// Forwarding: a client write reaching a node outside the key's preference list is coordinated by a replica.
extension KVService {
    /// Hands the write to the first reachable replica and answers what it answered, headers included, so that a
    /// forwarded write reads exactly like a direct one.
    ///
    /// `retried` is what this node stored for the write before a replica answered `ring_moved`: the replica that
    /// coordinates now merges it rather than writing the client's value again.
    func forward(_ request: WriteRequest, to replicas: [String], retried: VersionedObject? = nil)
        async throws(APIError) -> WriteOutcome
    {
        var message = CoordinatePut(
            collection: request.collection, key: request.key, value: request.content?.value,
            contentType: request.content?.contentType ?? "", context: request.context.map { Array($0.utf8) },
            ifMatch: request.ifMatch.map { Array($0.utf8) }, ifNoneMatch: request.ifNoneMatch,
            writeQuorum: request.writeQuorum?.value ?? "", primaryQuorum: request.primaryQuorum ?? "",
            retried: retried?.encoded())
        var failures: [String] = []
        // The first reachable replica coordinates. Only a write that certainly never reached a replica moves on
        // to the next: after a timeout or a lost connection it may be applied there, and running it again on
        // another coordinator would store it twice (duplicate siblings, or a second `If-None-Match: *` create).
        var index = replicas.startIndex
        while index < replicas.endIndex {
            let name = replicas[index]
            do {
                // The coordinator answers within its own request timeout; waiting longer keeps a late answer known.
                let reply = try await call(message, to: name, expecting: CoordinatePutReply.self, timeout: timeout * 2)
                return try Self.outcome(of: reply)
            } catch let error as APIError {
                throw error
            } catch {
                if Self.predatesTrailingFields(error), message.primaryQuorum == "" {
                    // A peer of the older layout refused the message unread; without X-Dhrt-PW nothing is lost
                    // by sending it that layout (its reply then names no fallbacks).
                    message.primaryQuorum = nil
                    message.retried = nil
                    continue
                }
                guard Self.certainlyNotDelivered(error) else {
                    var answer = APIError(
                        .gatewayTimeout, "indeterminate",
                        "the write was handed to \(name) to coordinate and its outcome is unknown (\(error)): it "
                            + "may or may not have been stored; read the key before writing again")
                    answer.headers = KVHandlers.headers(acks: 0, replicas: replicas)
                    throw answer
                }
                failures.append("\(name): \(error)")
            }
            message.primaryQuorum = request.primaryQuorum ?? ""
            index += 1
        }
        throw APIError.unavailable(
            "no replica of the key could coordinate the write (\(failures.joined(separator: "; ")))")
    }

    /// The coordinator's answer as the client sees it. An error carries `X-Dhrt-Acks`/`X-Dhrt-Replicas` only
    /// when the coordinator's did (a failed quorum, not a refused request).
    private static func outcome(of reply: CoordinatePutReply) throws(APIError) -> WriteOutcome {
        guard reply.status == 204 else {
            var error = APIError(
                HTTPResponse.Status(code: Int(reply.status)), reply.errorCode.isEmpty ? "failed" : reply.errorCode,
                reply.detail)
            if !reply.replicas.isEmpty {
                error.headers = KVHandlers.headers(acks: Int(reply.acks), replicas: reply.replicas)
            }
            throw error
        }
        return WriteOutcome(
            acks: Int(reply.acks), replicas: reply.replicas, context: reply.context,
            hinted: reply.hinted.map { ($0.fallback, $0.owner) })
    }

    /// Whether the peer could not decode the message (an older layout's decoder refuses trailing fields).
    private static func predatesTrailingFields(_ error: any Error) -> Bool {
        if case PeerError.remote(let reply) = error { return reply.code == "bad_message" }
        return false
    }

    /// Whether a failed call never reached the peer (nothing was sent, or the peer refused the message unread).
    private static func certainlyNotDelivered(_ error: any Error) -> Bool {
        switch error {
        case PeerError.transport(let cause):
            switch cause {
            case WireError.unreachable, WireError.overloaded, WireError.payloadTooLarge, WireError.invalidAddress:
                return true
            case is UnknownMember:
                return true
            default:
                return false
            }
        case PeerError.remote(let reply):
            // An error frame, not a CoordinatePutReply: the peer could not decode the request.
            return reply.code == "bad_message" || reply.code == "unknown_type"
        default:
            return false
        }
    }
}
