import Crypto
public import NIOCore

/// The challenge–response that opens an inter-node connection when the cluster has a secret, before any frame.
///
/// Each side sends `DHRTAUTH | version u8 | nonce (32 bytes)` at once, then, having read the other's nonce,
/// `HMAC-SHA256(secret, "dhrt-handshake-1" | sender role | receiver's nonce | sender's nonce)`. A side accepts the
/// connection once the other's proof checks out (compared in constant time). Fresh nonces on both sides mean a
/// recorded proof is worth nothing; the role byte means a proof cannot be reflected back to its sender.
/// This is a state machine: bytes in, actions out, no IO.
public struct WireHandshake: Sendable {
    /// Which end of the connection this side is.
    public enum Role: UInt8, Sendable {
        case client = 0x43  // "C"
        case server = 0x53  // "S"

        var peer: Role { self == .client ? .server : .client }
    }

    public enum Action: Equatable, Sendable {
        /// Write these bytes to the peer.
        case send([UInt8])
        /// The peer proved the secret; `leftover` are bytes after the handshake (the first frames).
        case established(leftover: ByteBuffer)
        /// Close the connection and log why.
        case refuse(String)
    }

    static let magic = Array("DHRTAUTH".utf8)
    static let version: UInt8 = 1
    static let nonceSize = 32
    static let helloSize = magic.count + 1 + nonceSize
    static let proofSize = 32
    static let label = Array("dhrt-handshake-1".utf8)

    private enum State: Sendable {
        case awaitingHello
        case awaitingProof(peerNonce: [UInt8])
        case finished
    }

    let role: Role
    private let key: SymmetricKey
    private let nonce: [UInt8]
    private var state = State.awaitingHello
    private var buffered = ByteBuffer()

    /// A side of the handshake; `nonce` MUST be fresh random bytes (``randomNonce()``), one per connection.
    public init(role: Role, secret: [UInt8], nonce: [UInt8]) {
        precondition(nonce.count == Self.nonceSize)
        self.role = role
        self.key = SymmetricKey(data: secret)
        self.nonce = nonce
    }

    public static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// What to send as soon as the connection is open.
    public var hello: [UInt8] { Self.magic + [Self.version] + nonce }

    /// Feeds bytes from the peer.
    public mutating func receive(_ bytes: ByteBuffer) -> [Action] {
        var bytes = bytes
        buffered.writeBuffer(&bytes)
        var actions: [Action] = []
        while true {
            switch state {
            case .finished:
                return actions
            case .awaitingHello:
                guard buffered.readableBytes >= Self.helloSize else { return actions }
                let hello = buffered.readBytes(length: Self.helloSize)!
                guard Array(hello[0..<Self.magic.count]) == Self.magic else {
                    state = .finished
                    return actions + [.refuse("the peer did not open with the dhrt handshake")]
                }
                guard hello[Self.magic.count] == Self.version else {
                    state = .finished
                    return actions + [.refuse("the peer speaks handshake version \(hello[Self.magic.count])")]
                }
                let peerNonce = Array(hello[(Self.magic.count + 1)...])
                guard peerNonce != nonce else {
                    state = .finished
                    return actions + [.refuse("the peer echoed this side's nonce")]
                }
                actions.append(.send(proof(by: role, receiverNonce: peerNonce, senderNonce: nonce)))
                state = .awaitingProof(peerNonce: peerNonce)
            case .awaitingProof(let peerNonce):
                guard buffered.readableBytes >= Self.proofSize else { return actions }
                let received = buffered.readBytes(length: Self.proofSize)!
                let message = Self.label + [role.peer.rawValue] + nonce + peerNonce
                state = .finished
                guard HMAC<SHA256>.isValidAuthenticationCode(received, authenticating: message, using: key) else {
                    return actions + [.refuse("the peer does not know the cluster secret")]
                }
                let leftover = buffered
                buffered = ByteBuffer()
                return actions + [.established(leftover: leftover)]
            }
        }
    }

    private func proof(by sender: Role, receiverNonce: [UInt8], senderNonce: [UInt8]) -> [UInt8] {
        let message = Self.label + [sender.rawValue] + receiverNonce + senderNonce
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}

/// Runs a ``WireHandshake`` at the front of a connection's pipeline; passes bytes on only once the peer has
/// proved the secret, then leaves the pipeline. `established` completes then, or fails when the peer is refused
/// or stays silent past the timeout (the connection is closed).
final class WireHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var handshake: WireHandshake
    private let timeout: TimeAmount
    private let established: EventLoopPromise<Void>
    private let onRefuse: @Sendable (String) -> Void
    private var timer: Scheduled<Void>?
    private var done = false

    init(
        handshake: WireHandshake, timeout: Duration, established: EventLoopPromise<Void>,
        onRefuse: @escaping @Sendable (String) -> Void
    ) {
        self.handshake = handshake
        self.timeout = TimeAmount(timeout)
        self.established = established
        self.onRefuse = onRefuse
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil, !done else { return }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            this.value.refuse("no handshake within \(this.value.timeout)", context: bound.value)
        }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: handshake.hello)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        for action in handshake.receive(unwrapInboundIn(data)) {
            switch action {
            case .send(let bytes):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
            case .refuse(let reason):
                refuse(reason, context: context)
            case .established(let leftover):
                done = true
                timer?.cancel()
                established.succeed()
                if leftover.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(leftover)) }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        }
    }

    /// Completes when the peer has proved the secret; fails when it is refused or the connection closes first.
    var establishedFuture: EventLoopFuture<Void> { established.futureResult }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()  // a connect that failed never became active
    }

    private func abandon() {
        guard !done else { return }
        done = true
        timer?.cancel()
        established.fail(WireError.connectionClosed)
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        timer?.cancel()
        onRefuse(reason)
        established.fail(WireError.handshakeRefused(reason))
        context.close(promise: nil)
    }
}
