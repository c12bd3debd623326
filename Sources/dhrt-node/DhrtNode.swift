import ArgumentParser

@main
struct DhrtNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dhrt-node", abstract: "A dhrt storage node.")
    func run() async throws {}
}
