import Foundation

/// A small, fast, seedable generator (SplitMix64); one per connection, so no locking.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// YCSB's FNV-1a over the 8 bytes of a long, made non-negative as Java's `Math.abs` does.
enum FNV {
    static func hash64(_ value: Int64) -> Int64 {
        var hash: Int64 = Int64(bitPattern: 0xCBF2_9CE4_8422_2325)
        var rest = value
        for _ in 0..<8 {
            hash ^= rest & 0xFF
            hash = hash &* 1_099_511_628_211
            rest >>= 8
        }
        return hash == .min ? .max : abs(hash)
    }
}

/// YCSB's ZipfianGenerator (Gray et al., "Quickly generating billion-record synthetic databases").
struct Zipfian: Sendable {
    let base: Int64
    let items: Int64
    let theta: Double
    let zetan: Double
    private let alpha: Double
    private let eta: Double
    private let secondThreshold: Double

    /// Items `min...max`; `zetan` may be given when precomputed (YCSB does so for its scrambled variant).
    init(min: Int64, max: Int64, theta: Double = 0.99, zetan: Double? = nil) {
        base = min
        items = max - min + 1
        self.theta = theta
        let zeta2 = Zipfian.zeta(2, theta)
        let zetan = zetan ?? Zipfian.zeta(items, theta)
        self.zetan = zetan
        alpha = 1 / (1 - theta)
        eta = (1 - Foundation.pow(2 / Double(items), 1 - theta)) / (1 - zeta2 / zetan)
        secondThreshold = 1 + Foundation.pow(0.5, theta)
    }

    static func zeta(_ n: Int64, _ theta: Double) -> Double {
        var sum = 0.0
        var i: Int64 = 1
        while i <= n {
            sum += 1 / Foundation.pow(Double(i), theta)
            i += 1
        }
        return sum
    }

    /// The next item for a uniform `u` in [0, 1).
    func next(_ u: Double) -> Int64 {
        let uz = u * zetan
        if uz < 1 { return base }
        if uz < secondThreshold { return base + 1 }
        return base + Int64(Double(items) * Foundation.pow(eta * u - eta + 1, alpha))
    }
}

/// YCSB's ScrambledZipfianGenerator: zipfian popularity over 10^10 items, hashed onto the key space so
/// that hot keys are scattered instead of clustered at the start.
struct ScrambledZipfian: Sendable {
    /// YCSB's constants: the item count of the underlying generator and its precomputed zeta for theta 0.99.
    static let itemCount: Int64 = 10_000_000_000
    static let zetan = 26.46902820178302

    let keyCount: Int64
    private let zipfian = Zipfian(min: 0, max: ScrambledZipfian.itemCount, theta: 0.99, zetan: ScrambledZipfian.zetan)

    init(keyCount: Int) { self.keyCount = Int64(keyCount) }

    func next(_ u: Double) -> Int { Int(FNV.hash64(zipfian.next(u)) % keyCount) }
}

/// How keys are chosen for operations.
enum KeyDistribution: String, Sendable, CaseIterable {
    case uniform, zipfian
}

/// Draws key numbers in `0..<keyCount`.
struct KeyChooser: Sendable {
    let distribution: KeyDistribution
    let keyCount: Int
    private let scrambled: ScrambledZipfian

    init(_ distribution: KeyDistribution, keyCount: Int) {
        self.distribution = distribution
        self.keyCount = keyCount
        scrambled = ScrambledZipfian(keyCount: keyCount)
    }

    func next(_ rng: inout SplitMix64) -> Int {
        switch distribution {
        case .uniform: Int(rng.next() % UInt64(keyCount))
        case .zipfian: scrambled.next(rng.nextUnit())
        }
    }
}
