import Foundation

/// The read/update mix of a benchmark, as YCSB's core workloads define it.
struct Workload: Equatable, Sendable, CustomStringConvertible {
    var name: String
    /// Share of operations that are reads; the rest are updates (blind PUTs, as YCSB's update).
    var readFraction: Double

    static let a = Workload(name: "a", readFraction: 0.5)
    static let b = Workload(name: "b", readFraction: 0.95)
    static let c = Workload(name: "c", readFraction: 1.0)
    static let put = Workload(name: "put", readFraction: 0)
    static let get = Workload(name: "get", readFraction: 1)

    var description: String {
        let reads = Int((readFraction * 100).rounded())
        return "\(name) (\(reads)% reads, \(100 - reads)% updates)"
    }

    /// `a`, `b`, `c`, `put`, `get` or `mixed:R/W` with R + W = 100.
    static func parse(_ text: String) throws(BenchOptionError) -> Workload {
        switch text.lowercased() {
        case "a": return .a
        case "b": return .b
        case "c": return .c
        case "put", "update", "write": return .put
        case "get", "read": return .get
        default: break
        }
        guard text.lowercased().hasPrefix("mixed:") else {
            throw BenchOptionError(
                "--workload must be a, b, c, put, get or mixed:R/W (e.g. mixed:80/20), got '\(text)'")
        }
        let parts = text.dropFirst("mixed:".count).replacingOccurrences(of: "%", with: "").split(separator: "/")
        guard parts.count == 2, let reads = Int(parts[0]), let writes = Int(parts[1]), reads >= 0, writes >= 0,
            reads + writes == 100
        else {
            throw BenchOptionError("--workload mixed:R/W needs two whole percentages adding up to 100, got '\(text)'")
        }
        return Workload(name: "mixed:\(reads)/\(writes)", readFraction: Double(reads) / 100)
    }

    func isRead(_ rng: inout SplitMix64) -> Bool {
        readFraction >= 1 || (readFraction > 0 && rng.nextUnit() < readFraction)
    }
}

/// One quorum setting under test: what is sent as headers and what it means in replica counts.
struct QuorumSetting: Equatable, Sendable {
    var name: String
    var r: String
    var w: String

    /// `--consistency one,quorum,all`.
    static func parseConsistency(_ text: String) throws(BenchOptionError) -> [QuorumSetting] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !names.isEmpty else { throw BenchOptionError("--consistency needs at least one of one, quorum, all") }
        var settings: [QuorumSetting] = []
        for name in names {
            guard ["one", "quorum", "all"].contains(name) else {
                throw BenchOptionError("--consistency takes one, quorum or all (comma-separated), got '\(name)'")
            }
            settings.append(QuorumSetting(name: name, r: name, w: name))
        }
        return try unique(settings)
    }

    /// `--rw 1/1,2/2,3/3`.
    static func parseRW(_ text: String) throws(BenchOptionError) -> [QuorumSetting] {
        var settings: [QuorumSetting] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let r = Int(parts[0]), let w = Int(parts[1]), r >= 1, w >= 1 else {
                throw BenchOptionError("--rw takes R/W pairs of positive integers such as 1/1,2/2,3/3, got '\(item)'")
            }
            settings.append(QuorumSetting(name: "r\(r)w\(w)", r: "\(r)", w: "\(w)"))
        }
        guard !settings.isEmpty else { throw BenchOptionError("--rw needs at least one R/W pair") }
        return try unique(settings)
    }

    private static func unique(_ settings: [QuorumSetting]) throws(BenchOptionError) -> [QuorumSetting] {
        guard Set(settings.map(\.name)).count == settings.count else {
            throw BenchOptionError("each setting may appear only once")
        }
        return settings
    }
}

/// A bad benchmark option, with a message that says what is expected.
struct BenchOptionError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Durations like `10s`, `500ms`, `2m` or a plain number of seconds.
enum DurationText {
    static func seconds(_ text: String) throws(BenchOptionError) -> Double {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            if let value = Double(lower.dropLast(suffix.count)), value >= 0 { return value * scale }
        }
        if let value = Double(lower), value >= 0 { return value }
        throw BenchOptionError("durations look like 10s, 500ms or 2m, got '\(text)'")
    }

    /// `5000` or `5000/s`.
    static func rate(_ text: String) throws(BenchOptionError) -> Double {
        let trimmed = text.lowercased().replacingOccurrences(of: "/s", with: "")
        guard let value = Double(trimmed), value > 0 else {
            throw BenchOptionError("--rate is operations per second, e.g. 5000 or 5000/s, got '\(text)'")
        }
        return value
    }
}
