import NIOCore

/// One RESP connection: runs its commands one after another, in the order they came, and writes each answer in
/// turn, so that pipelined commands are answered in order (and a GET after a SET on one connection sees it).
///
/// Answers of the commands decoded from one read go out in one write. While a command waits for its quorum,
/// later ones queue here; past `maxQueued`, reading from the socket pauses.
final class RESPConnection: ChannelDuplexHandler {
    typealias InboundIn = RESPCommand
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxQueued = 1024

    private let commands: RESPCommands
    private let metrics: RESPMetrics
    private let progress: RESPProgress
    private let partialTimeout: TimeAmount
    private var session: RESPSession
    private var waiting = CircularBuffer<RESPCommand>()
    private var busy = false
    private var readHeld = false
    /// Answers not yet written.
    private var out = ByteBuffer()
    /// The protocol error owed once the commands before it are answered.
    private var failure: RESPProtocolError?
    private var closing = false
    /// Inside `run`: an answer completing at once is taken up by its loop rather than a nested one (a deep
    /// pipeline of such commands would otherwise nest as deep).
    private var running = false
    private var attached: ChannelHandlerContext?
    private var check: RepeatedTask?

    init(
        commands: RESPCommands, metrics: RESPMetrics, session: RESPSession, progress: RESPProgress,
        partialTimeout: TimeAmount
    ) {
        self.commands = commands
        self.metrics = metrics
        self.session = session
        self.progress = progress
        self.partialTimeout = partialTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        attached = context
        out = context.channel.allocator.buffer(capacity: 256)
        // A client that sends part of a command and then nothing holds memory and a slot; idle connections
        // between commands stay open, as in Redis (`timeout 0`), which pooled clients expect.
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            this.value.onTick()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        attached = nil
        check?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        closing = true
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        waiting.append(Self.unwrapInboundIn(data))
        if !busy { run(context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if waiting.count >= Self.maxQueued {
            readHeld = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? RESPProtocolError else {
            context.close(promise: nil)
            return
        }
        guard failure == nil, !closing else { return }
        failure = error
        if !busy {
            run(context)
            flush(context)
        }
    }

    /// Runs what waits until a command must wait for a quorum.
    private func run(_ context: ChannelHandlerContext) {
        running = true
        defer { running = false }
        while !busy, !closing, let command = waiting.popFirst() {
            let started = ContinuousClock.now
            let name = command.name
            switch commands.execute(command, named: name, &session, on: context.eventLoop) {
            case .now(let value):
                answer(value, name: name, started: started)
            case .closing(let value):
                answer(value, name: name, started: started)
                close(context)
            case .later(let future):
                busy = true
                let this = NIOLoopBound(self, eventLoop: context.eventLoop)
                future.hop(to: context.eventLoop).whenSuccess { value in
                    this.value.finished(value, name: name, started: started)
                }
            }
        }
        guard !busy, !closing else { return }
        if let failure, waiting.isEmpty {
            out.writeRESP(.error("ERR protocol error: \(failure.description)"), version: session.version)
            close(context)
            return
        }
        if readHeld, waiting.count < Self.maxQueued {
            readHeld = false
            context.read()
        }
    }

    private func finished(_ value: RESPValue, name: String, started: ContinuousClock.Instant) {
        guard let context = attached, !closing else { return }
        busy = false
        answer(value, name: name, started: started)
        guard !running else { return }
        run(context)
        flush(context)
    }

    private func answer(_ value: RESPValue, name: String, started: ContinuousClock.Instant) {
        out.writeRESP(value, version: session.version)
        if case .error = value {
            metrics.record(command: name, ok: false, duration: ContinuousClock.now - started)
        } else {
            metrics.record(command: name, ok: true, duration: ContinuousClock.now - started)
        }
    }

    private func flush(_ context: ChannelHandlerContext) {
        guard out.readableBytes > 0, context.channel.isActive else { return }
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
        out = context.channel.allocator.buffer(capacity: 256)
    }

    /// Writes what is owed, then closes; the rest of the input is not read.
    private func close(_ context: ChannelHandlerContext) {
        closing = true
        waiting.removeAll()
        let channel = context.channel
        let answers = out
        out = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(Self.wrapOutboundOut(answers)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func onTick() {
        guard let context = attached, !closing, !readHeld, let since = progress.partialSince else { return }
        if NIODeadline.now() - since > partialTimeout {
            out.writeRESP(.error("ERR timeout: a command was not received in full in time"), version: session.version)
            close(context)
        }
    }
}
