/// Conditional-write headers, checked by the coordinating replica against its own stored copy, atomically
/// with the write (inside Storage's read-modify-write).
///
/// - `If-Match: <context>` holds when the given context descends the stored object's context: the client has
///   seen every write the coordinator's copy knows (equal, or newer when the client read a fresher replica).
///   Otherwise the version "moved on" and the write fails with 412. A key never written (empty context) matches
///   any context. `If-Match: *` holds when a live value exists.
/// - `If-None-Match: *` holds when no live value exists (absent, or only tombstones). Other values are refused.
///
/// Both are local checks: a concurrent write that has reached other replicas but not this one is not seen.
public struct WritePreconditions: Hashable, Sendable {
    /// What `If-Match` asked for.
    public enum Match: Hashable, Sendable {
        /// `If-Match: *`.
        case anyLiveValue
        /// `If-Match: <context>`.
        case context(VersionVector)
    }

    /// The parsed `If-Match`, if any.
    public var ifMatch: Match?
    /// Whether `If-None-Match: *` was given.
    public var ifNoneMatchAny: Bool

    /// No condition.
    public static let none = WritePreconditions(ifMatch: nil, ifNoneMatchAny: false)

    /// Creates preconditions.
    public init(ifMatch: Match?, ifNoneMatchAny: Bool) {
        self.ifMatch = ifMatch
        self.ifNoneMatchAny = ifNoneMatchAny
    }

    /// Parses the two headers; the node answers 400 with the error's description when this throws.
    public static func parse(ifMatch: String?, ifNoneMatch: String?) throws(PreconditionError) -> WritePreconditions {
        var result = WritePreconditions.none
        if let text = ifMatch?.trimmingBlanks() {
            if text == "*" {
                result.ifMatch = .anyLiveValue
            } else {
                // Tolerate the quotes of an HTTP entity tag around the context.
                let bare = text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") ? String(text.dropFirst().dropLast()) : text
                do {
                    result.ifMatch = .context(try VersionVector(clientContext: bare))
                } catch {
                    throw .malformedIfMatch(error)
                }
            }
        }
        if let text = ifNoneMatch?.trimmingBlanks() {
            guard text == "*" else { throw .unsupportedIfNoneMatch(text) }
            result.ifNoneMatchAny = true
        }
        return result
    }

    /// Checks the conditions against the coordinator's stored copy.
    public func check(_ stored: VersionedObject) throws(PreconditionError) {
        switch ifMatch {
        case .anyLiveValue?:
            guard !stored.isNotFound else { throw .failed("If-Match: * but the key has no value") }
        case .context(let context)?:
            guard context.descends(stored.context) else {
                throw .failed("If-Match: the stored version \(stored.context) has moved on from \(context)")
            }
        case nil:
            break
        }
        if ifNoneMatchAny, !stored.isNotFound {
            throw .failed("If-None-Match: * but the key has a value")
        }
    }
}

/// A conditional header that is malformed (400) or does not hold (412).
public enum PreconditionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `If-Match` is neither `*` nor a valid context (400).
    case malformedIfMatch(VersionError)
    /// `If-None-Match` is not `*` (400).
    case unsupportedIfNoneMatch(String)
    /// The condition does not hold (412).
    case failed(String)

    /// Whether the node should answer 412 rather than 400.
    public var isPreconditionFailure: Bool {
        if case .failed = self { true } else { false }
    }

    /// A sentence for the HTTP error detail.
    public var description: String {
        switch self {
        case .malformedIfMatch(let error): "If-Match: not * or a context: \(error)"
        case .unsupportedIfNoneMatch(let value): "If-None-Match: only * is supported, got \"\(value)\""
        case .failed(let reason): reason
        }
    }
}
