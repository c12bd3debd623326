public import Coordinator
public import NIOCore

/// A message of the metadata log (Raft) between members of one cluster; its reply travels the same way.
public struct MetadataCall: WireMessage, Equatable {
    public static let type = MessageType.metadata
    public var sender: String
    /// The sender's cluster: a log never takes entries of another cluster (but a lone node being joined).
    public var clusterID: UInt64
    public var message: MetadataMessage

    public init(sender: String, clusterID: UInt64, message: MetadataMessage) {
        self.sender = sender
        self.clusterID = clusterID
        self.message = message
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(sender)
        buffer.writeInteger(clusterID)
        buffer.writeField(message.encoded())
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        sender = try buffer.readStringField("sender")
        guard let id = buffer.readInteger(as: UInt64.self) else { throw MessageDecodingError("truncated cluster id") }
        clusterID = id
        let body = try buffer.readBytesField("metadata message")
        do {
            message = try MetadataMessage.decode(body)
        } catch {
            throw MessageDecodingError("metadata message: \(error)")
        }
    }
}
