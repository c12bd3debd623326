public import NIOCore

/// Asks a fallback to hold `object` for `owner` (sloppy quorum): it stores the object durably as a hint, merged
/// with any hint it holds for the same key and owner, and replays it to the owner later as a ``ReplicaPut``.
public struct HintPut: WireMessage, Equatable {
    public static let type = MessageType.hintPut
    /// The replica the write was meant for.
    public var owner: String
    public var collection: String
    public var key: [UInt8]
    /// An encoded versioned object, as a ``ReplicaPut`` carries it.
    public var object: [UInt8]

    /// Creates a request.
    public init(owner: String, collection: String, key: [UInt8], object: [UInt8]) {
        self.owner = owner
        self.collection = collection
        self.key = key
        self.object = object
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(owner)
        buffer.writeField(collection)
        buffer.writeField(key)
        buffer.writeField(object)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        owner = try buffer.readStringField("owner")
        collection = try buffer.readStringField("collection")
        key = try buffer.readBytesField("key")
        object = try buffer.readBytesField("object")
    }
}

/// The fallback stored the hint durably (per its sync policy).
public struct HintPutReply: WireMessage, Equatable {
    public static let type = MessageType.hintPut

    /// Creates an acknowledgement.
    public init() {}

    public func encode(into buffer: inout ByteBuffer) {}

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {}
}
