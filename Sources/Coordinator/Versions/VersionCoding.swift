/// Binary formats (all integers unsigned LEB128 unless noted, names are length-prefixed bytes):
///
/// ```
/// clock  = 0x02 actors
/// object = 0x01 actors siblingCount sibling*
/// actors = count (name counter)*            names strictly ascending, counters >= 1
/// sibling = actorIndex counter flags(u8) timestamp(u64 LE) contentType value
/// ```
/// The actor table interns node names: a sibling names its actor by index. Siblings are strictly ascending by
/// dot, and each dot lies within the table's counters. Decoding rejects anything else, so every object has one
/// encoding and garbage never decodes.
enum VersionFormat {
    static let object: UInt8 = 0x01
    static let clock: UInt8 = 0x02
    static let tombstoneFlag: UInt8 = 0x01
    static let maxContentTypeBytes = 1024
}

extension VersionVector {
    /// Whether `name` can be an actor: 1-255 bytes of printable ASCII (0x21-0x7E). Node names MUST satisfy this.
    public static func isValidActorName(_ name: String) -> Bool {
        let utf8 = name.utf8
        return (1...255).contains(utf8.count) && utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// The compact clock encoding (format byte 0x02): what Storage keeps as a live record's meta.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 2 + counters.count * 8)
        writer.byte(VersionFormat.clock)
        writeActors(into: &writer)
        return writer.bytes
    }

    /// Decodes a clock; an encoded object (format 0x01) is accepted too and yields its context.
    public static func decode(_ bytes: [UInt8]) throws(VersionError) -> VersionVector {
        guard let format = bytes.first else { throw .empty }
        if format == VersionFormat.object { return try VersionedObject.decode(bytes).context }
        guard format == VersionFormat.clock else { throw .unsupportedFormat(format) }
        var reader = ByteReader(bytes)
        _ = try reader.byte()
        let (vector, _) = try readActors(from: &reader)
        try reader.expectEnd()
        return vector
    }

    func writeActors(into writer: inout ByteWriter) {
        let entries = sortedEntries
        writer.varint(UInt64(entries.count))
        for entry in entries {
            writer.blob(entry.actor.utf8)
            writer.varint(entry.counter)
        }
    }

    /// Reads an actor table; returns the vector and the names in index order.
    static func readActors(from reader: inout ByteReader) throws(VersionError) -> (VersionVector, [String]) {
        let count = try reader.count(minimumSize: 3)
        var counters: [String: UInt64] = [:]
        counters.reserveCapacity(count)
        var names: [String] = []
        names.reserveCapacity(count)
        var previous: ArraySlice<UInt8> = []
        for index in 0..<count {
            let name = try reader.blob(maximum: 255)
            guard !name.isEmpty, name.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .invalidActorName }
            guard index == 0 || previous.lexicographicallyPrecedes(name) else { throw .unsortedActors }
            previous = name
            let counter = try reader.varint()
            guard counter > 0 else { throw .zeroCounter }
            let actor = String(decoding: name, as: UTF8.self)
            counters[actor] = counter
            names.append(actor)
        }
        return (VersionVector(counters), names)
    }
}

extension VersionedObject {
    /// The full encoding (format byte 0x01): what Storage keeps as a record's value and replicas exchange.
    public func encoded() -> [UInt8] {
        let payload = siblings.reduce(0) { $0 + $1.value.count + $1.contentType.utf8.count }
        var writer = ByteWriter(capacity: 16 + context.counters.count * 8 + siblings.count * 16 + payload)
        writer.byte(VersionFormat.object)
        context.writeActors(into: &writer)
        var indexOf: [String: Int] = [:]
        for (index, entry) in context.sortedEntries.enumerated() {
            indexOf[entry.actor] = index
        }
        writer.varint(UInt64(siblings.count))
        for sibling in siblings {
            writer.varint(UInt64(indexOf[sibling.dot.actor] ?? 0))
            writer.varint(sibling.dot.counter)
            writer.byte(sibling.isTombstone ? VersionFormat.tombstoneFlag : 0)
            writer.fixed64(sibling.timestamp)
            writer.blob(sibling.contentType.utf8)
            writer.blob(sibling.value)
        }
        return writer.bytes
    }

    /// Decodes the full encoding, verifying every invariant; throws on any garbage.
    public static func decode(_ bytes: [UInt8]) throws(VersionError) -> VersionedObject {
        guard let format = bytes.first else { throw .empty }
        guard format == VersionFormat.object else { throw .unsupportedFormat(format) }
        var reader = ByteReader(bytes)
        _ = try reader.byte()
        let (context, names) = try VersionVector.readActors(from: &reader)
        let count = try reader.count(minimumSize: 13)
        var siblings: [Sibling] = []
        siblings.reserveCapacity(count)
        var previous: (index: Int, counter: UInt64)?
        for _ in 0..<count {
            let rawIndex = try reader.varint()
            guard rawIndex < UInt64(names.count) else {
                throw .unknownActorIndex(rawIndex > UInt64(Int.max) ? Int.max : Int(rawIndex))
            }
            let index = Int(rawIndex)
            let counter = try reader.varint()
            guard counter > 0, counter <= context[names[index]] else { throw .dotOutsideContext }
            if let previous, (previous.index, previous.counter) >= (index, counter) { throw .unsortedSiblings }
            previous = (index, counter)
            let flags = try reader.byte()
            guard flags & ~VersionFormat.tombstoneFlag == 0 else { throw .unknownFlags(flags) }
            let timestamp = try reader.fixed64()
            let typeBytes = try reader.blob(maximum: VersionFormat.maxContentTypeBytes)
            guard let contentType = String(validating: typeBytes, as: UTF8.self) else { throw .invalidContentType }
            let value = try reader.blob(maximum: Int.max)
            let isTombstone = flags & VersionFormat.tombstoneFlag != 0
            guard !isTombstone || value.isEmpty else { throw .tombstoneWithValue }
            siblings.append(
                Sibling(
                    dot: Dot(actor: names[index], counter: counter),
                    value: Array(value),
                    contentType: contentType,
                    isTombstone: isTombstone,
                    timestamp: timestamp
                )
            )
        }
        try reader.expectEnd()
        return VersionedObject(unchecked: context, siblings: siblings)
    }
}
