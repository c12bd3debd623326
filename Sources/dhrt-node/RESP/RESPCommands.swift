import NIOCore

/// Runs RESP commands on the node: the data commands go through `KVService`, the same quorum path as HTTP.
struct RESPCommands: Sendable {
    /// The Redis version clients are told (in HELLO and INFO): the command set follows Redis 7's replies.
    static let redisVersion = "7.2.0"

    let node: Node
    let authorization: Authorization
    let shared: RESPServerState

    init(node: Node, shared: RESPServerState) {
        self.node = node
        self.shared = shared
        authorization = Authorization(
            clientToken: node.config.frontDoor.clientToken, adminToken: node.config.frontDoor.adminToken)
    }

    /// Answers `command`, whose upper-case name is `name`; futures never fail (an error is the `-ERR` value they
    /// hold).
    func execute(_ command: RESPCommand, named name: String, _ session: inout RESPSession, on loop: any EventLoop)
        -> RESPAnswer
    {
        let arguments = command.arguments
        if !session.authenticated, name != "AUTH", name != "HELLO", name != "QUIT" {
            return .now(.error("NOAUTH Authentication required."))
        }
        switch name {
        case "PING":
            guard arguments.count <= 2 else { return .now(Self.arity("ping")) }
            return .now(arguments.count == 2 ? .bulk(Array(arguments[1].readableBytesView)) : .simple("PONG"))
        case "ECHO":
            guard arguments.count == 2 else { return .now(Self.arity("echo")) }
            return .now(.bulk(Array(arguments[1].readableBytesView)))
        case "GET":
            guard arguments.count == 2 else { return .now(Self.arity("get")) }
            return later { () throws(APIError) in try get(arguments[1], session) }
        case "SET":
            guard arguments.count >= 3 else { return .now(Self.arity("set")) }
            return later { () throws(APIError) in try set(arguments, session, on: loop) }
        case "MGET":
            guard arguments.count >= 2 else { return .now(Self.arity("mget")) }
            return later { () throws(APIError) in try mget(arguments.dropFirst(), session, on: loop) }
        case "MSET":
            guard arguments.count >= 3, arguments.count % 2 == 1 else { return .now(Self.arity("mset")) }
            return later { () throws(APIError) in try mset(arguments.dropFirst(), session, on: loop) }
        case "DEL", "UNLINK":
            guard arguments.count >= 2 else { return .now(Self.arity(name.lowercased())) }
            return later { () throws(APIError) in try delete(arguments.dropFirst(), session, on: loop) }
        case "EXISTS":
            guard arguments.count >= 2 else { return .now(Self.arity("exists")) }
            return later { () throws(APIError) in try exists(arguments.dropFirst(), session, on: loop) }
        case "SCAN":
            guard arguments.count >= 2 else { return .now(Self.arity("scan")) }
            return scan(arguments, session, on: loop)
        case "AUTH": return .now(auth(arguments, &session))
        case "HELLO": return .now(hello(arguments, &session))
        case "SELECT": return .now(select(arguments))
        case "CLIENT": return .now(client(arguments, &session))
        case "COLLECTION": return .now(collection(arguments, &session))
        case "CONSISTENCY": return .now(consistency(arguments, &session))
        case "SIBLINGS": return .now(siblings(arguments, &session))
        case "INFO": return .now(info(session))
        case "COMMAND": return .now(Self.command(arguments))
        case "CONFIG": return .now(Self.config(arguments))
        case "QUIT": return .closing(.ok)
        default:
            let shown = arguments.first.map { String(buffer: $0) } ?? ""
            return .now(.error("ERR unknown command '\(shown)', with args beginning with: "))
        }
    }

    private func later(_ start: () throws(APIError) -> EventLoopFuture<RESPValue>) -> RESPAnswer {
        do {
            return .later(try start().recover(Self.error))
        } catch {
            return .now(Self.error(error))
        }
    }

    // MARK: - Data commands

    private func readRequest(_ key: ByteBuffer, _ session: RESPSession) -> ReadRequest {
        ReadRequest(collection: session.collection, key: Array(key.readableBytesView), readQuorum: session.readLevel)
    }

    private func writeRequest(_ key: ByteBuffer, _ value: ByteBuffer?, _ session: RESPSession) -> WriteRequest {
        WriteRequest(
            collection: session.collection, key: Array(key.readableBytesView),
            content: value.map { Content(value: Array($0.readableBytesView), contentType: "") }, context: nil,
            ifMatch: nil, ifNoneMatch: false, writeQuorum: session.writeLevel, supersedesStored: true)
    }

    private func get(_ key: ByteBuffer, _ session: RESPSession) throws(APIError) -> EventLoopFuture<RESPValue> {
        let asArray = session.siblingsAsArray
        return try node.kv.startRead(readRequest(key, session)).map { Self.value($0.found, siblingsAsArray: asArray) }
    }

    static func value(_ found: ReadOutcome.Found, siblingsAsArray: Bool) -> RESPValue {
        switch found {
        case .notFound:
            return .null
        case .value(let content):
            return .bulk(content.value)
        case .siblings(let contents):
            guard siblingsAsArray else {
                return .error(
                    "SIBLINGS \(contents.count) concurrent values; send SIBLINGS array to read them all, "
                        + "a SET replaces them")
            }
            return .array(contents.map { $0.map { .bulk($0.value) } ?? .null })
        }
    }

