import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Serves `/v1/kv/{collection}/{key}` (GET, HEAD, PUT, DELETE) inside the channel pipeline, ahead of
/// Hummingbird: the request is parsed, coordinated and answered on its connection's event loop, with no task,
/// no async channel and no executor hop. Every other request passes through to Hummingbird untouched.
///
/// Sits between Hummingbird's `HTTP1ToHTTPServerCodec` and its connection handlers. Requests on one connection
/// are answered in order: while an answer is pending (ours or Hummingbird's), later request parts wait here
/// and reading from the socket pauses, so a pipelining client gets its responses in sequence.
final class ObjectFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private struct Pending {
        var verb: Route.KVVerb
        var collection: String
        var key: [UInt8]
        var head: HTTPRequest
        var body: ByteBuffer?
        var tooLarge = false
        /// The token check failed: the body is read and dropped, then this is the answer.
        var denied: APIError?
        var started = ContinuousClock.now

        var route: Route { .object(verb, collection: collection, key: key) }
    }

    private enum Mode {
        case idle
        case collecting(Pending)
        case answering
        /// A request Hummingbird serves; idle again once its request and its response have both ended.
        case passingThrough(requestEnded: Bool, responseEnded: Bool)
    }

    private let node: Node
    private var mode = Mode.idle
    /// The request stream could not be parsed: nothing more is read from it.
    private var failed = false
    /// The last answer owed before the connection closes: a parse error's 400, or the 413 of a declared
    /// oversized body.
    private var owed: APIError?
    /// The body of a refused upload is read and dropped: a client still sending (as HTTP libraries do) then
    /// gets the answer rather than a closed socket; the connection closes at its end or after a grace time.
    private var draining = false
    private var waiting = CircularBuffer<HTTPRequestPart>()
    private var readHeld = false
    private var quiesceHeld = false

    private let authorization: Authorization

    init(node: Node) {
        self.node = node
        self.authorization = Authorization(
            clientToken: node.config.frontDoor.clientToken, adminToken: node.config.frontDoor.adminToken)
    }

    /// An answer is owed before the next request may start.
    private var isBusy: Bool {
        switch mode {
        case .idle, .collecting: false
        case .answering: true
        case .passingThrough(let requestEnded, _): requestEnded
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else {
            // A refused upload that the client finishes after all: nothing more will come worth reading.
            if draining, case .end = Self.unwrapInboundIn(data) { context.close(promise: nil) }
            return
        }
        let part = Self.unwrapInboundIn(data)
        if isBusy || !waiting.isEmpty {
            waiting.append(part)
            return
        }
        handle(part, context: context)
    }

    func read(context: ChannelHandlerContext) {
        if failed {
            context.read()  // drained and discarded until the connection closes
        } else if isBusy || !waiting.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = Self.unwrapOutboundIn(data)
        context.write(data, promise: promise)
        guard case .end = part, case .passingThrough(let requestEnded, _) = mode else { return }
        if requestEnded {
            mode = .idle
            resume(context: context)
        } else {
            mode = .passingThrough(requestEnded: false, responseEnded: true)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird closes an idle connection on quiesce; ours is not idle while it owes an answer.
        if event is ChannelShouldQuiesceEvent, isBusy || isCollecting {
            quiesceHeld = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A parse error answers `400 {"error": "bad_request"}` with `X-Dhrt-Node` in turn, then closes: Hummingbird's
    /// own answer would have an empty body. A body Hummingbird is reading gets the error (its handler answers).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !failed else { return }  // the decoder repeats itself once it has failed
        guard Self.isMalformedRequest(error) else {
            context.fireErrorCaught(error)
            return
        }
        failed = true
        switch mode {
        case .passingThrough(requestEnded: false, responseEnded: false):
            context.fireErrorCaught(error)
        case .passingThrough(requestEnded: false, responseEnded: true):
            context.close(promise: nil)
        case .idle, .collecting:
            owed = .badRequest("bad_request", "malformed HTTP request: \(error)")
            waiting.removeAll()
            sendFinal(context: context)
        case .answering, .passingThrough(requestEnded: true, _):
            owed = .badRequest("bad_request", "malformed HTTP request: \(error)")
            waiting.removeAll()
        }
    }

    static func isMalformedRequest(_ error: any Error) -> Bool {
        error is HTTPParserError || error is HTTP1TypeConversionError
    }

    private func sendFinal(context: ChannelHandlerContext) {
        guard let owed else { return }
        mode = .answering
        var answer = owed.answer
        answer.headers[.dhrtNode] = node.config.name
        answer.headers[.connection] = "close"
        answer.headers[.contentLength] = String(answer.body.readableBytes)
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: answer.headers))), promise: nil
        )
        context.write(Self.wrapOutboundOut(.body(answer.body)), promise: nil)
        // Close our side but keep reading a moment: closing with unread bytes would reset the connection, and
        // a reset can destroy the answer before the client has read it.
        let channel = context.channel
        let draining = self.draining
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !draining { channel.close(mode: .output, promise: nil) }
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    private var isCollecting: Bool {
        if case .collecting = mode { true } else { false }
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (mode, part) {
        case (.idle, .head(let head)):
            if let limit = declaredOverLimit(head) {
                refuseUnread(head, limit: limit, context: context)
            } else if var pending = Self.objectRequest(head) {
                if !authorization.isOpen { pending.denied = authorization.check(.client, head.headerFields) }
                mode = .collecting(pending)
                // curl -T and other uploaders wait (curl: 1 s) for this before they send the body.
                if pending.verb == .put, pending.denied == nil,
                    head.headerFields[.expect]?.lowercased() == "100-continue"
                {
                    context.writeAndFlush(Self.wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
                }
            } else {
                mode = .passingThrough(requestEnded: false, responseEnded: false)
                context.fireChannelRead(Self.wrapInboundOut(part))
            }
        case (.collecting(var pending), .body(var chunk)):
            let limit = node.limits.maxValueSize
            if !pending.tooLarge, pending.denied == nil {
                if (pending.body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                    pending.tooLarge = true
                    pending.body = nil
                } else if pending.body == nil {
                    pending.body = chunk
                } else {
                    pending.body!.writeBuffer(&chunk)
                }
            }
            mode = .collecting(pending)
        case (.collecting(let pending), .end):
            mode = .answering
            // Answer after the loop's current batch of reads, as a task would: every connection made readable
            // in this tick is parsed first, and their writes go out together.
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.execute { this.value.answer(pending, context: bound.value) }
        case (.passingThrough(_, let responseEnded), .end):
            context.fireChannelRead(Self.wrapInboundOut(part))
            if responseEnded {
                mode = .idle
                resume(context: context)
            } else {
                mode = .passingThrough(requestEnded: true, responseEnded: false)
            }
        case (.collecting, .head), (.answering, _):
            // Cannot happen with a well-behaved decoder; hand the mess to Hummingbird's error handling.
            context.fireChannelRead(Self.wrapInboundOut(part))
        case (.idle, _), (.passingThrough, _):
            context.fireChannelRead(Self.wrapInboundOut(part))
        }
    }

    /// The body limit of `head`'s route when its `Content-Length` declares more: such a body is never read.
    private func declaredOverLimit(_ head: HTTPRequest) -> Int? {
        // Routes are resolved only for a length over the value limit: every upload's head passes here.
        guard let text = head.headerFields[.contentLength], let declared = Int(text),
            declared > node.limits.maxValueSize
        else { return nil }
        guard case .batch? = Self.route(head) else { return node.limits.maxValueSize }
        return declared > node.limits.maxBatchSize ? node.limits.maxBatchSize : nil
    }

    /// Answers 413 at once and closes: waiting for a body the node will refuse anyway would leave the client
    /// sending (1 GiB, say) with no answer. Nothing more is read from the connection.
    private func refuseUnread(_ head: HTTPRequest, limit: Int, context: ChannelHandlerContext) {
        failed = true
        draining = true
        owed = .tooLarge(limit: limit)
        waiting.removeAll()
        if let route = Self.route(head) {
            let (operation, consistency) = NodeResponder.label(route, head.headerFields)
            node.metrics.recordRequest(
                operation: operation, consistency: consistency, status: 413, duration: .zero)
        }
        sendFinal(context: context)
    }

    /// The route of `head`, its query dropped; nil when it has none.
    private static func route(_ head: HTTPRequest) -> Route? {
        guard let target = head.path else { return nil }
        let path = target.utf8.contains(UInt8(ascii: "?")) ? String(target[..<target.firstIndex(of: "?")!]) : target
        return try? Route.resolve(method: head.method, path: path)
    }

    /// The pending object request for a head the fast path serves, or nil to pass it through.
    private static func objectRequest(_ head: HTTPRequest) -> Pending? {
        guard let target = head.path else { return nil }
        let path = target.utf8.contains(UInt8(ascii: "?")) ? String(target[..<target.firstIndex(of: "?")!]) : target
        let route =
            Route.plainObject(method: head.method, path: path) ?? (try? Route.resolve(method: head.method, path: path))
        guard case .object(let verb, let collection, let key)? = route else { return nil }
        return Pending(verb: verb, collection: collection, key: key, head: head)
    }

    private func answer(_ pending: Pending, context: ChannelHandlerContext) {
        if let denied = pending.denied {
            send(denied.answer, for: pending, context: context)
            return
        }
        let limit = node.limits.maxValueSize
        let declared = pending.head.headerFields[.contentLength].flatMap { Int($0) } ?? 0
        if pending.tooLarge || declared > limit {
            send(APIError.tooLarge(limit: limit).answer, for: pending, context: context)
            return
        }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        ObjectEndpoint(node: node).answer(
            pending.verb, collection: pending.collection, key: pending.key, method: pending.head.method,
            headers: pending.head.headerFields, body: pending.verb == .put ? (pending.body ?? ByteBuffer()) : nil
        ).hop(to: loop).whenSuccess { answer in
            this.value.sendIfAttached(answer, for: pending)
        }
    }

    private var attached: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { attached = context }

    func handlerRemoved(context: ChannelHandlerContext) { attached = nil }

    private func sendIfAttached(_ answer: HTTPAnswer, for pending: Pending) {
        guard let context = attached else { return }
        send(answer, for: pending, context: context)
    }

    private func send(_ answer: HTTPAnswer, for pending: Pending, context: ChannelHandlerContext) {
        var headers = answer.headers
        headers[.dhrtNode] = node.config.name
        if answer.status != .noContent { headers[.contentLength] = String(answer.body.readableBytes) }
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: headers))), promise: nil)
        if answer.body.readableBytes > 0 { context.write(Self.wrapOutboundOut(.body(answer.body)), promise: nil) }
        let closing = pending.head.headerFields[.connection]?.lowercased().contains("close") == true
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            if closing { channel.close(promise: nil) }
        }
        let (operation, consistency) = NodeResponder.label(pending.route, pending.head.headerFields)
        node.metrics.recordRequest(
            operation: operation, consistency: consistency, status: answer.status.code,
            duration: ContinuousClock.now - pending.started)
        mode = .idle
        resume(context: context)
    }

    /// After an answer: serve what waited, then read again and pass on a held quiesce.
    private func resume(context: ChannelHandlerContext) {
        if owed != nil {
            sendFinal(context: context)
            return
        }
        var forwarded = false
        while !isBusy, let part = waiting.popFirst() {
            if case .passingThrough = mode { forwarded = true }
            handle(part, context: context)
            if case .passingThrough = mode { forwarded = true }
        }
        // Hummingbird's async channel hands reads on at read-complete; parts replayed here need one too.
        if forwarded { context.fireChannelReadComplete() }
        guard !isBusy, waiting.isEmpty else { return }
        if readHeld {
            readHeld = false
            context.read()
        }
        if quiesceHeld, !isCollecting {
            quiesceHeld = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }
}
