public import NIOCore

/// Asks a replica for its stored object of one key.
public struct ReplicaGet: WireMessage, Equatable {
    public static let type = MessageType.replicaGet
    public var collection: String
    public var key: [UInt8]

    /// Creates a request.
    public init(collection: String, key: [UInt8]) {
        self.collection = collection
        self.key = key
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(collection)
        buffer.writeField(key)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
        key = try buffer.readBytesField("key")
    }
}

/// The replica's stored object (an encoded versioned object, tombstones included), or nil if it has none.
public struct ReplicaGetReply: WireMessage, Equatable {
    public static let type = MessageType.replicaGet
    public var object: [UInt8]?

    /// Creates a reply.
    public init(object: [UInt8]?) { self.object = object }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeOptionalField(object) }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        object = try buffer.readOptionalBytesField("object")
    }
}

/// Merges `object` into the replica's copy of the key (a synchronisation, never a blind overwrite).
public struct ReplicaPut: WireMessage, Equatable {
    public static let type = MessageType.replicaPut
    public var collection: String
    public var key: [UInt8]
    /// An encoded versioned object.
    public var object: [UInt8]

    /// Creates a request.
    public init(collection: String, key: [UInt8], object: [UInt8]) {
        self.collection = collection
        self.key = key
        self.object = object
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(collection)
        buffer.writeField(key)
        buffer.writeField(object)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
        key = try buffer.readBytesField("key")
        object = try buffer.readBytesField("object")
    }
}

/// The replica stored the merge durably (per its sync policy).
public struct ReplicaPutReply: WireMessage, Equatable {
    public static let type = MessageType.replicaPut

    /// Creates an acknowledgement.
    public init() {}

    public func encode(into buffer: inout ByteBuffer) {}

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {}
}

/// A client write forwarded to a node of the key's preference list, which coordinates it.
public struct CoordinatePut: WireMessage, Equatable {
    public static let type = MessageType.coordinatePut
    public var collection: String
    public var key: [UInt8]
    /// The new value, or nil for a delete.
    public var value: [UInt8]?
    /// The client's Content-Type (empty if none).
    public var contentType: String
    /// The client's causal context (`X-Dhrt-Context`), as sent (base64url text bytes).
    public var context: [UInt8]?
    /// `If-Match` context, as sent.
    public var ifMatch: [UInt8]?
    /// `If-None-Match: *`.
    public var ifNoneMatch: Bool
    /// The write quorum as the client asked for it (`one`, `quorum`, `all` or a number; empty = default).
    public var writeQuorum: String

    /// Creates a forwarded write.
    public init(
        collection: String, key: [UInt8], value: [UInt8]?, contentType: String, context: [UInt8]?,
        ifMatch: [UInt8]?, ifNoneMatch: Bool, writeQuorum: String
    ) {
        self.collection = collection
        self.key = key
        self.value = value
        self.contentType = contentType
        self.context = context
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.writeQuorum = writeQuorum
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(collection)
        buffer.writeField(key)
        buffer.writeOptionalField(value)
        buffer.writeField(contentType)
        buffer.writeOptionalField(context)
        buffer.writeOptionalField(ifMatch)
        buffer.writeInteger(UInt8(ifNoneMatch ? 1 : 0))
        buffer.writeField(writeQuorum)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
        key = try buffer.readBytesField("key")
        value = try buffer.readOptionalBytesField("value")
        contentType = try buffer.readStringField("content type")
        context = try buffer.readOptionalBytesField("context")
        ifMatch = try buffer.readOptionalBytesField("if-match")
        ifNoneMatch = try buffer.readBool("if-none-match")
        writeQuorum = try buffer.readStringField("write quorum")
    }
}

/// The outcome of a forwarded write, as the client will see it.
public struct CoordinatePutReply: WireMessage, Equatable {
    public static let type = MessageType.coordinatePut
    /// The HTTP status for the client (204, 400, 412, 503, ...).
    public var status: UInt16
    /// Replicas that acknowledged before the reply.
    public var acks: UInt8
    /// The preference list's node names.
    public var replicas: [String]
    /// For an error status: the `error` code and `detail` of the JSON body.
    public var errorCode: String
    public var detail: String

    /// Creates a reply.
    public init(status: UInt16, acks: UInt8, replicas: [String], errorCode: String = "", detail: String = "") {
        self.status = status
        self.acks = acks
        self.replicas = replicas
        self.errorCode = errorCode
        self.detail = detail
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(status)
        buffer.writeInteger(acks)
        buffer.writeInteger(UInt32(replicas.count))
        for name in replicas { buffer.writeField(name) }
        buffer.writeField(errorCode)
        buffer.writeField(detail)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        status = try buffer.readU16("status")
        acks = try buffer.readU8("acks")
        let count = try buffer.readCount("replica count")
        replicas = []
        for _ in 0..<count { replicas.append(try buffer.readStringField("replica")) }
        errorCode = try buffer.readStringField("error code")
        detail = try buffer.readStringField("detail")
    }
}
