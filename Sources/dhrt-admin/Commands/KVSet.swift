import ArgumentParser

/// `dhrt-admin kv set [COLLECTION] KEY VALUE`.
struct KVSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Write a value.",
        discussion: "The collection defaults to 'default'. Pass --context from a read to supersede what was read."
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var quorum: QuorumOptions

    @Argument(help: "[COLLECTION] KEY VALUE")
    var words: [String]

    @Option(help: "Causal context from a previous read (X-Dhrt-Context); resolves siblings.")
    var context: String?

    @Option(help: "Content-Type stored with the value.")
    var contentType: String = "application/octet-stream"

    func validate() throws {
        guard words.count == 2 || words.count == 3 else {
            throw ValidationError("expected [COLLECTION] KEY VALUE, got \(words.count) words.")
        }
    }

    func run() async throws {
        let (collection, key) = try collectionAndKey(Array(words.dropLast()))
        var headers = quorum.headers + [("Content-Type", contentType)]
        if let context { headers.append(("X-Dhrt-Context", context)) }
        let response = try await options.client.expect(
            .PUT, NodeClient.kvPath(collection: collection, key: key), headers: headers,
            body: Array(words.last!.utf8))
        print(options.json ? WriteReport.json(response, collection: collection, key: key) : WriteReport.text(response))
    }
}

/// Prints what a node said about a write or delete.
enum WriteReport {
    static func text(_ response: NodeResponse) -> String {
        var parts = ["ok"]
        if let acks = response.header("X-Dhrt-Acks") { parts.append("acks \(acks)") }
        if let replicas = response.header("X-Dhrt-Replicas") { parts.append("replicas \(replicas)") }
        return parts.joined(separator: ", ")
    }

    static func json(_ response: NodeResponse, collection: String, key: String) -> String {
        var object: [String: Any] = ["collection": collection, "key": key, "status": response.status]
        object["acks"] = response.header("X-Dhrt-Acks")
        object["replicas"] = response.header("X-Dhrt-Replicas")
        object["context"] = response.header("X-Dhrt-Context")
        return JSONText.render(object)
    }
}
