import NIOCore
import NIOTLS

/// Sits just behind NIOSSL's handler and reports how the TLS handshake ended: `done` succeeds when it
/// completes and fails when it fails, times out or the connection closes first (the connection is then
/// closed). A failure is told to `onFailure` once. Leaves the pipeline after the handshake.
final class TLSHandshakeWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let done: EventLoopPromise<Void>
    private let onFailure: @Sendable (String) -> Void
    private var timer: Scheduled<Void>?
    private var finished = false

    init(timeout: Duration, done: EventLoopPromise<Void>, onFailure: @escaping @Sendable (String) -> Void) {
        self.timeout = TimeAmount(timeout)
        self.done = done
        self.onFailure = onFailure
    }

    /// Completes when the handshake has; fails with ``WireError/handshakeRefused(_:)`` when it failed.
    var future: EventLoopFuture<Void> { done.futureResult }

    func handlerAdded(context: ChannelHandlerContext) {
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            this.value.fail("no TLS handshake within \(this.value.timeout)", context: bound.value)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if !finished {
            finished = true
            done.fail(WireError.connectionClosed)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        guard !finished, let event = event as? TLSUserEvent, case .handshakeCompleted = event else { return }
        finished = true
        timer?.cancel()
        done.succeed()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("TLS handshake failed: \(error)", context: context)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            timer?.cancel()
            done.fail(WireError.connectionClosed)
        }
        context.fireChannelInactive()
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        onFailure(reason)
        done.fail(WireError.handshakeRefused(reason))
        context.close(promise: nil)
    }
}
