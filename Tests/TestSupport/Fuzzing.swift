import Foundation

/// A seeded mutation fuzzer for decoders: mutates seed inputs (bit flips, interesting bytes, insertions,
/// deletions, truncations, splices) and feeds them to a body that MUST NOT crash, for a bounded time.
///
/// `DHRT_FUZZ_SECONDS` (default 1) bounds each target; `DHRT_FUZZ_SEED` (default 1) picks the sequence, which is
/// the same for the same seed. To find the input of a crash, rerun with `DHRT_FUZZ_SAVE=/tmp/input`: each input
/// is written there before it runs, so the file holds the crashing one. See Docs/SECURITY.md.
public enum Fuzzing {
    public static var seconds: Double {
        ProcessInfo.processInfo.environment["DHRT_FUZZ_SECONDS"].flatMap(Double.init) ?? 1
    }
    public static var seed: UInt64 {
        ProcessInfo.processInfo.environment["DHRT_FUZZ_SEED"].flatMap { UInt64($0) } ?? 1
    }

    /// Runs `body` on mutations of `seeds`, at least `minimum` of them and until the budget is spent; returns how
    /// many were tried.
    @discardableResult
    public static func run(seeds: [[UInt8]], minimum: Int = 1000, _ body: ([UInt8]) -> Void) -> Int {
        precondition(!seeds.isEmpty)
        let save = ProcessInfo.processInfo.environment["DHRT_FUZZ_SAVE"]
        var random = SeededGenerator(seed: seed)
        var corpus = seeds
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var count = 0
        for seed in seeds { body(seed) }
        while count < minimum || ContinuousClock.now < deadline {
            var input = corpus[Int(random.next() % UInt64(corpus.count))]
            for _ in 0...(random.next() % 4) { mutate(&input, &random, corpus: corpus) }
            if let save { FileManager.default.createFile(atPath: save, contents: Data(input)) }
            body(input)
            // Keep some mutants as new starting points so that deeper structure gets explored.
            if corpus.count < 256, random.next() % 8 == 0 { corpus.append(input) }
            count += 1
        }
        return count
    }

    public static func mutate(_ input: inout [UInt8], _ random: inout SeededGenerator, corpus: [[UInt8]]) {
        let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]
        let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count))
        switch random.next() % 7 {
        case 0 where !input.isEmpty: input[position] ^= UInt8(1 << (random.next() % 8))
        case 1 where !input.isEmpty: input[position] = interesting[Int(random.next() % 6)]
        case 2: input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 3 where !input.isEmpty: input.remove(at: position)
        case 4: input = Array(input.prefix(position))
        case 5 where input.count >= 4:
            // A length-like field set to something extreme.
            let value: [UInt8] = random.next() % 2 == 0 ? [0xFF, 0xFF, 0xFF, 0xFF] : [0, 0, 0, 0]
            input.replaceSubrange(position..<min(input.count, position + 4), with: value)
        default:
            let other = corpus[Int(random.next() % UInt64(corpus.count))]
            input = Array(input.prefix(position)) + Array(other.suffix(other.count / 2))
        }
    }
}
