public import NIOCore

/// Asks a replica for its stored object of one key.
///
/// `epoch` is the coordinator's ring epoch, a trailing field (absent in the older layout, which is never fenced):
/// a replica on a newer ring that no longer holds the key refuses with `ring_moved` rather than answer from a
/// copy it stopped receiving writes for.
public struct ReplicaGet: WireMessage, Equatable {
    public static let type = MessageType.replicaGet
    public var collection: String
    public var key: [UInt8]
    public var epoch: UInt64?

    /// Creates a request.
    public init(collection: String, key: [UInt8], epoch: UInt64? = nil) {
        self.collection = collection
        self.key = key
        self.epoch = epoch
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(collection)
        buffer.writeField(key)
        if let epoch { buffer.writeInteger(epoch) }
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
        key = try buffer.readBytesField("key")
        epoch = try buffer.readTrailingEpoch()
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
///
/// `epoch` is the coordinator's ring epoch (trailing; absent in the older layout): a replica on a newer ring that
/// would drop the key, or whose ring moves the key's partition, refuses with `ring_moved` instead of storing it.
public struct ReplicaPut: WireMessage, Equatable {
    public static let type = MessageType.replicaPut
    public var collection: String
    public var key: [UInt8]
    /// An encoded versioned object.
    public var object: [UInt8]
    public var epoch: UInt64?

    /// Creates a request.
    public init(collection: String, key: [UInt8], object: [UInt8], epoch: UInt64? = nil) {
        self.collection = collection
        self.key = key
        self.object = object
        self.epoch = epoch
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(collection)
        buffer.writeField(key)
        buffer.writeField(object)
        if let epoch { buffer.writeInteger(epoch) }
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        collection = try buffer.readStringField("collection")
        key = try buffer.readBytesField("key")
        object = try buffer.readBytesField("object")
        epoch = try buffer.readTrailingEpoch()
    }
}

extension ByteBuffer {
    /// A trailing ring epoch: absent (the older layout) or exactly eight bytes.
    mutating func readTrailingEpoch() throws(MessageDecodingError) -> UInt64? {
        guard readableBytes > 0 else { return nil }
        guard let epoch = readInteger(as: UInt64.self) else { throw MessageDecodingError("truncated epoch") }
        return epoch
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
///
/// Fields after `writeQuorum` are trailing: a sender that predates them ends the payload there, and a decoder
/// MUST accept that. `primaryQuorum` nil stands for that older layout.
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
    /// `X-Dhrt-PW` as the client asked for it (empty = none); nil: the older layout without trailing fields,
    /// whose sender cannot read `CoordinatePutReply.hinted`.
    public var primaryQuorum: String?
    /// The encoded object a first coordinator already stored for this write before a replica answered
    /// `ring_moved`: the receiver merges it instead of applying the write a second time (which would make a
    /// second version of one client write). Trailing, after `primaryQuorum`, and only with it.
    public var retried: [UInt8]?

    /// Creates a forwarded write.
    public init(
        collection: String, key: [UInt8], value: [UInt8]?, contentType: String, context: [UInt8]?,
        ifMatch: [UInt8]?, ifNoneMatch: Bool, writeQuorum: String, primaryQuorum: String? = "",
        retried: [UInt8]? = nil
    ) {
        self.collection = collection
        self.key = key
        self.value = value
        self.contentType = contentType
        self.context = context
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.writeQuorum = writeQuorum
        self.primaryQuorum = primaryQuorum
        self.retried = retried
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
        if let primaryQuorum {
            buffer.writeField(primaryQuorum)
            if let retried { buffer.writeField(retried) }
        }
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
        primaryQuorum = buffer.readableBytes > 0 ? try buffer.readStringField("primary quorum") : nil
        retried = buffer.readableBytes > 0 ? try buffer.readBytesField("retried object") : nil
    }
}

/// The outcome of a forwarded write, as the client will see it.
///
/// `hinted` is a trailing field: encoded only when non-empty, and sent only to a sender of the newer
/// `CoordinatePut` layout (an older decoder refuses trailing bytes).
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
    /// On success: the stored version's causal context for the client (base64url), else empty.
    public var context: String
    /// On success: fallbacks that stored the write as a hint, each with the primary it stands in for
    /// (`X-Dhrt-Hinted`).
    public var hinted: [Hinted]

    /// A fallback and the primary it stood in for.
    public struct Hinted: Sendable, Equatable {
        public var fallback: String
        public var owner: String

        /// Creates an entry.
        public init(fallback: String, owner: String) {
            self.fallback = fallback
            self.owner = owner
        }
    }

    /// Creates a reply.
    public init(
        status: UInt16, acks: UInt8, replicas: [String], errorCode: String = "", detail: String = "",
        context: String = "", hinted: [Hinted] = []
    ) {
        self.status = status
        self.acks = acks
        self.replicas = replicas
        self.errorCode = errorCode
        self.detail = detail
        self.context = context
        self.hinted = hinted
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(status)
        buffer.writeInteger(acks)
        buffer.writeInteger(UInt32(replicas.count))
        for name in replicas { buffer.writeField(name) }
        buffer.writeField(errorCode)
        buffer.writeField(detail)
        buffer.writeField(context)
        guard !hinted.isEmpty else { return }
        buffer.writeInteger(UInt32(hinted.count))
        for entry in hinted {
            buffer.writeField(entry.fallback)
            buffer.writeField(entry.owner)
        }
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        status = try buffer.readU16("status")
        acks = try buffer.readU8("acks")
        let count = try buffer.readCount("replica count")
        replicas = []
        for _ in 0..<count { replicas.append(try buffer.readStringField("replica")) }
        errorCode = try buffer.readStringField("error code")
        detail = try buffer.readStringField("detail")
        context = try buffer.readStringField("context")
        hinted = []
        guard buffer.readableBytes > 0 else { return }
        let hintedCount = try buffer.readCount("hinted count")
        for _ in 0..<hintedCount {
            hinted.append(
                Hinted(
                    fallback: try buffer.readStringField("hinted fallback"),
                    owner: try buffer.readStringField("hinted owner")))
        }
    }
}
