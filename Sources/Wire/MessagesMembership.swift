public import NIOCore

/// A member's encoded ring; the receiver merges it and answers with its own (the answer is the heartbeat).
public struct Gossip: WireMessage, Equatable {
    public static let type = MessageType.gossip
    /// The sender's name, so the receiver's detector can count the exchange as a heartbeat too.
    public var sender: String
    public var ring: [UInt8]

    public init(sender: String, ring: [UInt8]) {
        self.sender = sender
        self.ring = ring
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(sender)
        buffer.writeField(ring)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        sender = try buffer.readStringField("sender")
        ring = try buffer.readBytesField("ring")
    }
}

/// A membership command for the claimant.
public struct ClusterCommand: WireMessage, Equatable {
    public static let type = MessageType.clusterCommand

    public enum Operation: UInt8, Sendable, CaseIterable {
        case join = 1
        case leave = 2
        case forceRemove = 3
        case replace = 4
        case clear = 5
        case plan = 6
        case commit = 7
        /// Stage and commit one join at once (`dhrt-node --join`).
        case joinNow = 8
        /// `name` received every partition of plan `planID`.
        case transferred = 9
        /// Abort the pending plan: the ring goes back to its owners before the plan (`Ring.aborting`).
        case abort = 10
        /// `member` runs on other addresses than the ring lists (it restarted elsewhere).
        case updateAddress = 11
    }

    public var operation: Operation
    /// The member the command is about (the leaver, the replaced one, the receiver).
    public var name: String
    /// The joining or replacing member.
    public var member: MemberInfo?
    public var planID: UInt64
    /// How many members passed the command on towards the claimant; bounded so a disagreement cannot loop.
    public var hops: UInt8

    public init(
        _ operation: Operation, name: String = "", member: MemberInfo? = nil, planID: UInt64 = 0, hops: UInt8 = 0
    ) {
        self.operation = operation
        self.name = name
        self.member = member
        self.planID = planID
        self.hops = hops
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(operation.rawValue)
        buffer.writeField(name)
        if let member {
            buffer.writeInteger(UInt8(1))
            member.encode(into: &buffer)
        } else {
            buffer.writeInteger(UInt8(0))
        }
        buffer.writeInteger(planID)
        buffer.writeInteger(hops)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        let raw = try buffer.readU8("operation")
        guard let operation = Operation(rawValue: raw) else { throw MessageDecodingError("unknown operation \(raw)") }
        self.operation = operation
        name = try buffer.readStringField("name")
        member = try buffer.readBool("has member") ? try MemberInfo(from: &buffer) : nil
        guard let planID = buffer.readInteger(as: UInt64.self) else { throw MessageDecodingError("truncated plan id") }
        self.planID = planID
        hops = try buffer.readU8("hops")
    }
}

/// The claimant's ring after the command, the ring a commit would produce, and what is staged.
public struct ClusterCommandReply: WireMessage, Equatable {
    public static let type = MessageType.clusterCommand
    public var claimant: String
    public var ring: [UInt8]
    public var planned: [UInt8]?
    /// The staged changes, one sentence each.
    public var staged: [String]

    public init(claimant: String, ring: [UInt8], planned: [UInt8]?, staged: [String]) {
        self.claimant = claimant
        self.ring = ring
        self.planned = planned
        self.staged = staged
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(claimant)
        buffer.writeField(ring)
        buffer.writeOptionalField(planned)
        buffer.writeInteger(UInt32(staged.count))
        for line in staged { buffer.writeField(line) }
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        claimant = try buffer.readStringField("claimant")
        ring = try buffer.readBytesField("ring")
        planned = try buffer.readOptionalBytesField("planned ring")
        let count = try buffer.readCount("staged count")
        staged = []
        for _ in 0..<count { staged.append(try buffer.readStringField("staged change")) }
    }
}

/// Asks for the records of one partition, across collections in name order and keys in byte order, after
/// a cursor.
public struct TransferPull: WireMessage, Equatable {
    public static let type = MessageType.transferPull
    public var partition: UInt16
    /// Resume after this (collection, key); nil from the start.
    public var afterCollection: String?
    public var afterKey: [UInt8]
    /// The batch stops once it holds about this many record bytes.
    public var maxBytes: UInt32

    public init(partition: UInt16, afterCollection: String?, afterKey: [UInt8], maxBytes: UInt32) {
        self.partition = partition
        self.afterCollection = afterCollection
        self.afterKey = afterKey
        self.maxBytes = maxBytes
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(partition)
        if let afterCollection {
            buffer.writeInteger(UInt8(1))
            buffer.writeField(afterCollection)
        } else {
            buffer.writeInteger(UInt8(0))
        }
        buffer.writeField(afterKey)
        buffer.writeInteger(maxBytes)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        partition = try buffer.readU16("partition")
        afterCollection = try buffer.readBool("has cursor") ? try buffer.readStringField("cursor collection") : nil
        afterKey = try buffer.readBytesField("cursor key")
        maxBytes = try buffer.readU32("max bytes")
    }
}

/// One record as stored: its meta and value bytes, sent without decoding.
public struct TransferRecord: Sendable, Equatable {
    public var collection: String
    public var key: [UInt8]
    public var isTombstone: Bool
    public var meta: [UInt8]
    public var value: [UInt8]

    public init(collection: String, key: [UInt8], isTombstone: Bool, meta: [UInt8], value: [UInt8]) {
        self.collection = collection
        self.key = key
        self.isTombstone = isTombstone
        self.meta = meta
        self.value = value
    }
}

/// A batch of records in cursor order; `finished` when the source has nothing after the last one.
public struct TransferBatch: WireMessage, Equatable {
    public static let type = MessageType.transferPull
    public var records: [TransferRecord]
    public var finished: Bool
    /// Keys of the partition after this batch on the source, for progress.
    public var remaining: UInt32

    public init(records: [TransferRecord], finished: Bool, remaining: UInt32) {
        self.records = records
        self.finished = finished
        self.remaining = remaining
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(records.count))
        for record in records {
            buffer.writeField(record.collection)
            buffer.writeField(record.key)
            buffer.writeInteger(UInt8(record.isTombstone ? 1 : 0))
            buffer.writeField(record.meta)
            buffer.writeField(record.value)
        }
        buffer.writeInteger(UInt8(finished ? 1 : 0))
        buffer.writeInteger(remaining)
    }

    public init(from buffer: inout ByteBuffer) throws(MessageDecodingError) {
        let count = try buffer.readCount("record count")
        records = []
        records.reserveCapacity(count)
        // Records come sorted by collection: each name is validated once, not once per record.
        var name: (bytes: [UInt8], text: String) = ([], "")
        for _ in 0..<count {
            let length = Int(try buffer.readU16("collection"))
            let bytes = buffer.readableBytesView.prefix(length)
            guard bytes.count == length else {
                throw MessageDecodingError("collection: length \(length) exceeds the payload")
            }
            if records.isEmpty || !bytes.elementsEqual(name.bytes) {
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw MessageDecodingError("collection is not UTF-8")
                }
                name = (Array(bytes), text)
            }
            buffer.moveReaderIndex(forwardBy: length)
            records.append(
                TransferRecord(
                    collection: name.text, key: try buffer.readBytesField("key"),
                    isTombstone: try buffer.readBool("tombstone"), meta: try buffer.readBytesField("meta"),
                    value: try buffer.readBytesField("value")))
        }
        finished = try buffer.readBool("finished")
        remaining = try buffer.readU32("remaining")
    }
}
