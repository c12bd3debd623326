import ArgumentParser
import Foundation

/// `dhrt-admin stats`: the node's `/v1/status`.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show a node's status: the node, its view of the ring and storage figures."
    )

    @OptionGroup var options: NodeOptions

    func run() async throws {
        let status = try await options.client.json("/v1/status")
        print(options.json ? JSONText.render(status) : Outline.render(status))
    }
}

/// Renders a JSON tree as an indented outline that reads like YAML.
enum Outline {
    static func render(_ value: Any, indent: Int = 0) -> String {
        var lines: [String] = []
        append(value, indent: indent, into: &lines)
        return lines.joined(separator: "\n")
    }

    private static func append(_ value: Any, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: "  ", count: indent)
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() {
                let child = object[key]!
                if isScalar(child) {
                    lines.append("\(pad)\(key): \(scalar(child))")
                } else if let array = child as? [Any], array.allSatisfy(isScalar), array.count <= 16 {
                    lines.append("\(pad)\(key): [\(array.map(scalar).joined(separator: ", "))]")
                } else if let array = child as? [Any], array.allSatisfy(isScalar) {
                    lines.append("\(pad)\(key): [\(array.count) values]")
                } else {
                    lines.append("\(pad)\(key):")
                    append(child, indent: indent + 1, into: &lines)
                }
            }
        } else if let array = value as? [Any] {
            for item in array {
                if isScalar(item) {
                    lines.append("\(pad)- \(scalar(item))")
                } else {
                    var nested: [String] = []
                    append(item, indent: indent + 1, into: &nested)
                    if var first = nested.first {
                        first = pad + "- " + first.dropFirst(pad.count + 2)
                        nested[0] = first
                    }
                    lines += nested
                }
            }
        } else {
            lines.append(pad + scalar(value))
        }
    }

    private static func isScalar(_ value: Any) -> Bool { !(value is [String: Any]) && !(value is [Any]) }

    private static func scalar(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let number = value as? NSNumber {
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        }
        return "\(value)"
    }
}
