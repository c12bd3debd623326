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
        let reading = try await KVRead.perform(options.client, collection: collection, key: key, quorum: quorum.headers)
        print(options.json ? reading.json() : reading.text(verbose: verbose))
    }
}

/// A read's outcome: one value or several siblings.
struct KVRead {
    var collection: String
    var key: String
    var values: [[UInt8]]
    var context: String?
    var response: NodeResponse

    static func perform(
        _ client: NodeClient, collection: String, key: String, quorum: [(String, String)]
    ) async throws -> KVRead {
        let path = NodeClient.kvPath(collection: collection, key: key)
        let response = try await client.expect(.GET, path, headers: quorum, accepting: [300])
        let values = response.status == 300 ? Siblings.values(in: response.body) : [response.body]
        return KVRead(
            collection: collection, key: key, values: values,
            context: response.header("X-Dhrt-Context") ?? Siblings.context(in: response.body), response: response)
    }

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
            for name in ["X-Dhrt-Replicas", "X-Dhrt-Acks", "X-Dhrt-Repaired"] {
                if let value = response.header(name) { lines.append("\(name.dropFirst(7).lowercased()): \(value)") }
            }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var object: [String: Any] = [
            "collection": collection, "key": key, "status": response.status,
            "values": values.map { ValueText.render($0) },
        ]
        object["context"] = context
        object["replicas"] = response.header("X-Dhrt-Replicas")
        object["acks"] = response.header("X-Dhrt-Acks")
        return JSONText.render(object)
    }
}

/// Reads the node's 300 Multiple Choices body, whatever exact field names it uses.
enum Siblings {
    static func values(in body: [UInt8]) -> [[UInt8]] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body)) else { return [body] }
        let list: [Any]
        if let array = root as? [Any] {
            list = array
        } else if let object = root as? [String: Any],
            let array = object["siblings"] as? [Any] ?? object["values"] as? [Any]
        {
            list = array
        } else {
            return [body]
        }
        return list.map { item in
            if let text = item as? String { return decode(text) }
            if let object = item as? [String: Any] {
                if object["deleted"] as? Bool == true || object["tombstone"] as? Bool == true {
                    return Array("(deleted)".utf8)
                }
                if let text = object["value"] as? String { return decode(text) }
            }
            return Array("\(item)".utf8)
        }
    }

    static func context(in body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return object["context"] as? String
    }

    private static func decode(_ base64: String) -> [UInt8] {
        var text = base64.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        if let data = Data(base64Encoded: text) { return Array(data) }
        return Array(base64.utf8)
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
