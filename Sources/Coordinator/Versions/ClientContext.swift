extension VersionVector {
    /// Longest client context accepted, in characters.
    public static let maxClientContextLength = 8192
    /// Most actors a client context may name.
    public static let maxClientContextActors = 256
    /// Largest counter a client context may carry; far above any real key's history, far below overflow.
    public static let maxClientContextCounter: UInt64 = 1 << 48

    /// The opaque causal context handed to clients (`X-Dhrt-Context`): unpadded base64url of `encoded()`.
    public var clientContext: String {
        Base64URL.encode(encoded())
    }

    /// Parses a client context strictly: canonical base64url of a valid clock within the plausibility limits.
    /// The node answers 400 with the error's description when this throws.
    public init(clientContext text: String) throws(VersionError) {
        let length = text.utf8.count
        guard length <= Self.maxClientContextLength else { throw .contextTooLong(length) }
        guard let bytes = Base64URL.decode(text) else { throw .invalidBase64 }
        guard bytes.first == VersionFormat.clock else {
            throw bytes.isEmpty ? .empty : .unsupportedFormat(bytes[0])
        }
        let vector = try VersionVector.decode(bytes)
        guard vector.counters.count <= Self.maxClientContextActors,
            vector.counters.values.allSatisfy({ $0 <= Self.maxClientContextCounter })
        else { throw .implausibleContext }
        self = vector
    }
}
