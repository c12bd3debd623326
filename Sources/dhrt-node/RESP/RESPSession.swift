import Coordinator
import NIOCore

/// What one RESP connection chose: protocol version, collection, quorums, how siblings read, who it is.
struct RESPSession: Sendable {
    /// 2 until `HELLO 3`.
    var version = 2
    var collection = Route.defaultCollection
    /// `CONSISTENCY r w`: the texts `X-Dhrt-R` and `X-Dhrt-W` take; nil for the default (quorum).
    var readQuorum: String?
    var writeQuorum: String?
    /// `SIBLINGS array`: a GET of concurrent values answers them all rather than an error.
    var siblingsAsArray = false
    var authenticated: Bool
    var name = ""
    let id: Int

    var readLevel: (header: String, value: String)? { readQuorum.map { ("CONSISTENCY r", $0) } }
    var writeLevel: (header: String, value: String)? { writeQuorum.map { ("CONSISTENCY w", $0) } }
}

/// A command's answer: at once, or when the quorum answered; `closing` ends the connection after it.
enum RESPAnswer {
    case now(RESPValue)
    case later(EventLoopFuture<RESPValue>)
    case closing(RESPValue)
}

/// The commands that change only the connection: AUTH, HELLO, SELECT, CLIENT, COLLECTION, CONSISTENCY, SIBLINGS.
extension RESPCommands {
    func auth(_ arguments: [ByteBuffer], _ session: inout RESPSession) -> RESPValue {
        // `AUTH password` or `AUTH username password`; the user name means nothing to dhrt.
        guard arguments.count == 2 || arguments.count == 3 else { return Self.arity("auth") }
        guard !authorization.isOpen else {
            return .error(
                "ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?")
        }
        return authenticate(arguments.last!, &session)
    }

    private func authenticate(_ password: ByteBuffer, _ session: inout RESPSession) -> RESPValue {
        let presented = Array(password.readableBytesView)
        let accepted = [authorization.clientToken, authorization.adminToken].compactMap { $0 }
        var matched = false
        for token in accepted where Authorization.constantTimeEquals(presented, token) { matched = true }
        guard matched else {
            return .error("WRONGPASS invalid username-password pair or user is disabled.")
        }
        session.authenticated = true
        return .ok
    }

    /// `HELLO [protover [AUTH username password] [SETNAME name]]`.
    func hello(_ arguments: [ByteBuffer], _ session: inout RESPSession) -> RESPValue {
        var version = session.version
        var index = 1
        if arguments.count > 1 {
            guard let asked = Int(String(buffer: arguments[1])) else {
                return .error("ERR Protocol version is not an integer or out of range")
            }
            guard asked == 2 || asked == 3 else { return .error("NOPROTO unsupported protocol version") }
            version = asked
            index = 2
        }
        var name: String?
        while index < arguments.count {
            let option = String(buffer: arguments[index]).uppercased()
            if option == "AUTH", index + 2 < arguments.count {
                if authorization.isOpen {
                    session.authenticated = true
                } else if case .error(let text) = authenticate(arguments[index + 2], &session) {
                    return .error(text)
                }
                index += 3
            } else if option == "SETNAME", index + 1 < arguments.count {
                name = String(buffer: arguments[index + 1])
                index += 2
            } else {
                return .error("ERR Syntax error in HELLO option '\(option.lowercased())'")
            }
        }
        guard session.authenticated else {
            return .error(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> "
                    + "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
                    + "protocol version at the same time")
        }
        session.version = version
        if let name { session.name = name }
        return .map([
            (.bulk("server"), .bulk("dhrt")),
            (.bulk("version"), .bulk(Self.redisVersion)),
            (.bulk("proto"), .integer(version)),
            (.bulk("id"), .integer(session.id)),
            (.bulk("mode"), .bulk("standalone")),
            (.bulk("role"), .bulk("master")),
            (.bulk("modules"), .array([])),
            (.bulk("dhrt-node"), .bulk(node.config.name)),
        ])
    }

    func select(_ arguments: [ByteBuffer]) -> RESPValue {
        guard arguments.count == 2 else { return Self.arity("select") }
        // One database: collections take the place of numbered ones (see COLLECTION).
        return String(buffer: arguments[1]) == "0" ? .ok : .error("ERR DB index is out of range")
    }

    func client(_ arguments: [ByteBuffer], _ session: inout RESPSession) -> RESPValue {
        guard arguments.count >= 2 else { return Self.arity("client") }
        switch String(buffer: arguments[1]).uppercased() {
        case "SETNAME" where arguments.count == 3:
            session.name = String(buffer: arguments[2])
            return .ok
        case "SETINFO" where arguments.count == 4:
            return .ok
        case "GETNAME" where arguments.count == 2:
            return session.name.isEmpty ? .null : .bulk(session.name)
        case "ID" where arguments.count == 2:
            return .integer(session.id)
        case "INFO" where arguments.count == 2:
            return .bulk("id=\(session.id) name=\(session.name) db=0 collection=\(session.collection)\n")
        case "SETNAME", "SETINFO", "GETNAME", "ID", "INFO":
            return Self.arity("client|\(String(buffer: arguments[1]).lowercased())")
        default:
            return .error("ERR unknown subcommand '\(String(buffer: arguments[1]))'. Try CLIENT HELP.")
        }
    }

    /// `COLLECTION [name]`: the collection this connection's keys live in (`default` at first).
    func collection(_ arguments: [ByteBuffer], _ session: inout RESPSession) -> RESPValue {
        switch arguments.count {
        case 1:
            return .bulk(session.collection)
        case 2:
            do {
                session.collection = try Route.collectionName(Array(arguments[1].readableBytesView))
                return .ok
            } catch {
                return Self.error(error.apiError)
            }
        default:
            return Self.arity("collection")
        }
    }

    /// `CONSISTENCY [r w]`: R and W of this connection's reads and writes, as `X-Dhrt-R`/`X-Dhrt-W` take them.
    func consistency(_ arguments: [ByteBuffer], _ session: inout RESPSession) -> RESPValue {
        switch arguments.count {
        case 1:
            return .array([.bulk(session.readQuorum ?? "quorum"), .bulk(session.writeQuorum ?? "quorum")])
        case 3:
            let r = String(buffer: arguments[1])
            let w = String(buffer: arguments[2])
            let n = node.config.replicas
            do {
                _ = try ConsistencyLevel.parse(r, header: "CONSISTENCY r", n: n)
                _ = try ConsistencyLevel.parse(w, header: "CONSISTENCY w", n: n)
            } catch {
                return .error("ERR \(error.description)")
            }
            session.readQuorum = r
            session.writeQuorum = w
            return .ok
        default:
            return Self.arity("consistency")
        }
    }

    /// `SIBLINGS array|error`: how a GET answers a key with concurrent values.
    func siblings(_ arguments: [ByteBuffer], _ session: inout RESPSession) -> RESPValue {
        guard arguments.count == 2 else { return Self.arity("siblings") }
        switch String(buffer: arguments[1]).lowercased() {
        case "array": session.siblingsAsArray = true
        case "error": session.siblingsAsArray = false
        default: return .error("ERR SIBLINGS takes 'array' or 'error'")
        }
        return .ok
    }
}
