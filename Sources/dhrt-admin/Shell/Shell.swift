import ArgumentParser
import Foundation

/// `dhrt-admin shell`: an interactive prompt, also scriptable through stdin.
struct Shell: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "A prompt with set/get/del/list/stats/ring/history; reads commands from stdin line by line.",
        discussion: "Scripted use: echo 'set a 1' | dhrt-admin shell. Exits non-zero if any scripted command failed."
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var quorum: QuorumOptions

    func run() async throws {
        var session = ShellSession(client: options.client, quorum: quorum.headers)
        let interactive = isatty(STDIN_FILENO) != 0
        if interactive { print("dhrt shell on \(options.client.baseURL); type help") }
        var failures = 0
        while true {
            if interactive {
                FileHandle.standardOutput.write(Data("dhrt> ".utf8))
            }
            guard let line = readLine() else { break }
            switch await session.execute(line) {
            case .output(let text):
                if !text.isEmpty { print(text) }
            case .failure(let message):
                failures += 1
                FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
            case .exit:
                return finish(failures: failures, interactive: interactive)
            }
        }
        finish(failures: failures, interactive: interactive)
    }

    private func finish(failures: Int, interactive: Bool) {
        if !interactive && failures > 0 { Foundation.exit(1) }
    }
}

/// The shell's state: the node, the quorum headers and the history.
struct ShellSession {
    enum Outcome: Equatable {
        case output(String)
        case failure(String)
        case exit
    }

    let client: NodeClient
    let kv: KVClient
    let quorum: [(String, String)]
    private(set) var history: [String] = []

    init(client: NodeClient, quorum: [(String, String)]) {
        self.client = client
        self.kv = KVClient(baseURL: client.baseURL, token: client.token, caFile: client.caFile)
        self.quorum = quorum
    }

    mutating func execute(_ line: String) async -> Outcome {
        let command: ShellCommand
        do {
            command = try ShellCommand.parse(line)
        } catch {
            return .failure(error.description)
        }
        if command != .empty { history.append(line.trimmingCharacters(in: .whitespaces)) }
        do {
            return try await perform(command)
        } catch {
            return .failure("\(error)")
        }
    }

    private func perform(_ command: ShellCommand) async throws -> Outcome {
        switch command {
        case .empty: return .output("")
        case .help: return .output(ShellCommand.helpText)
        case .exit: return .exit
        case .history:
            return .output(history.enumerated().map { "\($0.offset + 1)  \($0.element)" }.joined(separator: "\n"))
        case .set(let collection, let key, let value):
            let answer = try await kv.write(
                collection: collection, key: key, value: Array(value.utf8), contentType: nil, context: nil,
                quorum: quorum)
            return .output(WriteReport.text(answer))
        case .get(let collection, let key):
            let read = try await kv.read(collection: collection, key: key, quorum: quorum)
            return .output(read.text(verbose: false))
        case .del(let collection, let key):
            let answer = try await kv.delete(collection: collection, key: key, context: nil, quorum: quorum)
            return .output(WriteReport.text(answer))
        case .list(let collection):
            let page = try await kv.list(collection: collection, limit: 100)
            return .output((page.keys + (page.next.map { _ in ["…"] } ?? [])).joined(separator: "\n"))
        case .stats:
            return .output(Outline.render(try await client.json("/v1/status")))
        case .ring:
            return .output(try await RingSummary.fetch(client).text)
        }
    }
}
