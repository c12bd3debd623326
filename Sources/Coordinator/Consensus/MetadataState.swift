public import Ring

/// One entry of the metadata log: a whole encoded ring and the voter set from this entry on.
public struct MetadataEntry: Sendable, Equatable {
    public var index: UInt64
    public var term: UInt64
    /// Names of the voting members, sorted.
    public var voters: [String]
    /// The encoded ring this entry commits.
    public var payload: [UInt8]

    public init(index: UInt64, term: UInt64, voters: [String], payload: [UInt8]) {
        self.index = index
        self.term = term
        self.voters = voters
        self.payload = payload
    }
}

/// What a member MUST keep durably before it answers: the term, its vote, and the log from the last committed
/// entry it knows on.
public struct MetadataState: Sendable, Equatable {
    public var term: UInt64
    public var votedFor: String?
    /// The first entry is committed (the compacted base); later ones may not be.
    public var entries: [MetadataEntry]
    /// Set on a member that lost this state (it restarted from its ring alone): it may have voted, or stored
    /// entries it counted for, that it no longer knows of, so it neither votes nor stands while there are
    /// three voters or more (see `MetadataLog.mayVote`). Kept for as long as the member stays.
    public var abstains: Bool

    public init(term: UInt64 = 0, votedFor: String? = nil, entries: [MetadataEntry] = [], abstains: Bool = false) {
        self.term = term
        self.votedFor = votedFor
        self.entries = entries
        self.abstains = abstains
    }

    /// The state of a cluster's first member set: one committed entry, voted by `voters`.
    public static func bootstrap(payload: [UInt8], voters: [String]) -> MetadataState {
        MetadataState(entries: [MetadataEntry(index: 1, term: 0, voters: voters.sorted(), payload: payload)])
    }

    private static let magic: [UInt8] = Array("DHRTMLOG".utf8)
    /// Version 2 added the abstain flag; version 1 (without it) is still read.
    private static let version: UInt8 = 2

    /// The stored form: magic, version, term, vote, abstain flag, entries, then an XXH3 checksum of everything
    /// before it.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.append(Self.version)
        bytes.appendLittleEndian(term)
        bytes.appendString(UInt8.self, votedFor ?? "")
        bytes.append(abstains ? 1 : 0)
        bytes.appendLittleEndian(UInt32(entries.count))
        for entry in entries { entry.encode(into: &bytes) }
        let sum = bytes.withUnsafeBytes { KeyHash.xxh3($0) }
        bytes.appendLittleEndian(sum)
        return bytes
    }

    /// Decodes `encoded()`; a damaged or truncated file throws.
    public static func decode(_ bytes: [UInt8]) throws(RingError) -> MetadataState {
        guard bytes.count >= magic.count + 1 + 8, Array(bytes.prefix(magic.count)) == magic else {
            throw RingError.decoding("not a dhrt metadata log")
        }
        let bodyEnd = bytes.count - 8
        let sum = bytes[..<bodyEnd].withUnsafeBytes { KeyHash.xxh3($0) }
        var reader = LittleEndianReader(bytes: bytes, offset: magic.count, end: bodyEnd)
        guard try reader.integer(UInt64.self, at: bodyEnd) == sum else {
            throw RingError.decoding("metadata log checksum mismatch")
        }
        let version = try reader.read(UInt8.self)
        guard (1...Self.version).contains(version) else {
            throw RingError.decoding("metadata log version \(version)")
        }
        let term = try reader.read(UInt64.self)
        let vote = try reader.string(UInt8.self)
        let abstains = version >= 2 ? try reader.read(UInt8.self) != 0 : false
        let count = Int(try reader.read(UInt32.self))
        var entries: [MetadataEntry] = []
        for _ in 0..<count { entries.append(try MetadataEntry.decode(from: &reader)) }
        return MetadataState(term: term, votedFor: vote.isEmpty ? nil : vote, entries: entries, abstains: abstains)
    }
}

extension MetadataEntry {
    /// Appends the entry in the little-endian layout shared by the log file and the wire.
    public func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(index)
        bytes.appendLittleEndian(term)
        bytes.appendLittleEndian(UInt16(voters.count))
        for voter in voters { bytes.appendString(UInt8.self, voter) }
        bytes.appendLittleEndian(UInt32(payload.count))
        bytes.append(contentsOf: payload)
    }

    public static func decode(from reader: inout LittleEndianReader) throws(RingError) -> MetadataEntry {
        let index = try reader.read(UInt64.self)
        let term = try reader.read(UInt64.self)
        let voterCount = Int(try reader.read(UInt16.self))
        var voters: [String] = []
        for _ in 0..<voterCount { voters.append(try reader.string(UInt8.self)) }
        let size = Int(try reader.read(UInt32.self))
        return MetadataEntry(index: index, term: term, voters: voters, payload: try reader.bytes(size))
    }
}

/// The four messages of the metadata log.
public enum MetadataMessage: Sendable, Equatable {
    case requestVote(VoteRequest)
    case vote(VoteReply)
    case append(AppendRequest)
    case appendReply(AppendReply)

    public struct VoteRequest: Sendable, Equatable {
        /// The term the candidate would take (a pre-vote does not take it yet).
        public var term: UInt64
        public var lastIndex: UInt64
        public var lastTerm: UInt64
        /// A pre-vote asks whether a vote would be granted, changing nothing on the voter.
        public var preVote: Bool

        public init(term: UInt64, lastIndex: UInt64, lastTerm: UInt64, preVote: Bool) {
            self.term = term
            self.lastIndex = lastIndex
            self.lastTerm = lastTerm
            self.preVote = preVote
        }
    }

    public struct VoteReply: Sendable, Equatable {
        public var term: UInt64
        public var granted: Bool
        public var preVote: Bool

        public init(term: UInt64, granted: Bool, preVote: Bool) {
            self.term = term
            self.granted = granted
            self.preVote = preVote
        }
    }

    public struct AppendRequest: Sendable, Equatable {
        public var term: UInt64
        /// The entry just before `entries`; 0 when `entries[0]` is a committed base that replaces what the
        /// receiver holds unless its log already agrees with it.
        public var prevIndex: UInt64
        public var prevTerm: UInt64
        public var entries: [MetadataEntry]
        public var commitIndex: UInt64

        public init(
            term: UInt64, prevIndex: UInt64, prevTerm: UInt64, entries: [MetadataEntry], commitIndex: UInt64
        ) {
            self.term = term
            self.prevIndex = prevIndex
            self.prevTerm = prevTerm
            self.entries = entries
            self.commitIndex = commitIndex
        }
    }

    public struct AppendReply: Sendable, Equatable {
        public var term: UInt64
        public var success: Bool
        /// On success the last index the receiver holds in agreement; on failure its last index, as a hint.
        public var index: UInt64

        public init(term: UInt64, success: Bool, index: UInt64) {
            self.term = term
            self.success = success
            self.index = index
        }
    }

    /// Whether this message answers a request (it travels back as the reply of the request's call).
    public var isReply: Bool {
        switch self {
        case .vote, .appendReply: true
        case .requestVote, .append: false
        }
    }
}
