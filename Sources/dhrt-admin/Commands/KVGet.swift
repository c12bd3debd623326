import ArgumentParser
import Foundation

/// `dhrt-admin kv get [COLLECTION] KEY`.
struct KVGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a key's value (or its siblings after concurrent writes).",
        discussion: "The collection defaults to 'default'. Use --verbose to see the causal context and replicas."
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var quorum: QuorumOptions

    @Argument(help: "[COLLECTION] KEY")
    var words: [String]

    @Flag(name: .shortAndLong, help: "Also print the context, replicas, acks and repairs.")
    var verbose = false

    func validate() throws { _ = try collectionAndKey(words) }

    func run() async throws {
        let (collection, key) = try collectionAndKey(words)
        let reading = try await options.kv.read(collection: collection, key: key, quorum: quorum.headers)
        print(options.json ? reading.json() : reading.text(verbose: verbose))
    }
}

/// A read's outcome: one value or several siblings.
struct KVRead {
    var collection: String
    var key: String
    var values: [[UInt8]]
    var context: String?
    /// 200 for a value, 300 for siblings.
    var status: Int
    var replicas: String?
    var acks: Int?
    var repaired: Int?

    func text(verbose: Bool) -> String {
        var lines: [String] = []
        if values.count == 1 {
            lines.append(ValueText.render(values[0]))
        } else {
            lines.append("\(values.count) siblings (concurrent writes); write with --context to resolve:")
            for (index, value) in values.enumerated() { lines.append("  [\(index + 1)] \(ValueText.render(value))") }
        }
        if verbose || values.count > 1, let context { lines.append("context: \(context)") }
        if verbose {
            if let replicas { lines.append("replicas: \(replicas)") }
            if let acks { lines.append("acks: \(acks)") }
            if let repaired { lines.append("repaired: \(repaired)") }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var object: [String: Any] = [
            "collection": collection, "key": key, "status": status, "values": values.map { ValueText.render($0) },
        ]
        object["context"] = context
        object["replicas"] = replicas
        object["acks"] = acks.map(String.init)
        return JSONText.render(object)
    }
}

/// Shows bytes as text when they are printable UTF-8, else as base64.
enum ValueText {
    static func render(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self),
            !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" })
        {
            return text
        }
        return "base64:" + Data(bytes).base64EncodedString()
    }
}

/// Pretty JSON text for Foundation object trees.
enum JSONText {
    static func render(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        else { return "\(object)" }
        return String(decoding: data, as: UTF8.self)
    }
}
