/// A requested read or write quorum before it is counted against the preference list.
public enum ConsistencyLevel: Hashable, Sendable, CustomStringConvertible {
    /// One replica.
    case one
    /// A majority of the available replicas: `available / 2 + 1`.
    case quorum
    /// Every available replica.
    case all
    /// Exactly this many replicas (1…N).
    case count(Int)

    /// Parses `one`, `quorum`, `all` (any case) or a decimal integer 1…n; surrounding blanks are ignored.
    /// - Parameter header: The header the text came from, named in the error message.
    public static func parse(_ text: String, header: String, n: Int) throws(ConsistencyError) -> ConsistencyLevel {
        // The spellings clients send on every request, without trimming or case folding.
        switch text {
        case "quorum": return .quorum
        case "one": return .one
        case "all": return .all
        default: break
        }
        let trimmed = text.trimmingBlanks()
        switch trimmed.lowercased() {
        case "one": return .one
        case "quorum": return .quorum
        case "all": return .all
        default: break
        }
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .malformed(header: header, value: text, n: n)
        }
        guard let value = Int(trimmed), value <= n else { throw .exceedsN(header: header, value: trimmed, n: n) }
        guard value > 0 else { throw .zero(header: header) }
        return .count(value)
    }

    /// The number of replies needed, given N and the number of distinct replicas in the preference list.
    ///
    /// `quorum` and `all` count over the replicas that exist (a cluster smaller than N still serves); an
    /// explicit count is kept as asked, so a count above the available replicas fails later with "not enough
    /// replicas" (503) rather than silently weakening.
    public func required(n: Int, available: Int) -> Int {
        let replicas = max(1, min(n, available))
        switch self {
        case .one: return 1
        case .quorum: return replicas / 2 + 1
        case .all: return replicas
        case .count(let value): return value
        }
    }

    /// `one`, `quorum`, `all` or the number.
    public var description: String {
        switch self {
        case .one: "one"
        case .quorum: "quorum"
        case .all: "all"
        case .count(let value): String(value)
        }
    }
}

/// A malformed or impossible consistency header; the node answers 400 with `description` as the detail.
public enum ConsistencyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not `one`, `quorum`, `all` or an integer.
    case malformed(header: String, value: String, n: Int)
    /// The integer 0.
    case zero(header: String)
    /// An integer above N.
    case exceedsN(header: String, value: String, n: Int)

    /// A sentence naming the header and what is allowed.
    public var description: String {
        switch self {
        case .malformed(let header, let value, let n):
            "\(header): \"\(value)\" is not one, quorum, all or an integer from 1 to \(n)"
        case .zero(let header):
            "\(header): 0 replicas is not a quorum; ask for at least 1"
        case .exceedsN(let header, let value, let n):
            "\(header): \(value) exceeds the replication factor N=\(n)"
        }
    }
}

/// The request headers that choose quorums.
public enum ConsistencyHeaders {
    /// Sets both R and W.
    public static let consistency = "X-Dhrt-Consistency"
    /// Sets R, overriding `X-Dhrt-Consistency`.
    public static let r = "X-Dhrt-R"
    /// Sets W, overriding `X-Dhrt-Consistency`.
    public static let w = "X-Dhrt-W"
}

/// The number of replies a request needs.
public struct Quorums: Hashable, Sendable {
    /// Replies needed before a read answers.
    public var r: Int
    /// Acknowledgements needed before a write succeeds.
    public var w: Int

    /// Creates quorum sizes.
    public init(r: Int, w: Int) {
        self.r = r
        self.w = w
    }

    /// Resolves the three optional headers against the collection's N and the preference list's size.
    ///
    /// `X-Dhrt-Consistency` sets both; `X-Dhrt-R` / `X-Dhrt-W` override it; absent headers take the defaults.
    /// Every header present is validated, even one that is overridden.
    /// - Parameters:
    ///   - n: The collection's replication factor (≥ 1).
    ///   - available: Distinct replicas in the key's preference list (`min(N, cluster size)`).
    public static func resolve(
        consistency: String?,
        r: String?,
        w: String?,
        n: Int,
        available: Int,
        defaultR: ConsistencyLevel = .quorum,
        defaultW: ConsistencyLevel = .quorum
    ) throws(ConsistencyError) -> Quorums {
        let both = try consistency.map { text throws(ConsistencyError) in
            try ConsistencyLevel.parse(text, header: ConsistencyHeaders.consistency, n: n)
        }
        let readLevel = try r.map { text throws(ConsistencyError) in
            try ConsistencyLevel.parse(text, header: ConsistencyHeaders.r, n: n)
        }
        let writeLevel = try w.map { text throws(ConsistencyError) in
            try ConsistencyLevel.parse(text, header: ConsistencyHeaders.w, n: n)
        }
        return Quorums(
            r: (readLevel ?? both ?? defaultR).required(n: n, available: available),
            w: (writeLevel ?? both ?? defaultW).required(n: n, available: available)
        )
    }
}

extension String {
    func trimmingBlanks() -> String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }
        var trimmed = String(String.UnicodeScalarView(scalars))
        while trimmed.last == " " || trimmed.last == "\t" {
            trimmed.removeLast()
        }
        return trimmed
    }
}
