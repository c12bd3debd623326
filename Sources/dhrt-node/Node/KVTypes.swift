/// One value as a client stored it.
struct Content: Sendable, Equatable {
    var value: [UInt8]
    var contentType: String
}

/// A client read, before quorum parsing.
struct ReadRequest: Sendable {
    var collection: String
    var key: [UInt8]
    /// The header that set R and its text (`one`, `quorum`, `all`, a number), or nil for the default.
    var readQuorum: (header: String, value: String)?
    /// `X-Dhrt-Consistency` when `X-Dhrt-R` overrides it: validated all the same.
    var overriddenConsistency: String? = nil
}

/// What a quorum read found.
struct ReadOutcome: Sendable {
    enum Found: Sendable, Equatable {
        case notFound
        case value(Content)
        /// Concurrent versions; nil entries are concurrent deletes.
        case siblings([Content?])
    }

    var found: Found
    /// The causal context (base64url) covering everything returned; empty when nothing was ever written.
    var context: String
    var acks: Int
    var replicas: [String]
    var repaired: Int
}

/// A client write or delete, before quorum parsing.
struct WriteRequest: Sendable {
    var collection: String
    var key: [UInt8]
    /// nil deletes.
    var content: Content?
    /// `X-Dhrt-Context` as sent.
    var context: String?
    /// `If-Match` as sent.
    var ifMatch: String?
    /// `If-None-Match: *`.
    var ifNoneMatch: Bool
    /// The header that set W and its text, or nil for the default.
    var writeQuorum: (header: String, value: String)?
    /// `X-Dhrt-Consistency` when `X-Dhrt-W` overrides it: validated all the same.
    var overriddenConsistency: String? = nil
    /// `X-Dhrt-PW` as sent: primaries (not fallbacks) that must store the write; nil for none.
    var primaryQuorum: String? = nil
    /// Without a context, replace what the coordinator holds (Redis `SET`) rather than add a sibling to it, as a
    /// blind delete does.
    var supersedesStored = false
}

/// What a quorum write achieved.
struct WriteOutcome: Sendable {
    var acks: Int
    var replicas: [String]
    /// The stored version's causal context (base64url): a client may write again with it.
    var context: String = ""
    /// Fallbacks that stored the write as a hint, with the primary each stands in for.
    var hinted: [(fallback: String, owner: String)] = []
}

/// A page of a collection's keys.
struct KeyPage: Sendable {
    var keys: [[UInt8]]
    /// Pass as `after` for the next page; nil when this is the last page.
    var next: [UInt8]?
}
