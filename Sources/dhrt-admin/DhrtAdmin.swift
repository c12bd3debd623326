import ArgumentParser

@main
struct DhrtAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dhrt-admin", abstract: "Operate a dhrt cluster.")
    func run() async throws {}
}
