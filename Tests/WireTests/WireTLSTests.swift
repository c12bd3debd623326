import LocalCA
import NIOCore
import NIOSSL
import Testing

@testable import Wire

/// Inter-node TLS between a real server and client on loopback, with certificates from `LocalCA`.
@Suite(.timeLimit(.minutes(1)))
struct WireTLSTests {
    let secret = Array("a-cluster-secret-of-some-length".utf8)

    /// Server and client contexts of one node certificate; with `trusting`, both ends require and verify a
    /// certificate from that CA (mutual TLS).
    static func contexts(_ ca: LocalCA, trusting root: LocalCA?) throws -> (
        server: NIOSSLContext, client: NIOSSLContext
    ) {
        let issued = try ca.issue(commonName: "node", hosts: ["127.0.0.1"])
        let chain = [
            NIOSSLCertificateSource.certificate(
                try NIOSSLCertificate(bytes: Array(try issued.certificatePEM().utf8), format: .pem))
        ]
        let key = NIOSSLPrivateKeySource.privateKey(
            try NIOSSLPrivateKey(bytes: Array(issued.keyPEM.utf8), format: .pem))
        var server = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chain
        client.privateKey = key
        for index in 0..<2 {
            var configuration = index == 0 ? server : client
            if let root {
                let anchor = try NIOSSLCertificate(bytes: Array(try root.certificatePEM().utf8), format: .pem)
                configuration.trustRoots = .certificates([anchor])
                configuration.certificateVerification = .noHostnameVerification
            } else {
                configuration.certificateVerification = .none
            }
            if index == 0 { server = configuration } else { client = configuration }
        }
        return (try NIOSSLContext(configuration: server), try NIOSSLContext(configuration: client))
    }

    @Test func mutualTLS_withTheSecretInside_carriesRequests() async throws {
        let ca = try LocalCA()
        let (serverTLS, clientTLS) = try Self.contexts(ca, trusting: ca)
        try await withServer(
            configuration: .init(drainTimeout: .milliseconds(200), secret: secret, tls: serverTLS), handler: echo()
        ) { _, address in
            try await withClient(address, configuration: .init(secret: secret, tls: clientTLS)) { client in
                let reply = try await within {
                    try await client.request(type: 7, payload: ByteBuffer(string: "over tls"), timeout: .seconds(5))
                }
                #expect(reply.type == 7)
                #expect(String(buffer: reply.payload) == "over tls")
            }
        }
    }

    @Test func aPeerWithACertificateFromAnotherCA_isRefused_andTheServerServesOthers() async throws {
        let ca = try LocalCA()
        let rogueCA = try LocalCA(name: "another CA")
        let (serverTLS, clientTLS) = try Self.contexts(ca, trusting: ca)
        // The rogue trusts the cluster's CA (so it accepts the server) but presents a certificate of its own.
        let (_, rogueTLS) = try Self.contexts(rogueCA, trusting: ca)
        try await withServer(
            configuration: .init(drainTimeout: .milliseconds(200), secret: secret, tls: serverTLS), handler: echo()
        ) { server, address in
            try await withClient(address, configuration: .init(secret: secret, tls: rogueTLS)) { rogue in
                await #expect(throws: WireError.self) {
                    try await within {
                        try await rogue.request(type: 1, payload: ByteBuffer(), timeout: .seconds(3))
                    }
                }
            }
            try await eventually { server.connectionCount == 0 }
            try await withClient(address, configuration: .init(secret: secret, tls: clientTLS)) { client in
                let reply = try await within {
                    try await client.request(type: 2, payload: ByteBuffer(string: "still here"), timeout: .seconds(5))
                }
                #expect(String(buffer: reply.payload) == "still here")
            }
        }
    }

    @Test(arguments: [false, true])
    func aPlainPeer_getsNoAnswerFromATLSServer(withSecret: Bool) async throws {
        let ca = try LocalCA()
        let (serverTLS, _) = try Self.contexts(ca, trusting: ca)
        let peerSecret = withSecret ? secret : nil
        try await withServer(
            configuration: .init(drainTimeout: .milliseconds(200), secret: peerSecret, tls: serverTLS),
            handler: echo()
        ) { server, address in
            try await withClient(address, configuration: .init(secret: peerSecret)) { plain in
                await #expect(throws: WireError.self) {
                    try await within {
                        try await plain.request(type: 1, payload: ByteBuffer(), timeout: .seconds(3))
                    }
                }
            }
            try await eventually { server.connectionCount == 0 }
        }
    }

    @Test func aTLSPeer_getsNoAnswerFromAPlainServer() async throws {
        let ca = try LocalCA()
        let (_, clientTLS) = try Self.contexts(ca, trusting: ca)
        try await withServer(handler: echo()) { _, address in
            try await withClient(address, configuration: .init(tls: clientTLS)) { client in
                await #expect(throws: WireError.self) {
                    try await within {
                        try await client.request(type: 1, payload: ByteBuffer(), timeout: .seconds(3))
                    }
                }
            }
        }
    }
}

extension WireTLSTests {
    @Test func withoutACA_tlsStillEncrypts_andAcceptsAnyCertificate() async throws {
        let (serverTLS, _) = try Self.contexts(try LocalCA(), trusting: nil)
        let (_, clientTLS) = try Self.contexts(try LocalCA(name: "unrelated"), trusting: nil)
        try await withServer(configuration: .init(drainTimeout: .milliseconds(200), tls: serverTLS), handler: echo()) {
            _, address in
            try await withClient(address, configuration: .init(tls: clientTLS)) { client in
                let reply = try await within {
                    try await client.request(type: 3, payload: ByteBuffer(string: "unverified"), timeout: .seconds(5))
                }
                #expect(String(buffer: reply.payload) == "unverified")
            }
        }
    }
}
