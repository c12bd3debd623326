import NIOCore

/// One benchmark connection: sends a request, waits for its answer, records it, sends the next (closed loop),
/// or sends at intended times and measures from them (open loop). Runs entirely on its event loop.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What does not change between slices.
    struct Config: Sendable {
        var seed: UInt64
        var hostHeader: String
        var collection: String
        var keys: KeyChooser
        var valueSize: Int
        /// Send updates without the causal context last read for the key (YCSB's blind update).
        var blindUpdates: Bool
    }

    private struct InFlight {
        var operation: Operation
        var key: Int
        var intended: UInt64
    }

    private let config: Config
    private let progress: ProgressCounter
    private var rng: SplitMix64
    private let value: [UInt8]
    private var context: ChannelHandlerContext?
    private var parser = ResponseParser()
    private var pending: ByteBuffer?

    private var plan: SlicePlan?
    private var readHead: [UInt8] = []
    private var writeHead: [UInt8] = []
    private var writeTail: [UInt8] = []
    /// The causal context last read per key: an update carries it, so it supersedes what was read instead of
    /// adding a sibling, as a dhrt client should write.
    private var contexts: [Int: [UInt8]] = [:]
    private var pathPrefix: [UInt8] = []
    private var stats = OperationStats()
    private var measured = 0
    private var nextLoadKey = 0
    private var nextIntended: UInt64 = 0
    private var inFlight: InFlight?
    private var finished: EventLoopPromise<Void>?
    private(set) var isActive = true

    init(config: Config, progress: ProgressCounter) {
        self.config = config
        self.progress = progress
        rng = SplitMix64(seed: config.seed)
        var valueRNG = SplitMix64(seed: config.seed ^ 0x5EED)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        value = (0..<config.valueSize).map { _ in alphabet[Int(valueRNG.next() % UInt64(alphabet.count))] }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Starts a slice; `promise` succeeds when this connection has stopped and nothing is in flight.
    func begin(_ plan: SlicePlan, promise: EventLoopPromise<Void>) {
        guard isActive, context != nil else {
            promise.succeed()
            return
        }
        self.plan = plan
        finished = promise
        measured = 0
        let host = " HTTP/1.1\r\nHost: \(config.hostHeader)\r\n"
        pathPrefix = Array("/v1/kv/\(config.collection)/user".utf8)
        readHead = Array((host + plan.readHeaders + "\r\n").utf8)
        writeHead = Array((host + plan.writeHeaders).utf8)
        writeTail = Array("Content-Length: \(value.count)\r\n\r\n".utf8) + value
        if case .load(let first, _, _) = plan.mode { nextLoadKey = first }
        // Open loop: connections start at random points of their first interval, not all at once.
        nextIntended = monotonicNanos() + (plan.intervalNanos.map { rng.next() % max($0, 1) } ?? 0)
        issueNext()
    }

    /// Hands over what was measured since the last call.
    func takeStats() -> OperationStats {
        defer { stats = OperationStats() }
        return stats
    }

    /// Gives up on a request that does not come back: counts a timeout and closes the connection.
    func abort() {
        guard plan != nil else { return }
        if inFlight != nil { stats.errors["timeout", default: 0] += 1 }
        inFlight = nil
        context?.close(promise: nil)
        finish()
    }

    private func finish() {
        plan = nil
        let promise = finished
        finished = nil
        promise?.succeed()
    }

    private func issueNext() {
        guard let plan, let context else { return finish() }
        let now = monotonicNanos()
        let intended: UInt64
        if let interval = plan.intervalNanos {
            if let stopAt = plan.stopAt, nextIntended >= stopAt { return finish() }
            if nextIntended > now {
                _ = context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(nextIntended)) {
                    self.issueNext()
                }
                return
            }
            intended = nextIntended
            nextIntended += interval
        } else {
            intended = now
        }
        if let stopAt = plan.stopAt, now >= stopAt { return finish() }
        if let limit = plan.opsLimit, measured >= limit { return finish() }

        let operation: Operation
        let key: Int
        switch plan.mode {
        case .load(_, let stride, let end):
            guard nextLoadKey < end else { return finish() }
            key = nextLoadKey
            nextLoadKey += stride
            operation = .update
        case .run(let workload):
            operation = workload.isRead(&rng) ? .read : .update
            key = config.keys.next(&rng)
        }
        var buffer = context.channel.allocator.buffer(
            capacity: 128 + pathPrefix.count + writeHead.count + writeTail.count)
        buffer.writeStaticString(operation == .read ? "GET " : "PUT ")
        buffer.writeBytes(pathPrefix)
        buffer.writeDecimal(UInt64(FNV.hash64(Int64(key))))
        if operation == .read {
            buffer.writeBytes(readHead)
        } else {
            buffer.writeBytes(writeHead)
            if let causal = contexts.removeValue(forKey: key) {
                buffer.writeStaticString("X-Dhrt-Context: ")
                buffer.writeBytes(causal)
                buffer.writeStaticString("\r\n")
            }
            buffer.writeBytes(writeTail)
        }
        inFlight = InFlight(operation: operation, key: key, intended: intended)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        do {
            while pending != nil, let response = try parser.next(&pending!) {
                complete(response)
            }
        } catch {
            stats.errors["bad response", default: 0] += 1
            context.close(promise: nil)
        }
        if pending?.readableBytes == 0 { pending = nil }
    }

    private func complete(_ response: ResponseParser.Response) {
        guard let flight = inFlight else {
            stats.errors["unexpected response", default: 0] += 1
            context?.close(promise: nil)
            return
        }
        inFlight = nil
        let now = monotonicNanos()
        let success = (200..<300).contains(response.status) || response.status == 300
        if flight.operation == .read, !config.blindUpdates, let causal = response.context {
            contexts[flight.key] = causal
        }
        progress.add(failed: !success)
        if let plan, flight.intended >= plan.measureFrom, plan.stopAt.map({ now <= $0 }) ?? true {
            measured += 1
            if success {
                stats.ok += 1
                stats.record(flight.operation, micros: (now - flight.intended) / 1000)
                if response.status == 300 { stats.notable["300", default: 0] += 1 }
            } else {
                stats.errors[String(response.status), default: 0] += 1
            }
        }
        if response.closes {
            context?.close(promise: nil)
        } else {
            issueNext()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        if inFlight != nil, plan != nil { stats.errors["connection", default: 0] += 1 }
        inFlight = nil
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension ByteBuffer {
    /// Appends the decimal digits of `value` without creating a String.
    @inline(__always)
    mutating func writeDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var rest = value
            var index = raw.count
            repeat {
                index -= 1
                raw[index] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
            } while rest > 0
            return raw.count - index
        }
        withUnsafeBytes(of: &digits) { raw in
            _ = writeBytes(UnsafeRawBufferPointer(rebasing: raw[(raw.count - count)...]))
        }
    }
}
