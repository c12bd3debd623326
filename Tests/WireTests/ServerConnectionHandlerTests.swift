import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

@Suite struct ServerConnectionHandlerTests {
    private func serverChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(FrameDecoder()),
            MessageToByteHandler(FrameEncoder()),
            ServerConnectionHandler(handler: echo(), maxInFlight: 4, maxPayloadSize: 1024, logger: testLogger)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }

    @Test func undecodableBytes_closeTheConnection() throws {
        let channel = try self.serverChannel()
        try channel.writeInbound(ByteBuffer(string: "hello, is this HTTP?"))
        #expect(!channel.isActive)
    }

    @Test func responseFrameSentAsRequest_closesTheConnection() throws {
        let channel = try self.serverChannel()
        var bytes = ByteBuffer()
        try FrameEncoder().encode(data: Frame(type: 1, flags: FrameFlag.response, payload: ByteBuffer()), out: &bytes)
        try channel.writeInbound(bytes)
        #expect(!channel.isActive)
    }
}
