import Atomics
import NIOCore
import Synchronization

/// What every RESP connection of a node shares: the open connection count and the SCAN cursors.
final class RESPServerState: Sendable {
    /// Cursors remembered; an older one is `invalid cursor`, and the client starts again from 0.
    static let maxCursors = 65_536

    let connections = ManagedAtomic(0)
    private let cursors: Mutex<(next: UInt64, keys: [UInt64: [UInt8]], order: CircularBuffer<UInt64>)>

    init() {
        // Start somewhere random so that a cursor of another node or an earlier run is unlikely to mean anything.
        cursors = Mutex((UInt64.random(in: 1...(1 << 40)), [:], []))
    }

    /// A cursor standing for "the keys after `key`".
    ///
    /// Redis clients take a cursor for a decimal unsigned 64-bit number (redis-cli parses it with `strtoull`,
    /// redis-py with `int`), which cannot carry a key of up to 1 KiB: the node keeps the key and hands out a
    /// number for it.
    func cursor(after key: [UInt8]) -> UInt64 {
        cursors.withLock { state in
            let id = state.next
            state.next &+= 1
            if state.next == 0 { state.next = 1 }
            state.keys[id] = key
            state.order.append(id)
            if state.order.count > Self.maxCursors, let oldest = state.order.popFirst() {
                state.keys[oldest] = nil
            }
            return id
        }
    }

    func key(of cursor: UInt64) -> [UInt8]? {
        cursors.withLock { $0.keys[cursor] }
    }
}

extension RESPCommands {
    /// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]` over the collection's key listing, in key order.
    ///
    /// As in Redis, MATCH filters a page after it is listed (a page may come back empty with a cursor to go on),
    /// COUNT is how many keys a page lists (default 10), and cursor 0 starts and ends the iteration.
    func scan(_ arguments: [ByteBuffer], _ session: RESPSession, on loop: any EventLoop) -> RESPAnswer {
        guard let cursor = UInt64(String(buffer: arguments[1])) else { return .now(.error("ERR invalid cursor")) }
        var after: [UInt8]?
        if cursor != 0 {
            guard let key = shared.key(of: cursor) else {
                return .now(.error("ERR invalid cursor (unknown to this node, or too old: SCAN 0 starts again)"))
            }
            after = key
        }
        var pattern: [UInt8]?
        var count = 10
        var onlyStrings = true
        var index = 2
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch String(buffer: arguments[index]).uppercased() {
            case "MATCH":
                pattern = Array(value.readableBytesView)
            case "COUNT":
                guard let number = Int(String(buffer: value)), number >= 1 else { return .now(.syntax) }
                count = min(number, 10_000)
            case "TYPE":
                onlyStrings = String(buffer: value).lowercased() == "string"
            default:
                return .now(.syntax)
            }
            index += 2
        }
        guard index == arguments.count else { return .now(.syntax) }
        let (kv, shared, collection, filter, strings) = (node.kv, self.shared, session.collection, pattern, onlyStrings)
        let (start, limit) = (after, count)
        let promise = loop.makePromise(of: RESPValue.self)
        promise.completeWithTask {
            do throws(APIError) {
                let page = try await kv.listKeys(collection: collection, after: start, limit: limit)
                let next = page.next.map { shared.cursor(after: $0) } ?? 0
                // Every dhrt value is a string: TYPE of anything else finds nothing.
                let keys = strings ? page.keys.filter { key in filter.map { Glob(key).matches($0) } ?? true } : []
                return .array([.bulk(String(next)), .array(keys.map { .bulk($0) })])
            } catch {
                return Self.error(error)
            }
        }
        return .later(promise.futureResult)
    }
}

/// Redis's glob patterns over bytes: `*`, `?`, `[abc]`, `[^a-z]`, and `\` to escape.
struct Glob {
    let subject: [UInt8]

    init(_ subject: [UInt8]) { self.subject = subject }

    func matches(_ pattern: [UInt8]) -> Bool {
        match(pattern[...], subject[...])
    }

    private func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        // The last `*` and where the text stood then: a mismatch retries from one byte further (linear, no
        // exponential backtracking).
        var star: (p: Int, t: Int)?
        while t < text.endIndex {
            if p < pattern.endIndex {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    star = (p, t)
                    p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    t += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, end) = matchClass(pattern, from: p, byte: text[t]), matched {
                        p = end
                        t += 1
                        continue
                    }
                case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
                    if pattern[p + 1] == text[t] {
                        p += 2
                        t += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            guard let last = star else { return false }
            star = (last.p, last.t + 1)
            p = last.p + 1
            t = last.t + 1
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// Whether `byte` is in the class opening at `start`, and the index after its `]`; nil if it never closes.
    private func matchClass(_ pattern: ArraySlice<UInt8>, from start: Int, byte: UInt8) -> (Bool, Int)? {
        var index = start + 1
        let negated = index < pattern.endIndex && pattern[index] == UInt8(ascii: "^")
        if negated { index += 1 }
        var found = false
        while index < pattern.endIndex, pattern[index] != UInt8(ascii: "]") {
            if pattern[index] == UInt8(ascii: "\\"), index + 1 < pattern.endIndex {
                if pattern[index + 1] == byte { found = true }
                index += 2
            } else if index + 2 < pattern.endIndex, pattern[index + 1] == UInt8(ascii: "-"),
                pattern[index + 2] != UInt8(ascii: "]")
            {
                let (low, high) = (min(pattern[index], pattern[index + 2]), max(pattern[index], pattern[index + 2]))
                if (low...high).contains(byte) { found = true }
                index += 3
            } else {
                if pattern[index] == byte { found = true }
                index += 1
            }
        }
        guard index < pattern.endIndex else { return nil }
        return (found != negated, index + 1)
    }
}
