/// A request from a coordinating node to a replica, as payload bytes for the inter-node transport.
///
/// ```
/// request  = 0x01 kind(u8) collection key [object]     kind: 1 store, 2 repair, 3 fetch
/// response = 0x01 kind(u8) [object | reason]           kind: 1 stored, 2 found, 3 not found, 4 failed
/// ```
/// `collection`, `key` and `reason` are length-prefixed (LEB128); `object` is `VersionedObject.encoded()` and
/// runs to the end. Decoding is strict like the version formats: a peer sending garbage gets a `VersionError`.
public enum ReplicaRequest: Hashable, Sendable {
    /// Merge this object (a coordinated write) and answer `.stored` once durable.
    case store(collection: String, key: [UInt8], object: VersionedObject)
    /// Merge this object (read repair); the answer may be ignored.
    case repair(collection: String, key: [UInt8], object: VersionedObject)
    /// Answer with the stored object (`.found`, tombstones included) or `.notFound`.
    case fetch(collection: String, key: [UInt8])

    /// The payload bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.byte(ReplicaMessageFormat.version)
        switch self {
        case .store(let collection, let key, let object), .repair(let collection, let key, let object):
            writer.byte(isStore ? 1 : 2)
            writer.blob(collection.utf8)
            writer.blob(key)
            return writer.bytes + object.encoded()
        case .fetch(let collection, let key):
            writer.byte(3)
            writer.blob(collection.utf8)
            writer.blob(key)
            return writer.bytes
        }
    }

    private var isStore: Bool {
        if case .store = self { true } else { false }
    }

    /// Parses payload bytes; throws on anything but a well-formed request.
    public static func decode(_ bytes: [UInt8]) throws(VersionError) -> ReplicaRequest {
        var reader = ByteReader(bytes)
        let (kind, collection, key) = try ReplicaMessageFormat.header(&reader)
        switch kind {
        case 1: return .store(collection: collection, key: key, object: try ReplicaMessageFormat.object(bytes, reader))
        case 2: return .repair(collection: collection, key: key, object: try ReplicaMessageFormat.object(bytes, reader))
        case 3:
            try reader.expectEnd()
            return .fetch(collection: collection, key: key)
        default: throw .unsupportedFormat(kind)
        }
    }
}

/// A replica's answer to a `ReplicaRequest`.
public enum ReplicaResponse: Hashable, Sendable {
    /// The object was merged and is durable per the replica's sync policy.
    case stored
    /// The replica's stored object.
    case found(VersionedObject)
    /// The replica has no record of the key.
    case notFound
    /// The replica could not serve the request.
    case failed(reason: String)

    /// The payload bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.byte(ReplicaMessageFormat.version)
        switch self {
        case .stored:
            writer.byte(1)
        case .found(let object):
            writer.byte(2)
            return writer.bytes + object.encoded()
        case .notFound:
            writer.byte(3)
        case .failed(let reason):
            writer.byte(4)
            // Long messages are cut (at a character) to what the decoder accepts.
            var text = reason
            while text.utf8.count > ReplicaMessageFormat.maxReasonBytes { text.removeLast() }
            writer.blob(text.utf8)
        }
        return writer.bytes
    }

    /// Parses payload bytes; throws on anything but a well-formed response.
    public static func decode(_ bytes: [UInt8]) throws(VersionError) -> ReplicaResponse {
        var reader = ByteReader(bytes)
        let version = try reader.byte()
        guard version == ReplicaMessageFormat.version else { throw .unsupportedFormat(version) }
        let kind = try reader.byte()
        switch kind {
        case 1:
            try reader.expectEnd()
            return .stored
        case 2:
            return .found(try ReplicaMessageFormat.object(bytes, reader))
        case 3:
            try reader.expectEnd()
            return .notFound
        case 4:
            let bytes = try reader.blob(maximum: ReplicaMessageFormat.maxReasonBytes)
            guard let reason = String(validating: bytes, as: UTF8.self) else { throw .invalidText }
            try reader.expectEnd()
            return .failed(reason: reason)
        default:
            throw .unsupportedFormat(kind)
        }
    }

    /// The answer as a `QuorumRead` reply; nil for `.stored`, which does not answer a fetch.
    public var readReply: QuorumRead.Reply? {
        switch self {
        case .found(let object): .object(object)
        case .notFound: .notFound
        case .failed(let reason): .failure(reason)
        case .stored: nil
        }
    }
}

enum ReplicaMessageFormat {
    static let version: UInt8 = 0x01
    static let maxCollectionBytes = 1024
    static let maxKeyBytes = 1 << 20
    static let maxReasonBytes = 4096

    static func header(_ reader: inout ByteReader) throws(VersionError) -> (UInt8, String, [UInt8]) {
        let version = try reader.byte()
        guard version == Self.version else { throw .unsupportedFormat(version) }
        let kind = try reader.byte()
        let name = try reader.blob(maximum: maxCollectionBytes)
        guard let collection = String(validating: name, as: UTF8.self) else { throw .invalidText }
        let key = try reader.blob(maximum: maxKeyBytes)
        return (kind, collection, Array(key))
    }

    /// The object that fills the rest of the payload.
    static func object(_ bytes: [UInt8], _ reader: ByteReader) throws(VersionError) -> VersionedObject {
        try VersionedObject.decode(Array(bytes[reader.position...]))
    }
}
