import NIOCore
import Testing

@testable import Wire

@Suite(.timeLimit(.minutes(1)))
struct WireHandshakeTests {
    let secret = Array("a-cluster-secret-of-some-length".utf8)

    /// Runs both sides to the end, delivering each side's bytes to the other; returns their last actions.
    func run(_ client: inout WireHandshake, _ server: inout WireHandshake, clientExtra: [UInt8] = [])
        -> (client: WireHandshake.Action?, server: WireHandshake.Action?)
    {
        var toServer = client.hello
        var toClient = server.hello
        var last: (client: WireHandshake.Action?, server: WireHandshake.Action?) = (nil, nil)
        for _ in 0..<4 {
            let serverActions = server.receive(ByteBuffer(bytes: toServer))
            let clientActions = client.receive(ByteBuffer(bytes: toClient))
            toServer = []
            toClient = []
            for action in clientActions {
                if case .send(let bytes) = action { toServer += bytes } else { last.client = action }
            }
            for action in serverActions {
                if case .send(let bytes) = action { toClient += bytes } else { last.server = action }
            }
            if case .established = last.client, !clientExtra.isEmpty {
                toServer += clientExtra
            }
        }
        return last
    }

    @Test func sidesWithTheSameSecret_establish_andPassOnTheFirstFrameBytes() {
        var client = WireHandshake(role: .client, secret: secret, nonce: WireHandshake.randomNonce())
        var server = WireHandshake(role: .server, secret: secret, nonce: WireHandshake.randomNonce())
        // The client's first frame may arrive in the same read as its proof.
        var toServer = client.hello
        let serverHello = server.hello
        let first = server.receive(ByteBuffer(bytes: toServer))
        guard case .send(let serverProof)? = first.first else {
            Issue.record("the server sent no proof: \(first)")
            return
        }
        let clientActions = client.receive(ByteBuffer(bytes: serverHello + serverProof))
        guard case .send(let clientProof) = clientActions[0], case .established = clientActions[1] else {
            Issue.record("the client did not accept the server: \(clientActions)")
            return
        }
        toServer = clientProof + [1, 2, 3]
        #expect(server.receive(ByteBuffer(bytes: toServer)) == [.established(leftover: ByteBuffer(bytes: [1, 2, 3]))])
    }

    @Test func aWrongSecret_isRefusedByBothSides() {
        var client = WireHandshake(
            role: .client, secret: Array("another-secret-entirely".utf8), nonce: WireHandshake.randomNonce())
        var server = WireHandshake(role: .server, secret: secret, nonce: WireHandshake.randomNonce())
        let last = run(&client, &server)
        guard case .refuse = last.server, case .refuse = last.client else {
            Issue.record("expected both sides to refuse, got \(last)")
            return
        }
    }

    /// A server's proof sent back to it (a reflection) is not a client's proof.
    @Test func aReflectedProof_isRefused() {
        var server = WireHandshake(role: .server, secret: secret, nonce: WireHandshake.randomNonce())
        var mirror = WireHandshake(role: .server, secret: secret, nonce: WireHandshake.randomNonce())
        let last = run(&mirror, &server)
        guard case .refuse = last.server else {
            Issue.record("a server accepted a server's proof: \(last)")
            return
        }
    }

    @Test(arguments: [
        Array("GET / HTTP/1.1\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 40), [UInt8](repeating: 0, count: 80),
    ])
    func bytesThatAreNotAHandshake_areRefused(garbage: [UInt8]) {
        var server = WireHandshake(role: .server, secret: secret, nonce: WireHandshake.randomNonce())
        let actions = server.receive(ByteBuffer(bytes: garbage))
        #expect(actions.contains { if case .refuse = $0 { true } else { false } })
    }

    @Test func clientAndServerWithTheSecret_talk_andAClientWithoutItIsRefused() async throws {
        let configuration = WireServerConfiguration(drainTimeout: .milliseconds(200), secret: secret)
        try await withServer(configuration: configuration, handler: echo()) { server, address in
            try await withClient(address, configuration: WireClientConfiguration(secret: secret)) { client in
                let reply = try await client.request(type: 7, payload: ByteBuffer(integer: 42), timeout: .seconds(5))
                #expect(reply.payload.getInteger(at: reply.payload.readerIndex, as: UInt64.self) == 42)
            }
            let wrong = WireClientConfiguration(secret: Array("not-the-cluster-secret".utf8))
            for configuration in [WireClientConfiguration(), wrong] {
                try await withClient(address, configuration: configuration) { client in
                    await #expect(throws: (any Error).self) {
                        _ = try await client.request(type: 7, payload: ByteBuffer(integer: 1), timeout: .seconds(5))
                    }
                }
            }
        }
    }
}
