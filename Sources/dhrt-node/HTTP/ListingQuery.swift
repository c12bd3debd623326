import Coordinator

/// The query of a key listing, `GET /v1/kv/{collection}?limit=&cursor=&after=&encoding=`.
///
/// The raw query is decoded here, once per value: `after` is any byte string, so `+` and `%25` mean only
/// themselves.
struct ListingQuery: Equatable, Sendable {
    /// Keys per page, 1 to 10,000.
    var limit = 1000
    /// List the keys strictly after this one: from `cursor` (the previous page's `next`) or `after` (a plain key).
    var after: [UInt8]?
    /// `encoding=base64`: keys are written in standard base64, exact for any bytes. Otherwise as UTF-8 text,
    /// with bytes that are not UTF-8 replaced.
    var base64 = false

    init(_ query: String?) throws(APIError) {
        if let text = PercentDecoding.rawQueryValue("limit", in: query) {
            guard let value = Int(text), (1...10_000).contains(value) else {
                throw .badRequest("bad_limit", "limit must be an integer from 1 to 10000")
            }
            limit = value
        }
        let cursor = PercentDecoding.rawQueryValue("cursor", in: query)
        let plain = PercentDecoding.rawQueryValue("after", in: query)
        switch (cursor, plain) {
        case (let cursor?, nil):
            guard let key = ListingCursor.decode(cursor), !key.isEmpty else {
                throw .badRequest("bad_cursor", "cursor is not the 'next' of a listing page")
            }
            after = key
        case (nil, let plain?):
            guard let bytes = PercentDecoding.decode(plain) else {
                throw .badRequest("bad_after", "after has a malformed percent escape")
            }
            after = bytes
        case (_?, _?):
            throw .badRequest("bad_cursor", "give cursor (a page's 'next') or after (a key), not both")
        case (nil, nil):
            break
        }
        switch PercentDecoding.rawQueryValue("encoding", in: query) {
        case nil: break
        case "base64": base64 = true
        default: throw .badRequest("bad_encoding", "encoding must be base64 (keys in standard base64) or absent")
        }
    }
}

/// The `next` of a listing page: the page's last key as unpadded base64url (RFC 4648 §5).
///
/// Every character of it is unreserved in a URL, so a URL library hands it back unchanged however it encodes a
/// query value; one that escapes even unreserved characters is undone by the one percent-decoding of the value.
enum ListingCursor {
    static func encode(_ key: [UInt8]) -> String { Base64URL.encode(key) }

    /// The key, or nil for anything but a percent-decodable, canonical base64url cursor.
    static func decode(_ raw: Substring) -> [UInt8]? {
        guard let bytes = PercentDecoding.decode(raw), let text = String(validating: bytes, as: UTF8.self) else {
            return nil
        }
        return Base64URL.decode(text)
    }
}
