import Coordinator
import Foundation

/// A client write prepared for the coordinating replica: parsed context, conditions, new sibling.
struct WriteChange: Sendable {
    var context: VersionVector?
    var content: Content?
    var ifMatch: VersionVector?
    var ifNoneMatch: Bool
    var actor: String
    var timestamp: UInt64

    init(_ request: WriteRequest, actor: String) throws(APIError) {
        context = try request.context.map { text throws(APIError) in try Self.parse(text, header: "X-Dhrt-Context") }
        ifMatch = try request.ifMatch.map { text throws(APIError) in
            try Self.parse(Self.unquoted(text), header: "If-Match")
        }
        content = request.content
        ifNoneMatch = request.ifNoneMatch
        self.actor = actor
        timestamp = UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
    }

    /// The object after the write, or 412 if a condition fails against `current`.
    ///
    /// A delete without a context supersedes everything this replica has seen, so that a plain
    /// `DELETE` removes the key instead of adding a tombstone sibling; a PUT without one is a blind
    /// write and becomes a sibling of any value it did not see.
    func apply(to current: VersionedObject) throws(APIError) -> VersionedObject {
        if ifNoneMatch, !current.isNotFound {
            throw .preconditionFailed("If-None-Match: * failed: the key exists")
        }
        if let ifMatch {
            guard !current.isNotFound else { throw .preconditionFailed("If-Match failed: the key does not exist") }
            guard ifMatch.descends(current.context) else {
                throw .preconditionFailed("If-Match failed: the stored version has changed since that context")
            }
        }
        var updated = current
        if let content {
            updated.update(
                context: context ?? VersionVector(), value: content.value, contentType: content.contentType,
                actor: actor, timestamp: timestamp)
        } else {
            updated.delete(context: context ?? current.context, actor: actor, timestamp: timestamp)
        }
        return updated
    }

    private static func parse(_ text: String, header: String) throws(APIError) -> VersionVector {
        do {
            return try VersionVector(clientContext: text)
        } catch {
            throw .badRequest("bad_context", "\(header) is not a valid context: \(error)")
        }
    }

    /// ETag-style quoting is accepted: `"abc"` means `abc`.
    private static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast())
    }
}
