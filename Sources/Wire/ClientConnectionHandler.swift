import Logging
import NIOCore

/// The requests outstanding on one outbound connection; lives on the channel's event loop.
///
/// Requests are written while the channel is writable and fewer than `maxInFlight` await replies;
/// the rest wait in a queue of at most `maxQueued`, beyond which callers get ``WireError/overloaded``
/// instead of the client buffering without bound. Every request carries its own deadline.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private struct Outstanding {
        var promise: EventLoopPromise<Frame>
        var timeout: Scheduled<Void>?
        var written: Bool
    }

    private let maxInFlight: Int
    private let maxQueued: Int
    private var logger: Logger

    private var context: ChannelHandlerContext?
    private var outstanding: [UInt64: Outstanding] = [:]
    /// Request ids in submission order that wait to be written; entries whose request ended are skipped.
    private var queue = CircularBuffer<Frame>()
    private var queuedCount = 0
    private var writtenCount = 0
    private var flushScheduled = false
    /// Set once the connection is unusable; later submissions fail with it.
    private var failure: WireError?

    init(maxInFlight: Int, maxQueued: Int, logger: Logger) {
        self.maxInFlight = maxInFlight
        self.maxQueued = maxQueued
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.failAll(.connectionClosed)
    }

    /// Sends `request` (its id already assigned) and completes `promise` with the reply or a ``WireError``.
    func submit(_ request: Frame, promise: EventLoopPromise<Frame>, deadline: NIODeadline) {
        guard let context, self.failure == nil else {
            promise.fail(self.failure ?? .connectionClosed)
            return
        }
        let writeNow = self.queuedCount == 0 && self.mayWrite(context: context)
        guard writeNow || self.queuedCount < self.maxQueued else {
            promise.fail(WireError.overloaded)
            return
        }
        let id = request.requestId
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(deadline: deadline) { this.value.end(id, with: WireError.timeout) }
        self.outstanding[id] = Outstanding(promise: promise, timeout: timeout, written: false)
        if writeNow {
            self.write(request, context: context)
        } else {
            self.queue.append(request)
            self.queuedCount += 1
        }
    }

    /// Ends a request early (its caller was cancelled).
    func cancel(_ requestId: UInt64) {
        self.end(requestId, with: CancellationError())
    }

    /// Fails everything outstanding with ``WireError/shutdown`` and closes the connection.
    func shutDown() {
        self.failAll(.shutdown)
        self.context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = Self.unwrapInboundIn(data)
        guard reply.isResponse else {
            self.logger.warning(
                "closing inter-node connection: protocol error",
                metadata: ["reason": "peer sent a request on a client connection"])
            self.failAll(.connectionClosed)
            context.close(promise: nil)
            return
        }
        guard let request = self.outstanding[reply.requestId], request.written else {
            // The request timed out or was cancelled meanwhile; its late reply is dropped.
            self.logger.trace("dropping reply to a request no longer waiting", metadata: ["id": "\(reply.requestId)"])
            return
        }
        self.outstanding[reply.requestId] = nil
        request.timeout?.cancel()
        self.writtenCount -= 1
        request.promise.succeed(reply)
        self.writeQueued(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.writeQueued(context: context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.failure == nil {
            if error is FrameDecodingError || error is ByteToMessageDecoderError {
                self.logger.warning("closing inter-node connection: protocol error", metadata: ["reason": "\(error)"])
            } else {
                self.logger.debug("closing inter-node connection after error", metadata: ["error": "\(error)"])
            }
        }
        self.failAll(.connectionClosed)
        context.close(promise: nil)
    }

    private func mayWrite(context: ChannelHandlerContext) -> Bool {
        context.channel.isWritable && self.writtenCount < self.maxInFlight
    }

    private func write(_ request: Frame, context: ChannelHandlerContext) {
        self.outstanding[request.requestId]?.written = true
        self.writtenCount += 1
        context.write(Self.wrapOutboundOut(request), promise: nil)
        self.scheduleFlush(context: context)
    }

    private func writeQueued(context: ChannelHandlerContext) {
        while self.queuedCount > 0 && self.mayWrite(context: context), let request = self.queue.popFirst() {
            guard let entry = self.outstanding[request.requestId], !entry.written else { continue }
            self.queuedCount -= 1
            self.write(request, context: context)
        }
        if self.queuedCount == 0 { self.queue.removeAll(keepingCapacity: true) }
    }

    /// Coalesces the flushes of requests submitted close together into one syscall.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            this.value.flushScheduled = false
            this.value.context?.flush()
        }
    }

    private func end(_ requestId: UInt64, with error: any Error) {
        guard let request = self.outstanding.removeValue(forKey: requestId) else { return }
        request.timeout?.cancel()
        if request.written {
            // The peer still owes a reply; stop counting it so that a silent peer cannot wedge the connection.
            self.writtenCount -= 1
        } else {
            self.queuedCount -= 1
        }
        request.promise.fail(error)
        if let context { self.writeQueued(context: context) } else if self.queuedCount == 0 { self.queue.removeAll() }
    }

    private func failAll(_ error: WireError) {
        if self.failure == nil { self.failure = error }
        let ended = self.outstanding
        self.outstanding.removeAll()
        self.queue.removeAll()
        self.queuedCount = 0
        self.writtenCount = 0
        for request in ended.values {
            request.timeout?.cancel()
            request.promise.fail(error)
        }
    }
}
