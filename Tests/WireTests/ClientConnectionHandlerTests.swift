import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

@Suite struct ClientConnectionHandlerTests {
    private struct Harness {
        let channel = EmbeddedChannel()
        let handler: ClientConnectionHandler

        init(maxInFlight: Int = 8, maxQueued: Int = 8) throws {
            self.handler = ClientConnectionHandler(maxInFlight: maxInFlight, maxQueued: maxQueued, logger: testLogger)
            try self.channel.pipeline.syncOperations.addHandler(self.handler)
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        }

        func submit(id: UInt64, timeout: TimeAmount = .seconds(5)) -> EventLoopFuture<Frame> {
            let promise = self.channel.eventLoop.makePromise(of: Frame.self)
            let deadline = self.channel.embeddedEventLoop.now + timeout
            self.handler.submit(
                Frame(type: 1, requestId: id, payload: ByteBuffer()), promise: promise, deadline: deadline)
            self.channel.embeddedEventLoop.run()  // runs the coalesced flush
            return promise.futureResult
        }

        func written() throws -> [UInt64] {
            var ids: [UInt64] = []
            while let frame = try self.channel.readOutbound(as: Frame.self) { ids.append(frame.requestId) }
            return ids
        }

        func reply(to id: UInt64, flags: UInt8 = FrameFlag.response) throws {
            try self.channel.writeInbound(Frame(type: 1, flags: flags, requestId: id, payload: ByteBuffer()))
        }
    }

    /// Holds a callback's result; everything here runs on the one embedded event loop.
    private final class Outcome: @unchecked Sendable {
        var result: Result<Frame, any Error>?
    }

    /// The future's result if it has completed, else nil.
    private func outcome(_ future: EventLoopFuture<Frame>) -> Result<Frame, any Error>? {
        let outcome = Outcome()
        future.whenComplete { outcome.result = $0 }
        return outcome.result
    }

    @Test func repliesComplete_theRequestWithTheirId_inAnyOrder() throws {
        let harness = try Harness()
        let first = harness.submit(id: 1)
        let second = harness.submit(id: 2)
        #expect(try harness.written() == [1, 2])
        try harness.reply(to: 2)
        #expect(self.outcome(first) == nil)
        #expect((try self.outcome(second)?.get())?.requestId == 2)
        try harness.reply(to: 1)
        #expect((try self.outcome(first)?.get())?.requestId == 1)
        _ = try harness.channel.finish()
    }

    @Test func requestsOverTheInFlightLimit_waitUntilAReplyMakesRoom() throws {
        let harness = try Harness(maxInFlight: 1)
        let first = harness.submit(id: 1)
        let second = harness.submit(id: 2)
        #expect(try harness.written() == [1])
        try harness.reply(to: 2)  // a reply to a request not yet sent is ignored
        #expect(self.outcome(second) == nil)
        try harness.reply(to: 1)
        harness.channel.embeddedEventLoop.run()
        #expect(self.outcome(first) != nil)
        #expect(try harness.written() == [2])
        try harness.reply(to: 2)
        #expect((try self.outcome(second)?.get())?.requestId == 2)
        _ = try harness.channel.finish()
    }

    @Test func requestWithoutReply_failsWithTimeout_andItsLateReplyIsDropped() throws {
        let harness = try Harness()
        let request = harness.submit(id: 7, timeout: .seconds(1))
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(throws: WireError.timeout) { try self.outcome(request)?.get() }
        try harness.reply(to: 7)
        #expect(harness.channel.isActive)
        _ = try harness.channel.finish()
    }

    @Test func queueOverItsBound_failsWithOverloaded() throws {
        let harness = try Harness(maxInFlight: 1, maxQueued: 1)
        _ = harness.submit(id: 1)
        _ = harness.submit(id: 2)
        let third = harness.submit(id: 3)
        #expect(throws: WireError.overloaded) { try self.outcome(third)?.get() }
        _ = try? harness.channel.finish()
    }

    @Test func requestFrameFromTheServer_closesTheConnection_andFailsOutstandingRequests() throws {
        let harness = try Harness()
        let request = harness.submit(id: 1)
        try harness.reply(to: 1, flags: 0)
        #expect(!harness.channel.isActive)
        #expect(throws: WireError.connectionClosed) { try self.outcome(request)?.get() }
    }

    @Test func connectionClosing_failsOutstandingRequests() throws {
        let harness = try Harness(maxInFlight: 1)
        let written = harness.submit(id: 1)
        let queued = harness.submit(id: 2)
        try harness.channel.close().wait()
        #expect(throws: WireError.connectionClosed) { try self.outcome(written)?.get() }
        #expect(throws: WireError.connectionClosed) { try self.outcome(queued)?.get() }
    }
}
