public import Ring

extension MetadataMessage {
    private enum Kind: UInt8 {
        case requestVote = 1
        case vote, append, appendReply
    }

    /// The little-endian layout the inter-node protocol carries (entries as in the log file).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case .requestVote(let request):
            bytes.append(Kind.requestVote.rawValue)
            bytes.appendLittleEndian(request.term)
            bytes.appendLittleEndian(request.lastIndex)
            bytes.appendLittleEndian(request.lastTerm)
            bytes.append(request.preVote ? 1 : 0)
        case .vote(let reply):
            bytes.append(Kind.vote.rawValue)
            bytes.appendLittleEndian(reply.term)
            bytes.append(reply.granted ? 1 : 0)
            bytes.append(reply.preVote ? 1 : 0)
        case .append(let request):
            bytes.append(Kind.append.rawValue)
            bytes.appendLittleEndian(request.term)
            bytes.appendLittleEndian(request.prevIndex)
            bytes.appendLittleEndian(request.prevTerm)
            bytes.appendLittleEndian(request.commitIndex)
            bytes.appendLittleEndian(UInt32(request.entries.count))
            for entry in request.entries { entry.encode(into: &bytes) }
        case .appendReply(let reply):
            bytes.append(Kind.appendReply.rawValue)
            bytes.appendLittleEndian(reply.term)
            bytes.append(reply.success ? 1 : 0)
            bytes.appendLittleEndian(reply.index)
        }
        return bytes
    }

    /// Decodes `encoded()`; garbage throws, never traps.
    public static func decode(_ bytes: [UInt8]) throws(RingError) -> MetadataMessage {
        var reader = LittleEndianReader(bytes: bytes, end: bytes.count)
        let raw = try reader.read(UInt8.self)
        guard let kind = Kind(rawValue: raw) else { throw RingError.decoding("unknown metadata message \(raw)") }
        let message: MetadataMessage
        switch kind {
        case .requestVote:
            message = .requestVote(
                VoteRequest(
                    term: try reader.read(), lastIndex: try reader.read(), lastTerm: try reader.read(),
                    preVote: try flag(&reader)))
        case .vote:
            message = .vote(VoteReply(term: try reader.read(), granted: try flag(&reader), preVote: try flag(&reader)))
        case .append:
            let term: UInt64 = try reader.read()
            let prevIndex: UInt64 = try reader.read()
            let prevTerm: UInt64 = try reader.read()
            let commitIndex: UInt64 = try reader.read()
            let count = Int(try reader.read(UInt32.self))
            // Each entry takes at least 24 bytes: a hostile count cannot make the decoder reserve memory.
            guard count <= (reader.end - reader.offset) / 24 else { throw RingError.decoding("implausible count") }
            var entries: [MetadataEntry] = []
            for _ in 0..<count { entries.append(try MetadataEntry.decode(from: &reader)) }
            message = .append(
                AppendRequest(
                    term: term, prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commitIndex: commitIndex))
        case .appendReply:
            message = .appendReply(
                AppendReply(term: try reader.read(), success: try flag(&reader), index: try reader.read()))
        }
        guard reader.offset == reader.end else { throw RingError.decoding("trailing bytes") }
        return message
    }

    private static func flag(_ reader: inout LittleEndianReader) throws(RingError) -> Bool {
        switch try reader.read(UInt8.self) {
        case 0: false
        case 1: true
        default: throw RingError.decoding("bad flag")
        }
    }
}
