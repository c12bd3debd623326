import NIOCore

/// INFO, COMMAND and CONFIG: enough for redis-cli, redis-benchmark and client libraries to start.
extension RESPCommands {
    /// The commands served, with Redis's arity (negative: at least that many), flags and key positions.
    static let table: [(name: String, arity: Int, flags: [String], first: Int, last: Int, step: Int, summary: String)] =
        [
            ("get", 2, ["readonly", "fast"], 1, 1, 1, "Returns the value of a key."),
            ("set", -3, ["write", "denyoom"], 1, 1, 1, "Sets the value of a key (NX and XX; no expiry)."),
            ("mget", -2, ["readonly", "fast"], 1, -1, 1, "Returns the values of keys."),
            ("mset", -3, ["write", "denyoom"], 1, -1, 2, "Sets the values of keys, each its own quorum write."),
            ("del", -2, ["write"], 1, -1, 1, "Deletes keys."),
            ("unlink", -2, ["write", "fast"], 1, -1, 1, "Deletes keys (as DEL)."),
            ("exists", -2, ["readonly", "fast"], 1, -1, 1, "Counts the keys that exist."),
            ("scan", -2, ["readonly"], 0, 0, 0, "Iterates over the keys of the collection."),
            ("ping", -1, ["fast"], 0, 0, 0, "Returns PONG or the argument."),
            ("echo", 2, ["fast"], 0, 0, 0, "Returns the argument."),
            (
                "auth", -2, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0,
                "Authenticates the connection."
            ),
            ("hello", -1, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0, "Chooses RESP2 or RESP3."),
            ("select", 2, ["loading", "stale", "fast"], 0, 0, 0, "Accepts database 0 only."),
            ("client", -2, ["loading", "stale"], 0, 0, 0, "SETNAME, SETINFO, GETNAME, ID, INFO."),
            ("info", -1, ["loading", "stale"], 0, 0, 0, "Returns server figures."),
            ("command", -1, ["loading", "stale"], 0, 0, 0, "Describes the commands."),
            ("config", -2, ["admin", "loading", "stale"], 0, 0, 0, "CONFIG GET answers nothing."),
            ("quit", -1, ["loading", "stale", "fast", "no_auth"], 0, 0, 0, "Closes the connection."),
            ("collection", -1, ["fast"], 0, 0, 0, "Shows or chooses the connection's dhrt collection."),
            ("consistency", -1, ["fast"], 0, 0, 0, "Shows or sets the connection's R and W."),
            ("siblings", 2, ["fast"], 0, 0, 0, "Chooses how a GET answers concurrent values: error or array."),
        ]

    static func command(_ arguments: [ByteBuffer]) -> RESPValue {
        guard arguments.count >= 2 else { return .array(table.map(entry)) }
        switch String(buffer: arguments[1]).uppercased() {
        case "COUNT":
            return .integer(table.count)
        case "DOCS":
            let asked = Set(arguments.dropFirst(2).map { String(buffer: $0).lowercased() })
            let rows = table.filter { asked.isEmpty || asked.contains($0.name) }
            return .map(
                rows.map { row in
                    (
                        .bulk(row.name),
                        .map([
                            (.bulk("summary"), .bulk(row.summary)), (.bulk("since"), .bulk("1.0.0")),
                            (.bulk("group"), .bulk(row.first > 0 ? "string" : "connection")),
                        ])
                    )
                })
        case "INFO":
            return .array(
                arguments.dropFirst(2).map { name in
                    let wanted = String(buffer: name).lowercased()
                    return table.first { $0.name == wanted }.map(entry) ?? .null
                })
        case "LIST":
            return .array(table.map { .bulk($0.name) })
        default:
            return .error("ERR unknown subcommand '\(String(buffer: arguments[1]))'. Try COMMAND HELP.")
        }
    }

    /// Redis 7's ten-field command entry: name, arity, flags, first key, last key, step, ACL categories, tips,
    /// key specs, subcommands.
    private static func entry(
        _ row: (name: String, arity: Int, flags: [String], first: Int, last: Int, step: Int, summary: String)
    ) -> RESPValue {
        .array([
            .bulk(row.name), .integer(row.arity), .array(row.flags.map { .simple($0) }), .integer(row.first),
            .integer(row.last), .integer(row.step), .array([]), .array([]), .array([]), .array([]),
        ])
    }

    /// `CONFIG GET` answers the two parameters redis-benchmark asks for, `save` and `appendonly`, as a Redis that
    /// persists nothing itself would; others are absent. The rest of CONFIG is refused.
    static func config(_ arguments: [ByteBuffer]) -> RESPValue {
        guard arguments.count >= 2 else { return arity("config") }
        switch String(buffer: arguments[1]).uppercased() {
        case "GET":
            let known: [String: String] = ["save": "", "appendonly": "no"]
            let asked = arguments.dropFirst(2).map { String(buffer: $0).lowercased() }
            return .map(asked.compactMap { name in known[name].map { (.bulk(name), .bulk($0)) } })
        default: return .error("ERR CONFIG \(String(buffer: arguments[1]).uppercased()) is not supported by dhrt")
        }
    }

    /// `INFO`: the sections clients look at, with this node's figures.
    func info(_ session: RESPSession) -> RESPValue {
        let stats = node.storage.stats()
        let address = node.config.resp.map { "\($0.port)" } ?? "0"
        let lines = [
            "# Server", "redis_version:\(Self.redisVersion)", "redis_mode:standalone", "dhrt_node:\(node.config.name)",
            "tcp_port:\(address)", "",
            "# Clients", "connected_clients:\(shared.connections.load(ordering: .relaxed))", "",
            "# Cluster", "dhrt_members:\(node.cluster.members.count)", "dhrt_replicas:\(node.config.replicas)",
            "dhrt_collection:\(session.collection)", "",
            "# Keyspace", "db0:keys=\(stats.keyCount),expires=0,avg_ttl=0", "",
        ]
        return .bulk(lines.joined(separator: "\r\n"))
    }
}
