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
        let answer = try await options.kv.write(
            collection: collection, key: key, value: Array(words.last!.utf8), contentType: contentType,
            context: context, quorum: quorum.headers)
        print(options.json ? WriteReport.json(answer, collection: collection, key: key) : WriteReport.text(answer))
    }
}

/// Prints what a node said about a write or delete.
enum WriteReport {
    static func text(_ answer: WriteAnswer) -> String {
        "ok, acks \(answer.acks), replicas \(answer.replicas)"
    }

    static func json(_ answer: WriteAnswer, collection: String, key: String) -> String {
        var object: [String: Any] = [
            "collection": collection, "key": key, "status": answer.status, "acks": String(answer.acks),
            "replicas": answer.replicas,
        ]
        object["context"] = answer.context
        return JSONText.render(object)
    }
}
