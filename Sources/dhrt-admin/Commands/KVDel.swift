import ArgumentParser

/// `dhrt-admin kv del [COLLECTION] KEY`.
struct KVDel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "del",
        abstract: "Delete a key.",
        discussion: "The collection defaults to 'default'.",
        aliases: ["delete", "rm"]
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var quorum: QuorumOptions

    @Argument(help: "[COLLECTION] KEY")
    var words: [String]

    @Option(help: "Causal context from a previous read (X-Dhrt-Context).")
    var context: String?

    func validate() throws { _ = try collectionAndKey(words) }

    func run() async throws {
        let (collection, key) = try collectionAndKey(words)
        let answer = try await options.kv.delete(
            collection: collection, key: key, context: context, quorum: quorum.headers)
        print(options.json ? WriteReport.json(answer, collection: collection, key: key) : WriteReport.text(answer))
    }
}
