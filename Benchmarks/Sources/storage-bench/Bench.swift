import Foundation
import Storage

// Usage: storage-bench [--dir PATH] [--keys N] [--big-keys N] [--writers N] [--group-seconds S]
//                      [--phases small,group,big]

/// Runs off the main actor: a loop of engine calls from main-actor code would hop executors on every call.
enum Bench {
    static func run() async throws {
        let arguments = CommandLine.arguments
        func argument(_ name: String, default value: String) -> String {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return value }
            return arguments[index + 1]
        }
        let root = argument("--dir", default: NSTemporaryDirectory())
        let smallCount = Int(argument("--keys", default: "1000000"))!
        let bigCount = Int(argument("--big-keys", default: "10000000"))!
        let writers = Int(argument("--writers", default: "64"))!
        let groupSeconds = Double(argument("--group-seconds", default: "5"))!
        let value = [UInt8](repeating: 0x61, count: 100)
        let phases = Set(argument("--phases", default: "small,group,big").split(separator: ",").map(String.init))

        func scratch(_ name: String) -> String {
            let path = root + "/dhrt-storage-bench-\(getpid())-\(name)"
            try? FileManager.default.removeItem(atPath: path)
            return path
        }

        func seconds(_ body: () async throws -> Void) async rethrows -> Double {
            let start = ContinuousClock.now
            try await body()
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        /// 16-byte keys: "bench-k-" then the index big-endian.
        @inline(__always)
        func setKey(_ key: inout [UInt8], _ index: Int) {
            withUnsafeBytes(of: UInt64(index).bigEndian) { raw in
                for i in 0..<8 { key[8 + i] = raw[i] }
            }
        }
        func makeKey() -> [UInt8] { Array("bench-k-".utf8) + [UInt8](repeating: 0, count: 8) }

        func rate(_ count: Int, _ time: Double) -> String {
            String(format: "%.0f", Double(count) / time)
        }

        print("storage-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, data under \(root)")

        // 1. puts and gets with policy none.
        if phases.contains("small") {
            let path = scratch("none")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let engine = try await StorageEngine.open(StorageOptions(directory: path, sync: .none))
            var key = makeKey()
            let putTime = try await seconds {
                for i in 0..<smallCount {
                    setKey(&key, i)
                    try await engine.put(collection: "bench", key: key, meta: [], value: value)
                }
            }
            print("puts (sync none, \(smallCount) keys, 16 B keys, 100 B values): \(rate(smallCount, putTime)) puts/s")
            var order = Array(0..<smallCount)
            var generator = SystemRandomNumberGenerator()
            order.shuffle(using: &generator)
            var found = 0
            let getTime = try await seconds {
                for i in order {
                    setKey(&key, i)
                    if try await engine.get(collection: "bench", key: key) != nil { found += 1 }
                }
            }
            precondition(found == smallCount, "lost keys: \(smallCount - found)")
            print("gets (random order, \(smallCount) keys): \(rate(smallCount, getTime)) gets/s")
            let stats = engine.stats()
            print(
                String(
                    format: "keydir at %d keys: %.1f B/key total, %.1f B/key beyond the key bytes",
                    stats.keyCount, stats.keydirBytesPerKey, stats.keydirOverheadPerKey))
            try await engine.close()
        }

        // 2. group commit under concurrent writers, and the disk's own O_DSYNC append rate.
        if phases.contains("group") {
            let path = scratch("group")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let engine = try await StorageEngine.open(StorageOptions(directory: path, sync: .group))
            let deadline = ContinuousClock.now + .milliseconds(Int(groupSeconds * 1000))
            let start = ContinuousClock.now
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var key = makeKey()
                        var done = 0
                        while ContinuousClock.now < deadline {
                            setKey(&key, writer << 32 | done)
                            try await engine.put(collection: "bench", key: key, meta: [], value: value)
                            done += 1
                        }
                        return done
                    }
                }
                var total = 0
                for try await done in group { total += done }
                return total
            }
            let elapsed = ContinuousClock.now - start
            let time = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            try await engine.close()
            print(
                "puts (sync group, \(writers) concurrent writers, \(Int(groupSeconds)) s): \(rate(total, time)) puts/s")

            let file = path + "/dsync"
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC, 0o644)
            precondition(fd >= 0)
            let block = [UInt8](repeating: 0, count: 4096)
            let appends = 2000
            let dsyncTime = await seconds {
                for _ in 0..<appends { _ = block.withUnsafeBytes { write(fd, $0.baseAddress!, 4096) } }
            }
            close(fd)
            print("disk O_DSYNC 4 KiB appends (\(appends), as disk.sh): \(rate(appends, dsyncTime)) appends/s")
            print(
                String(format: "group commit / O_DSYNC: %.1fx", (Double(total) / time) / (Double(appends) / dsyncTime)))
        }

        // 3. keydir at many keys, and reopen from hints.
        if phases.contains("big"), bigCount > 0 {
            let path = scratch("big")
            defer { try? FileManager.default.removeItem(atPath: path) }
            var engine = try await StorageEngine.open(StorageOptions(directory: path, sync: .none))
            var key = makeKey()
            let putTime = try await seconds {
                for i in 0..<bigCount {
                    setKey(&key, i)
                    try await engine.put(collection: "bench", key: key, meta: [], value: value)
                }
            }
            print("puts (sync none, \(bigCount) keys): \(rate(bigCount, putTime)) puts/s")
            var stats = engine.stats()
            print(
                String(
                    format: "keydir at %d keys: %.1f B/key total, %.1f B/key beyond the key bytes",
                    stats.keyCount, stats.keydirBytesPerKey, stats.keydirOverheadPerKey))
            let closeTime = try await seconds { try await engine.close() }
            print(String(format: "close (flush, fsync, hints): %.2f s", closeTime))
            let openTime = try await seconds {
                engine = try await StorageEngine.open(StorageOptions(directory: path, sync: .none))
            }
            stats = engine.stats()
            precondition(stats.keyCount == bigCount, "reopen found \(stats.keyCount) keys")
            let hints = stats.collections["bench"]!.hintsLoaded
            print(
                String(
                    format: "reopen from %d hint files: %.2f s, %@ keys/s", hints, openTime, rate(bigCount, openTime)))
            print(
                String(
                    format: "keydir after reopen: %.1f B/key total, %.1f B/key beyond the key bytes",
                    stats.keydirBytesPerKey, stats.keydirOverheadPerKey))
            try await engine.close()
        }

    }
}