    /// `SET key value [NX|XX]`: NX and XX are the store's `If-None-Match: *` and `If-Match: *`, checked on the
    /// coordinator's copy; expiry options are refused, dhrt keeps no TTL.
    private func set(_ arguments: [ByteBuffer], _ session: RESPSession, on loop: any EventLoop)
        throws(APIError) -> EventLoopFuture<RESPValue>
    {
        var request = writeRequest(arguments[1], arguments[2], session)
        var condition: String?
        for argument in arguments.dropFirst(3) {
            let option = String(buffer: argument).uppercased()
            switch option {
            case "NX", "XX":
                guard condition == nil || condition == option else { return loop.makeSucceededFuture(.syntax) }
                condition = option
            case "EX", "PX", "EXAT", "PXAT", "KEEPTTL":
                return loop.makeSucceededFuture(
                    .error("ERR SET \(option) is not supported: dhrt keys do not expire (no TTL)"))
            case "GET":
                return loop.makeSucceededFuture(.error("ERR SET GET is not supported"))
            default:
                return loop.makeSucceededFuture(.syntax)
            }
        }
        try checkValue(arguments[2])
        if condition == "NX" { request.ifNoneMatch = true }
        if condition == "XX" { request.ifMatch = "*" }
        return try node.kv.startWrite(request).map { _ in RESPValue.ok }.flatMapErrorThrowing { error in
            // A condition not met is Redis's null reply, not an error.
            if let error = error as? APIError, error.status == .preconditionFailed { return .null }
            throw error
        }
    }

    private func mget(_ keys: ArraySlice<ByteBuffer>, _ session: RESPSession, on loop: any EventLoop)
        throws(APIError) -> EventLoopFuture<RESPValue>
    {
        let asArray = session.siblingsAsArray
        var reads: [EventLoopFuture<RESPValue>] = []
        for key in keys {
            let read = try node.kv.startRead(readRequest(key, session))
            reads.append(read.map { Self.value($0.found, siblingsAsArray: asArray) }.recover(Self.error))
        }
        return EventLoopFuture.whenAllSucceed(reads, on: loop).map { .array($0) }
    }

    /// Not atomic: each pair is its own quorum write, all at once; the first failure is the answer.
    private func mset(_ pairs: ArraySlice<ByteBuffer>, _ session: RESPSession, on loop: any EventLoop)
        throws(APIError) -> EventLoopFuture<RESPValue>
    {
        var last: [ByteBuffer: ByteBuffer] = [:]
        var order: [ByteBuffer] = []
        var index = pairs.startIndex
        while index < pairs.endIndex {
            let (key, value) = (pairs[index], pairs[index + 1])
            try checkValue(value)
            // The last value of a key repeated wins, as in Redis, instead of two concurrent siblings.
            if last.updateValue(value, forKey: key) == nil { order.append(key) }
            index += 2
        }
        var writes: [EventLoopFuture<WriteOutcome>] = []
        for key in order {
            writes.append(try node.kv.startWrite(writeRequest(key, last[key]!, session)))
        }
        return EventLoopFuture.whenAllSucceed(writes, on: loop).map { _ in .ok }
    }

    /// Counts the keys a quorum read finds, then deletes each (blind, as HTTP DELETE): a key that a stale read
    /// missed is still deleted.
    private func delete(_ keys: ArraySlice<ByteBuffer>, _ session: RESPSession, on loop: any EventLoop)
        throws(APIError) -> EventLoopFuture<RESPValue>
    {
        var seen = Set<ByteBuffer>()
        var runs: [EventLoopFuture<Int>] = []
        let kv = node.kv
        for key in keys where seen.insert(key).inserted {
            let write = writeRequest(key, nil, session)
            let run = try kv.startRead(readRequest(key, session)).flatMap { outcome in
                do {
                    return try kv.startWrite(write).map { _ in outcome.found == .notFound ? 0 : 1 }
                } catch {
                    return loop.makeFailedFuture(error)
                }
            }
            runs.append(run)
        }
        return EventLoopFuture.whenAllSucceed(runs, on: loop).map { .integer($0.reduce(0, +)) }
    }

    private func exists(_ keys: ArraySlice<ByteBuffer>, _ session: RESPSession, on loop: any EventLoop)
        throws(APIError) -> EventLoopFuture<RESPValue>
    {
        var reads: [EventLoopFuture<Int>] = []
        for key in keys {
            reads.append(try node.kv.startRead(readRequest(key, session)).map { $0.found == .notFound ? 0 : 1 })
        }
        return EventLoopFuture.whenAllSucceed(reads, on: loop).map { .integer($0.reduce(0, +)) }
    }

    private func checkValue(_ value: ByteBuffer) throws(APIError) {
        guard value.readableBytes <= node.limits.maxValueSize else { throw .tooLarge(limit: node.limits.maxValueSize) }
    }

    // MARK: - Errors

    static func arity(_ command: String) -> RESPValue {
        .error("ERR wrong number of arguments for '\(command)' command")
    }

    /// An HTTP error as RESP: `-UNAVAILABLE` for a quorum not met (503), `-ERR` for the rest.
    static func error(_ error: APIError) -> RESPValue {
        .error("\(error.status == .serviceUnavailable ? "UNAVAILABLE" : "ERR") \(error.detail)")
    }

    @Sendable static func error(_ error: any Error) -> RESPValue {
        if let error = error as? APIError { return Self.error(error) }
        return .error("ERR \(error)")
    }
}

extension RESPValue {
    static let syntax = RESPValue.error("ERR syntax error")
}
