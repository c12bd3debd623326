public import NIOCore

/// Asks a node for up to `limit` of its live keys of a collection, sorted, strictly after `after`.
public struct ListKeys: WireMessage, Equatable {
    public static let type = MessageType.listKeys
    public var collection: String
    public var after: [UInt8]?
    public var limit: UInt32

    /// Creates a request.
    public init(collection: String, after: [UInt8]?, limit: UInt32) {
        self.collection = collection
        self.after = after
        self.limit = limit
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(collection)
        buffer.writeOptionalField(after)
        buffer.writeInteger(limit)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
        after = try buffer.readOptionalBytesField("after")
        limit = try buffer.readU32("limit")
    }
}

/// A node's page of keys, sorted ascending.
public struct ListKeysReply: WireMessage, Equatable {
    public static let type = MessageType.listKeys
    public var keys: [[UInt8]]

    /// Creates a reply.
    public init(keys: [[UInt8]]) { self.keys = keys }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(keys.count))
        for key in keys { buffer.writeField(key) }
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        let count = try buffer.readCount("key count")
        keys = []
        keys.reserveCapacity(count)
        for _ in 0..<count { keys.append(try buffer.readBytesField("key")) }
    }
}

/// Drops a collection (all its keys) on the receiving node.
public struct DropCollection: WireMessage, Equatable {
    public static let type = MessageType.dropCollection
    public var collection: String

    /// Creates a request.
    public init(collection: String) { self.collection = collection }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeField(collection) }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
    }
}

/// The collection is gone on that node (or never existed there).
public struct DropCollectionReply: WireMessage, Equatable {
    public static let type = MessageType.dropCollection

    /// Creates an acknowledgement.
    public init() {}

    public func encode(into buffer: inout ByteBuffer) {}

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {}
}
