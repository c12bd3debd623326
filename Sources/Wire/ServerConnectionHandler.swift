import Logging
import NIOCore

/// Asks a server connection to stop reading, finish what it has received, and close.
struct DrainConnectionEvent: Sendable {}

/// Serves the request frames of one inbound connection; lives on the channel's event loop.
///
/// Each request goes to the responder on the event loop, which answers at once or later from any thread (an
/// async handler runs in its own task); replies leave in completion order. At most
/// `maxInFlight` handlers run per connection; beyond that, frames already decoded wait here and the
/// handler holds back `read()` so TCP pushes back on the peer. Reads are also held while the channel
/// is not writable, so a peer that stops reading replies cannot make the server buffer without bound.
/// When the connection closes, running handler tasks are cancelled.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    private let serve: Serve
    private let maxInFlight: Int
    private let maxPayloadSize: Int
    private var logger: Logger

    private var context: ChannelHandlerContext?
    private var inFlight = 0
    /// Handler tasks by a local key (not the request id, which a peer could repeat); cancelled on close.
    private var running: [Int: Task<Void, Never>] = [:]
    private var nextTaskKey = 0
    private var waiting = CircularBuffer<Frame>()
    private var readHeldBack = false
    private var flushScheduled = false
    private var draining = false
    private var closed = false
    /// Completes when everything written so far has reached the socket; writes complete in order.
    private var lastWrite: EventLoopFuture<Void>?

    /// How requests are answered: by a responder on the event loop, or by an async handler in a task each.
    enum Serve {
        case respond(WireServer.Responder)
        case task(WireServer.Handler)
    }

    /// How long the peer has to send its first valid frame; nil waits for ever.
    private let firstFrameTimeout: Duration?
    private var firstFrameTimer: Scheduled<Void>?

    convenience init(handler: @escaping WireServer.Handler, maxInFlight: Int, maxPayloadSize: Int, logger: Logger) {
        self.init(serve: .task(handler), maxInFlight: maxInFlight, maxPayloadSize: maxPayloadSize, logger: logger)
    }

    init(serve: Serve, maxInFlight: Int, maxPayloadSize: Int, firstFrameTimeout: Duration? = nil, logger: Logger) {
        self.serve = serve
        self.maxInFlight = maxInFlight
        self.maxPayloadSize = maxPayloadSize
        self.firstFrameTimeout = firstFrameTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.logger[metadataKey: "peer"] = "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"
        if let firstFrameTimeout {
            // A connection that never says anything valid only holds a slot: close it.
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            self.firstFrameTimer = context.eventLoop.scheduleTask(in: TimeAmount(firstFrameTimeout)) {
                this.value.closeForProtocolError(
                    context: bound.value, reason: "no valid frame within \(firstFrameTimeout)")
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.firstFrameTimer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closed else { return }
        self.firstFrameTimer?.cancel()
        self.firstFrameTimer = nil
        let frame = Self.unwrapInboundIn(data)
        guard !frame.isResponse else {
            self.closeForProtocolError(context: context, reason: "peer sent a response frame as a request")
            return
        }
        if self.inFlight < self.maxInFlight {
            self.start(frame, context: context)
        } else {
            self.waiting.append(frame)
        }
    }

    func read(context: ChannelHandlerContext) {
        if self.mayRead(context: context) {
            context.read()
        } else {
            self.readHeldBack = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.resumeReadingIfPossible(context: context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.firstFrameTimer?.cancel()
        self.closed = true
        self.waiting.removeAll()
        // Nobody can receive these replies any more; handlers that honour cancellation stop early.
        for task in self.running.values { task.cancel() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !self.closed else { return }
        if error is FrameDecodingError || error is ByteToMessageDecoderError {
            self.closeForProtocolError(context: context, reason: "\(error)")
        } else {
            self.logger.debug("closing inter-node connection after error", metadata: ["error": "\(error)"])
            self.closed = true
            context.close(promise: nil)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is DrainConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        self.draining = true
        self.closeIfDrained(context: context)
        promise?.succeed()
    }

    private func mayRead(context: ChannelHandlerContext) -> Bool {
        !self.draining && self.inFlight < self.maxInFlight && self.waiting.isEmpty && context.channel.isWritable
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        if self.readHeldBack && self.mayRead(context: context) {
            self.readHeldBack = false
            context.read()
        }
    }

    private func start(_ request: Frame, context: ChannelHandlerContext) {
        self.inFlight += 1
        let eventLoop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        let key = self.nextTaskKey
        self.nextTaskKey &+= 1
        let handler: WireServer.Handler
        switch self.serve {
        case .respond(let responder):
            let requestId = request.requestId
            responder(request, eventLoop) { response in
                if eventLoop.inEventLoop {
                    this.value.finish(taskKey: key, requestId: requestId, response: response)
                } else {
                    eventLoop.execute { this.value.finish(taskKey: key, requestId: requestId, response: response) }
                }
            }
            return
        case .task(let async):
            handler = async
        }
        // `finish` runs on this event loop, so it always finds the task registered below.
        self.running[key] = Task {
            let response = await handler(request)
            eventLoop.execute { this.value.finish(taskKey: key, requestId: request.requestId, response: response) }
        }
    }

    private func finish(taskKey: Int, requestId: UInt64, response: Frame) {
        self.inFlight -= 1
        self.running[taskKey] = nil
        guard let context, !self.closed else { return }
        var reply = response
        reply.requestId = requestId
        reply.flags |= FrameFlag.response
        if reply.payload.readableBytes > self.maxPayloadSize {
            self.logger.error(
                "inter-node response too large, replying with an error",
                metadata: ["type": "\(reply.type)", "bytes": "\(reply.payload.readableBytes)"]
            )
            reply.flags |= FrameFlag.error
            reply.payload = ByteBuffer(string: "response of \(reply.payload.readableBytes) bytes exceeds the limit")
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.write(Self.wrapOutboundOut(reply), promise: written)
        self.lastWrite = written.futureResult
        self.scheduleFlush(context: context)

        while self.inFlight < self.maxInFlight, let next = self.waiting.popFirst() {
            self.start(next, context: context)
        }
        self.resumeReadingIfPossible(context: context)
        self.closeIfDrained(context: context)
    }

    /// Coalesces the flushes of replies that complete close together into one syscall.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            this.value.flushScheduled = false
            this.value.context?.flush()
        }
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        guard self.draining, !self.closed, self.inFlight == 0, self.waiting.isEmpty else { return }
        self.closed = true
        context.flush()
        let channel = context.channel
        if let lastWrite = self.lastWrite {
            lastWrite.whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    private func closeForProtocolError(context: ChannelHandlerContext, reason: String) {
        guard !self.closed else { return }
        self.logger.warning("closing inter-node connection: protocol error", metadata: ["reason": "\(reason)"])
        self.closed = true
        self.waiting.removeAll()
        context.close(promise: nil)
    }
}
