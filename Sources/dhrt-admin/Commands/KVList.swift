import ArgumentParser
import DhrtClient
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
        let page = try await options.kv.list(collection: collection, limit: limit, cursor: cursor, after: after)
        if options.json {
            print(KeyPageJSON.render(page))
            return
        }
        page.keys.forEach { print($0) }
        if let next = page.next { print("… more: --cursor \(next)") }
    }
}

/// A key page as the node writes it: compact JSON, its members in the node's order.
enum KeyPageJSON {
    static func render(_ page: Components.Schemas.KeyPage) -> String {
        var parts = [#""collection":"# + quoted(page.collection)]
        if let encoding = page.encoding { parts.append(#""encoding":"# + quoted(encoding.rawValue)) }
        parts.append(#""keys":["# + page.keys.map(quoted).joined(separator: ",") + "]")
        parts.append(#""next":"# + (page.next.map(quoted) ?? "null"))
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// A JSON string with the node's escapes: quote, backslash, \n, \r, \t and \u00XX for other controls.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
