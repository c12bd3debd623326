import ArgumentParser

/// `dhrt-admin kv …`: read and write single keys.
struct KV: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Get, set, delete and list keys.",
        subcommands: [KVGet.self, KVSet.self, KVDel.self, KVList.self]
    )
}

/// The default collection, as in the original design's short routes.
let defaultCollection = "default"

/// Splits `[COLLECTION] KEY` into its parts.
func collectionAndKey(_ words: [String]) throws -> (collection: String, key: String) {
    switch words.count {
    case 1: return (defaultCollection, words[0])
    case 2: return (words[0], words[1])
    default: throw ValidationError("expected [COLLECTION] KEY, got \(words.count) words.")
    }
}
