public import NIOCore

/// Frame types of dhrt's inter-node messages. A reply travels in a response frame of the same type;
/// a failure travels as an error frame whose payload is an ``ErrorReply``.
public enum MessageType: UInt8, Sendable, CaseIterable {
    /// Membership handshake: ``Hello`` / ``HelloReply``.
    case hello = 1
    /// Read one key's stored object: ``ReplicaGet`` / ``ReplicaGetReply``.
    case replicaGet = 2
    /// Merge an object into the replica's copy (writes and read repair): ``ReplicaPut`` / ``ReplicaPutReply``.
    case replicaPut = 3
    /// Coordinate a client write on a node of the key's preference list: ``CoordinatePut`` / ``CoordinatePutReply``.
    case coordinatePut = 4
    /// A page of a collection's live keys on one node: ``ListKeys`` / ``ListKeysReply``.
    case listKeys = 5
    /// Drop a collection on one node: ``DropCollection`` / ``DropCollectionReply``.
    case dropCollection = 6
    /// Exchange rings between members; the answer is also a heartbeat: ``Gossip`` both ways.
    case gossip = 7
    /// Stage, plan, commit or report to the claimant: ``ClusterCommand`` / ``ClusterCommandReply``.
    case clusterCommand = 8
    /// A batch of one partition's records for range transfer: ``TransferPull`` / ``TransferBatch``.
    case transferPull = 9
    /// Store a write as a hint for a replica that could not take it: ``HintPut`` / ``HintPutReply``.
    case hintPut = 10
    /// The metadata log's votes and appends: ``MetadataCall`` both ways.
    case metadata = 11
}

/// How a node names itself to others.
public struct MemberInfo: Sendable, Hashable {
    /// Unique node name.
    public var name: String
    /// `host:port` of its inter-node server.
    public var clusterAddress: String
    /// `host:port` of its HTTP API.
    public var httpAddress: String

    /// Creates a member description.
    public init(name: String, clusterAddress: String, httpAddress: String) {
        self.name = name
        self.clusterAddress = clusterAddress
        self.httpAddress = httpAddress
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(name)
        buffer.writeField(clusterAddress)
        buffer.writeField(httpAddress)
    }

    init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        name = try buffer.readStringField("member name")
        clusterAddress = try buffer.readStringField("member cluster address")
        httpAddress = try buffer.readStringField("member http address")
    }
}

/// A node introduces itself and the ring parameters it runs with.
public struct Hello: WireMessage, Equatable {
    public static let type = MessageType.hello
    /// The sender.
    public var member: MemberInfo
    /// The sender's Q; a receiver with another Q MUST refuse.
    public var partitions: UInt32
    /// The sender's N; a receiver with another N MUST refuse.
    public var replicas: UInt8

    /// Creates a hello.
    public init(member: MemberInfo, partitions: UInt32, replicas: UInt8) {
        self.member = member
        self.partitions = partitions
        self.replicas = replicas
    }

    public func encode(into buffer: inout ByteBuffer) {
        member.encode(into: &buffer)
        buffer.writeInteger(partitions)
        buffer.writeInteger(replicas)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        member = try MemberInfo(from: &buffer)
        partitions = try buffer.readU32("partitions")
        replicas = try buffer.readU8("replicas")
    }
}

/// Every member the receiver of a ``Hello`` knows, itself included, so membership spreads transitively; and
/// the replier's ring once its cluster is formed.
public struct HelloReply: WireMessage, Equatable {
    public static let type = MessageType.hello
    /// Known members, the replier first.
    public var members: [MemberInfo]
    /// The replier's encoded ring, nil while it has none.
    public var ring: [UInt8]?

    /// Creates a reply.
    public init(members: [MemberInfo], ring: [UInt8]? = nil) {
        self.members = members
        self.ring = ring
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(members.count))
        for member in members { member.encode(into: &buffer) }
        buffer.writeOptionalField(ring)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        let count = try buffer.readCount("member count")
        members = []
        members.reserveCapacity(count)
        for _ in 0..<count { members.append(try MemberInfo(from: &buffer)) }
        ring = try buffer.readOptionalBytesField("ring")
    }
}

/// The payload of an error frame: a stable code and a sentence.
public struct ErrorReply: Sendable, Equatable, Error {
    /// Machine-readable, e.g. `wrong_ring`, `bad_request`, `storage`.
    public var code: String
    /// For people and logs.
    public var detail: String

    /// Creates an error reply.
    public init(code: String, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The encoding: two strings.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + detail.utf8.count)
        buffer.writeField(code)
        buffer.writeField(detail)
        return buffer
    }

    /// Decodes an error payload; a malformed one still yields an error describing that.
    public static func decode(_ payload: ByteBuffer) -> ErrorReply {
        var buffer = payload
        do {
            let code = try buffer.readStringField("error code")
            let detail = try buffer.readStringField("error detail")
            return ErrorReply(code: code, detail: detail)
        } catch {
            return ErrorReply(code: "malformed_error", detail: error.description)
        }
    }
}
