/// One line of the shell, parsed.
enum ShellCommand: Equatable {
    case set(collection: String, key: String, value: String)
    case get(collection: String, key: String)
    case del(collection: String, key: String)
    case list(collection: String)
    case stats
    case ring
    case help
    case history
    case exit
    case empty

    /// Parses `set [collection] key value`, `get [collection] key`, `del [collection] key`, and the rest.
    static func parse(_ line: String) throws(ShellSyntaxError) -> ShellCommand {
        let words = try ShellWords.split(line)
        guard let verb = words.first?.lowercased() else { return .empty }
        let args = Array(words.dropFirst())
        switch verb {
        case "set", "put":
            switch args.count {
            case 2: return .set(collection: defaultCollection, key: args[0], value: args[1])
            case 3: return .set(collection: args[0], key: args[1], value: args[2])
            default: throw ShellSyntaxError("usage: set [collection] key value (quote values with spaces)")
            }
        case "get", "del", "delete":
            let isGet = verb == "get"
            switch args.count {
            case 1: return isGet ? .get(collection: defaultCollection, key: args[0])
                : .del(collection: defaultCollection, key: args[0])
            case 2: return isGet ? .get(collection: args[0], key: args[1]) : .del(collection: args[0], key: args[1])
            default: throw ShellSyntaxError("usage: \(isGet ? "get" : "del") [collection] key")
            }
        case "list", "ls":
            guard args.count <= 1 else { throw ShellSyntaxError("usage: list [collection]") }
            return .list(collection: args.first ?? defaultCollection)
        case "stats", "status", "ring", "help", "?", "history", "exit", "quit":
            guard args.isEmpty else { throw ShellSyntaxError("\(verb) takes no arguments") }
            switch verb {
            case "stats", "status": return .stats
            case "ring": return .ring
            case "help", "?": return .help
            case "history": return .history
            default: return .exit
            }
        default:
            throw ShellSyntaxError("unknown command '\(verb)'; type help")
        }
    }

    static let helpText = """
        set [collection] key value   write a value (collection defaults to 'default')
        get [collection] key         read a value, or its siblings
        del [collection] key         delete a key
        list [collection]            list the first keys of a collection
        stats                        the node's status
        ring                         members and partitions per member
        history                      the commands typed so far
        help                         this text
        exit                         leave (also end of input)
        Quote words with spaces: set greeting "hello world"
        """
}

/// What was wrong with a shell line.
struct ShellSyntaxError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Splits a line into words, with single or double quotes and backslash escapes.
enum ShellWords {
    static func split(_ line: String) throws(ShellSyntaxError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
                inWord = true
            } else if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if quote != nil { throw ShellSyntaxError("unterminated quote") }
        if escaped { throw ShellSyntaxError("line ends with a backslash") }
        if inWord { words.append(current) }
        return words
    }
}
