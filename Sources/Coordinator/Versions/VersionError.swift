/// Why bytes or a client context could not be decoded into a version. Garbage never crashes the decoder; it
/// ends here, and the node answers 400 (client context) or reports a corrupt record (storage, peers).
public enum VersionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No bytes at all.
    case empty
    /// The leading format byte is not one this build knows.
    case unsupportedFormat(UInt8)
    /// The bytes end in the middle of a field.
    case truncated
    /// A variable-length integer is longer than 10 bytes, overflows 64 bits, or is not minimally encoded.
    case malformedInteger
    /// A count announces more elements than the remaining bytes could hold.
    case implausibleCount(Int)
    /// An actor name is empty, longer than 255 bytes, or not printable ASCII.
    case invalidActorName
    /// Actor names are not strictly ascending (duplicate or out of order).
    case unsortedActors
    /// A version vector entry has counter 0.
    case zeroCounter
    /// A sibling refers to an actor index outside the actor table.
    case unknownActorIndex(Int)
    /// A sibling's dot lies outside the object's context.
    case dotOutsideContext
    /// Siblings are not strictly ascending by dot (duplicate or out of order).
    case unsortedSiblings
    /// A sibling's flags byte has bits this build does not know.
    case unknownFlags(UInt8)
    /// A tombstone sibling carries a value.
    case tombstoneWithValue
    /// A content type is longer than 1024 bytes or not UTF-8.
    case invalidContentType
    /// Bytes remain after the last field.
    case trailingBytes(Int)
    /// A client context is not unpadded base64url.
    case invalidBase64
    /// A client context is longer than the limit.
    case contextTooLong(Int)
    /// A client context has more actors or a larger counter than any real cluster produces.
    case implausibleContext

    /// A sentence for logs and HTTP error details.
    public var description: String {
        switch self {
        case .empty: "no bytes"
        case .unsupportedFormat(let byte): "unsupported format byte \(byte)"
        case .truncated: "truncated"
        case .malformedInteger: "malformed variable-length integer"
        case .implausibleCount(let count): "count \(count) exceeds the remaining bytes"
        case .invalidActorName: "actor name must be 1-255 printable ASCII bytes"
        case .unsortedActors: "actor names are not strictly ascending"
        case .zeroCounter: "version vector entry with counter 0"
        case .unknownActorIndex(let index): "sibling refers to unknown actor index \(index)"
        case .dotOutsideContext: "sibling dot outside the causal context"
        case .unsortedSiblings: "siblings are not strictly ascending by dot"
        case .unknownFlags(let flags): "unknown sibling flags \(flags)"
        case .tombstoneWithValue: "tombstone sibling carries a value"
        case .invalidContentType: "content type must be at most 1024 bytes of UTF-8"
        case .trailingBytes(let count): "\(count) trailing bytes"
        case .invalidBase64: "context is not unpadded base64url"
        case .contextTooLong(let length): "context of \(length) characters exceeds the limit"
        case .implausibleContext: "context has too many actors or too large a counter"
        }
    }
}
