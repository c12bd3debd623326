import ArgumentParser
import Foundation

/// `dhrt-admin kv list COLLECTION`.
struct KVList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a collection's keys in order, one page at a time."
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: "The collection to list.")
    var collection: String = defaultCollection

    @Option(help: "Keys per page (1-10000).")
    var limit: Int = 100

    @Option(help: "Continue a listing: the 'next' of the previous page, as printed.")
    var cursor: String?

    @Option(help: "Start after this key (plain text; it is percent-encoded for you).")
    var after: String?

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1-10000, got \(limit).") }
        if cursor != nil, after != nil { throw ValidationError("Give --cursor or --after, not both.") }
    }

    func run() async throws {
        var path = "/v1/kv/\(PathEscape.component(collection))?limit=\(limit)"
        // The cursor is base64url, which needs no escaping; escaping it anyway is harmless.
        if let cursor { path += "&cursor=\(PathEscape.query(cursor))" }
        if let after { path += "&after=\(PathEscape.query(after))" }
        let response = try await options.client.expect(.GET, path)
        if options.json {
            print(response.text)
            return
        }
        let page = KeyPage(response.body)
        page.keys.forEach { print($0) }
        if let next = page.next { print("… more: --cursor \(next)") }
    }
}

/// One page of a key listing, read leniently.
struct KeyPage {
    var keys: [String] = []
    var next: String?

    init(_ body: [UInt8]) {
        let root = try? JSONSerialization.jsonObject(with: Data(body))
        if let array = root as? [String] {
            keys = array
        } else if let object = root as? [String: Any] {
            keys = (object["keys"] as? [Any] ?? []).map { "\($0)" }
            next = object["next"] as? String ?? object["after"] as? String ?? object["cursor"] as? String
        }
    }
}
