/// A `host:port` pair as given on the command line, e.g. `127.0.0.1:8701`.
struct HostPort: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Parses `host:port`; the port MUST be 1...65535.
    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        self.host = host
        self.port = port
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    var description: String { "\(host):\(port)" }
}
