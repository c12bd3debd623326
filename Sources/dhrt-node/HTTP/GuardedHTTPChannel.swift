import Atomics
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL

/// Hummingbird's HTTP/1.1 channel with the node's front door in front of it: a connection limit, the header,
/// body and idle timeouts, and the object fast path; with a certificate, TLS in front of them all (the port then
/// speaks HTTPS only: a plain request fails the TLS handshake and the connection closes).
struct GuardedHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let node: Node
    let responder: HTTPChannelHandler.Responder
    private let open = ManagedAtomic(0)
    private let template: HTTP1Channel

    init(node: Node, responder: @escaping HTTPChannelHandler.Responder) {
        self.node = node
        self.responder = responder
        self.template = HTTP1Channel(responder: responder)
    }

    /// The server builder for `Application(server:)`.
    static func builder(node: Node) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in GuardedHTTPChannel(node: node, responder: responder) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let door = node.config.frontDoor
        let count = open.wrappingIncrementThenLoad(ordering: .relaxed)
        let open = self.open
        channel.closeFuture.whenComplete { _ in open.wrappingDecrement(ordering: .relaxed) }
        let name = node.config.name
        let timer = ConnectionTimer(
            limits: .init(header: door.headerTimeout, body: door.bodyTimeout, idle: door.idleTimeout),
            now: .now)
        let watch = ConnectionWatch(timer: timer, nodeName: name)
        let node = self.node
        // The handlers are made here, on the channel's loop, and the closure runs once within `setup`.
        let tap = UncheckedHandlers(handlers: [HTTPPhaseTap(watch: watch), ObjectFastPath(node: node)])
        let inner = HTTP1Channel(
            responder: responder, configuration: .init(additionalChannelHandlers: tap.handlers))
        do {
            if let tls = node.config.tls.http {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }
            if count > door.maxHTTPConnections {
                node.logger.warning("refusing HTTP connection: too many open", metadata: ["open": "\(count - 1)"])
                let error = APIError.unavailable(
                    "the node has \(door.maxHTTPConnections) connections open; retry later")
                try channel.pipeline.syncOperations.addHandler(RefuseConnection(answer: error, nodeName: name))
            } else {
                try channel.pipeline.syncOperations.addHandler(watch)
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await template.handle(value: value, logger: logger)
    }
}

/// Handlers of one connection handed to Hummingbird's `@Sendable` handler list; used on that connection's loop only.
private struct UncheckedHandlers: @unchecked Sendable {
    let handlers: [any RemovableChannelHandler]
}

/// Raw HTTP/1.1 bytes of a JSON error answer that closes the connection, for handlers below the HTTP codec.
func rawErrorResponse(_ error: APIError, nodeName: String) -> ByteBuffer {
    let body = error.answer.body
    var buffer = ByteBuffer()
    buffer.writeString(
        "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.readableBytes)\r\nConnection: close\r\nX-Dhrt-Node: \(nodeName)\r\n\r\n")
    buffer.writeImmutableBuffer(body)
    return buffer
}

/// Answers a connection over the limit with a 503 and closes it, reading nothing.
final class RefuseConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answer: APIError
    private let nodeName: String

    init(answer: APIError, nodeName: String) {
        self.answer = answer
        self.nodeName = nodeName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(rawErrorResponse(answer, nodeName: nodeName))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// Watches a connection's bytes below the HTTP codec and closes it when `ConnectionTimer` says the client took
/// too long; `HTTPPhaseTap` tells it where the requests begin and end.
final class ConnectionWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var timer: ConnectionTimer
    private let nodeName: String
    private var check: RepeatedTask?
    private var closing = false

    init(timer: ConnectionTimer, nodeName: String) {
        self.timer = timer
        self.nodeName = nodeName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let tick = TimeAmount(timer.tick)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in
            this.value.onTick(context: bound.value)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer.bytesReceived(now: .now)
        context.fireChannelRead(data)
    }

    func headReceived() { timer.headReceived(now: .now) }
    func requestEnded() { timer.requestEnded(now: .now) }
    func responseEnded() { timer.responseEnded(now: .now) }

    private func onTick(context: ChannelHandlerContext) {
        guard !closing else { return }
        switch timer.check(now: .now) {
        case .wait:
            return
        case .idle:
            closing = true
            context.close(promise: nil)
        case .requestTimeout(let detail):
            closing = true
            check?.cancel()
            guard timer.mayAnswer else {
                context.close(promise: nil)
                return
            }
            let error = APIError(.requestTimeout, "timeout", detail)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(rawErrorResponse(error, nodeName: nodeName))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}

/// Tells `ConnectionWatch` where requests and responses begin and end; passes every part on untouched.
final class HTTPPhaseTap: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) { self.watch = watch }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: watch.headReceived()
        case .end: watch.requestEnded()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { watch.responseEnded() }
        context.write(data, promise: promise)
    }
}
