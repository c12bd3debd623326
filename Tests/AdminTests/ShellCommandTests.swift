import Testing

@testable import dhrt_admin

@Suite struct ShellCommandTests {
    @Test(arguments: [
        ("set a 1", ShellCommand.set(collection: "default", key: "a", value: "1")),
        ("set users alice 42", .set(collection: "users", key: "alice", value: "42")),
        ("SET greeting \"hello world\"", .set(collection: "default", key: "greeting", value: "hello world")),
        ("set k 'it''s'", .set(collection: "default", key: "k", value: "its")),
        ("get a", .get(collection: "default", key: "a")),
        ("get users alice", .get(collection: "users", key: "alice")),
        ("del a", .del(collection: "default", key: "a")),
        ("delete users alice", .del(collection: "users", key: "alice")),
        ("list users", .list(collection: "users")),
        ("stats", .stats),
        ("ring", .ring),
        ("history", .history),
        ("help", .help),
        ("quit", .exit),
        ("   ", .empty),
    ])
    func line_parsesToItsCommand(line: String, expected: ShellCommand) throws {
        #expect(try ShellCommand.parse(line) == expected)
    }

    @Test(arguments: [
        ("set a", "usage: set [collection] key value"),
        ("set a b c d", "usage: set [collection] key value"),
        ("get", "usage: get [collection] key"),
        ("del a b c", "usage: del [collection] key"),
        ("stats now", "stats takes no arguments"),
        ("fly away", "unknown command 'fly'"),
        ("set a \"open", "unterminated quote"),
    ])
    func badLine_explainsWhatIsWrong(line: String, message: String) {
        #expect {
            try ShellCommand.parse(line)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test func words_keepEscapedSpaces() throws {
        #expect(try ShellWords.split(#"set a\ b "c d" e"#) == ["set", "a b", "c d", "e"])
    }

    @Test func session_recordsHistoryAndAnswersHelpWithoutANode() async {
        var session = ShellSession(client: NodeClient(baseURL: "http://127.0.0.1:1"), quorum: [])
        #expect(await session.execute("help") == .output(ShellCommand.helpText))
        #expect(await session.execute("bogus") == .failure("unknown command 'bogus'; type help"))
        guard case .output(let history) = await session.execute("history") else {
            Issue.record("history failed")
            return
        }
        #expect(history == "1  help\n2  history")
        #expect(await session.execute("exit") == .exit)
    }
}
