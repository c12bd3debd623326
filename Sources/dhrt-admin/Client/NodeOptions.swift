import ArgumentParser
import Foundation

/// Options shared by every command that talks to one node.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "Base URL of any dhrt node, http:// or https://; every node accepts every request.")
    var node: String = "http://127.0.0.1:8701"

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Option(name: .long, help: "Bearer token sent to the node (default: $DHRT_TOKEN).")
    var token: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "PEM CA certificate that an https:// node's certificate must chain to (default: $DHRT_CACERT, else the "
                + "system's roots)."))
    var cacert: String?

    func validate() throws {
        guard NodeURL.isValid(node) else {
            throw ValidationError("--node must look like http://HOST:PORT or https://HOST:PORT, got '\(node)'.")
        }
        if let path = resolvedCACert {
            do {
                _ = try HTTPClients.certificates(path)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    var client: NodeClient {
        NodeClient(baseURL: NodeURL.normalized(node), token: resolvedToken, caFile: resolvedCACert)
    }

    /// `--cacert`, else `DHRT_CACERT`, else none.
    var resolvedCACert: String? {
        cacert ?? ProcessInfo.processInfo.environment["DHRT_CACERT"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The kv commands' client, generated from Docs/openapi.yaml.
    var kv: KVClient { KVClient(baseURL: NodeURL.normalized(node), token: resolvedToken, caFile: resolvedCACert) }

    /// `path` fetched from every member the node lists, by name, all at once; a member that does not answer
    /// within 5 s maps to `["unreachable": true]`.
    func fromEveryMember(_ path: String) async throws -> [String: [String: Any]] {
        let status = try await client.json("/v1/status") as? [String: Any] ?? [:]
        let members = (status["members"] as? [[String: Any]] ?? []).compactMap { member -> (String, String)? in
            guard let name = member["name"] as? String, let http = member["http_address"] as? String else { return nil }
            return (name, http)
        }
        let token = resolvedToken
        let caFile = resolvedCACert
        let scheme = NodeURL.scheme(node)
        // The tasks hand back bytes (Sendable); the JSON is parsed here.
        let bodies = await withTaskGroup(of: (String, [UInt8]?).self) { group in
            for (name, http) in members {
                group.addTask {
                    let client = NodeClient(
                        baseURL: "\(scheme)://\(http)", token: token, timeout: .seconds(5), caFile: caFile)
                    return (name, try? await client.expect(.GET, path).body)
                }
            }
            var bodies: [String: [UInt8]?] = [:]
            for await (name, body) in group { bodies[name] = body }
            return bodies
        }
        return bodies.mapValues { body in
            body.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) } as? [String: Any] ?? [
                "unreachable": true
            ]
        }
    }

    /// `--token`, else `DHRT_TOKEN`, else none.
    var resolvedToken: String? {
        token ?? ProcessInfo.processInfo.environment["DHRT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Per-request consistency, sent as `X-Dhrt-R`, `X-Dhrt-W` and `X-Dhrt-Consistency`.
struct QuorumOptions: ParsableArguments {
    @Option(name: .customLong("r"), help: "Read quorum: one, quorum, all or a number of replicas.")
    var r: String?

    @Option(name: .customLong("w"), help: "Write quorum: one, quorum, all or a number of replicas.")
    var w: String?

    @Option(name: .long, help: "Sets both R and W: one, quorum or all.")
    var consistency: String?

    func validate() throws {
        for (flag, value) in [("--r", r), ("--w", w)] {
            if let value, !QuorumValue.isValid(value) {
                throw ValidationError("\(flag) must be one, quorum, all or a positive integer, got '\(value)'.")
            }
        }
        if let consistency, !["one", "quorum", "all"].contains(consistency) {
            throw ValidationError("--consistency must be one, quorum or all, got '\(consistency)'.")
        }
    }

    var headers: [(String, String)] {
        var headers: [(String, String)] = []
        if let consistency { headers.append(("X-Dhrt-Consistency", consistency)) }
        if let r { headers.append(("X-Dhrt-R", r)) }
        if let w { headers.append(("X-Dhrt-W", w)) }
        return headers
    }
}

/// A quorum given by name or as a replica count.
enum QuorumValue {
    static func isValid(_ text: String) -> Bool {
        if ["one", "quorum", "all"].contains(text) { return true }
        guard let count = Int(text) else { return false }
        return count >= 1
    }

    /// The replica count a quorum stands for, with `n` replicas per key.
    static func count(_ text: String, n: Int) -> Int? {
        switch text {
        case "one": 1
        case "quorum": n / 2 + 1
        case "all": n
        default: Int(text)
        }
    }
}

/// Checks and tidies node base URLs, `http://` or `https://`.
enum NodeURL {
    /// `https` or `http`, as the URL says.
    static func scheme(_ url: String) -> String { url.hasPrefix("https://") ? "https" : "http" }

    private static func authority(_ url: String) -> Substring? {
        for prefix in ["http://", "https://"] where url.hasPrefix(prefix) {
            return url.dropFirst(prefix.count).split(separator: "/", maxSplits: 1).first ?? ""
        }
        return nil
    }

    static func isValid(_ url: String) -> Bool {
        guard let rest = authority(url) else { return false }
        guard let colon = rest.lastIndex(of: ":") else { return !rest.isEmpty }
        guard let port = Int(rest[rest.index(after: colon)...]) else { return false }
        return (1...65535).contains(port) && colon != rest.startIndex
    }

    static func normalized(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Host and port of `http://HOST[:PORT]` or `https://HOST[:PORT]`.
    static func hostAndPort(_ url: String) -> (host: String, port: Int)? {
        guard isValid(url), let rest = authority(url) else { return nil }
        guard let colon = rest.lastIndex(of: ":") else { return (String(rest), scheme(url) == "https" ? 443 : 80) }
        guard let port = Int(rest[rest.index(after: colon)...]) else { return nil }
        return (String(rest[..<colon]), port)
    }
}
