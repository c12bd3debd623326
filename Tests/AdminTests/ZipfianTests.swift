import Testing

@testable import dhrt_admin

@Suite struct ZipfianTests {
    private func counts(_ distribution: KeyDistribution, keys: Int, draws: Int, seed: UInt64 = 1) -> [Int] {
        let chooser = KeyChooser(distribution, keyCount: keys)
        var rng = SplitMix64(seed: seed)
        var counts = Array(repeating: 0, count: keys)
        for _ in 0..<draws { counts[chooser.next(&rng)] += 1 }
        return counts
    }

    @Test func scrambledZipfian_staysInTheKeySpace() {
        let chooser = KeyChooser(.zipfian, keyCount: 1000)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<50_000 {
            let key = chooser.next(&rng)
            #expect((0..<1000).contains(key))
        }
    }

    @Test func scrambledZipfian_hottestKeyTakesAboutOneDrawInTwentySix() {
        // Item 0 of the underlying generator has probability 1/zeta(10^10, 0.99) = 1/26.47 ≈ 3.8 %.
        let counts = counts(.zipfian, keys: 10_000, draws: 200_000)
        let hottest = Double(counts.max()!) / 200_000
        #expect(hottest > 0.03 && hottest < 0.05)
    }

    @Test func scrambledZipfian_isSkewedWhereUniformIsFlat() {
        let skewed = counts(.zipfian, keys: 10_000, draws: 200_000).sorted(by: >)
        let flat = counts(.uniform, keys: 10_000, draws: 200_000).sorted(by: >)
        let topShare = { (counts: [Int]) in Double(counts.prefix(100).reduce(0, +)) / 200_000 }
        #expect(topShare(skewed) > 0.15)  // the hottest 1 % of keys: about zeta(100) / zeta(10^10) ≈ 0.2
        #expect(topShare(flat) < 0.02)
    }

    @Test func scrambledZipfian_scattersHotKeysOverTheSpace() {
        let counts = counts(.zipfian, keys: 10_000, draws: 200_000)
        let hot = counts.indices.sorted { counts[$0] > counts[$1] }.prefix(10)
        #expect(Set(hot.map { $0 / 1000 }).count >= 4)  // not clustered at the start as plain zipfian would be
    }

    @Test func zipfian_sameSeed_sameSequence() {
        #expect(counts(.zipfian, keys: 500, draws: 5000, seed: 9) == counts(.zipfian, keys: 500, draws: 5000, seed: 9))
    }

    @Test func plainZipfian_ranksFallWithPopularity() {
        let zipfian = Zipfian(min: 0, max: 999)
        var rng = SplitMix64(seed: 5)
        var counts = Array(repeating: 0, count: 1000)
        for _ in 0..<100_000 { counts[Int(zipfian.next(rng.nextUnit()))] += 1 }
        #expect(counts[0] > counts[1] && counts[1] > counts[10] && counts[10] > counts[500])
    }

    @Test func fnvHash_isNonNegativeAndSpreads() {
        let hashes = (0..<1000).map { FNV.hash64(Int64($0)) }
        #expect(hashes.allSatisfy { $0 >= 0 })
        #expect(Set(hashes).count == 1000)
    }
}
