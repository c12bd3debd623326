/// One event in a key's history: the `counter`-th write coordinated by `actor` (a node's actor id: its name and
/// an incarnation suffix).
///
/// Dots are unique per key as long as an actor never forgets its own counter; the coordinating replica picks
/// the next counter from everything it has seen, including the client's context.
public struct Dot: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The node that coordinated the write.
    public var actor: String
    /// The position of the write in the actor's sequence, starting at 1.
    public var counter: UInt64

    /// Creates a dot.
    public init(actor: String, counter: UInt64) {
        self.actor = actor
        self.counter = counter
    }

    /// Orders by actor name, then counter, so sibling lists have one canonical order.
    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        lhs.actor != rhs.actor ? lhs.actor < rhs.actor : lhs.counter < rhs.counter
    }

    /// `actor:counter`, for logs and test failures.
    public var description: String { "\(actor):\(counter)" }
}

/// A version vector: for each actor, the highest counter whose events (and all earlier ones) are known.
///
/// It is the causal context of an object: the set of dots `{(a, 1) … (a, vv[a])}` for every actor `a`.
/// Actors with counter 0 are never stored, so two vectors with the same knowledge compare equal.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// Counters by actor; every stored counter is at least 1.
    public private(set) var counters: [String: UInt64]

    /// The empty vector: knows no event.
    public init() {
        counters = [:]
    }

    /// Creates a vector from counters; zero counters are dropped.
    public init(_ counters: [String: UInt64]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    /// The empty vector.
    public static let empty = VersionVector()

    /// Whether the vector knows no event.
    public var isEmpty: Bool { counters.isEmpty }

    /// The counter of `actor`, 0 when unknown. Setting 0 removes the actor.
    public subscript(actor: String) -> UInt64 {
        get { counters[actor] ?? 0 }
        set { counters[actor] = newValue == 0 ? nil : newValue }
    }

    /// Whether the event `dot` is part of this causal history.
    public func contains(_ dot: Dot) -> Bool {
        dot.counter <= self[dot.actor]
    }

    /// Whether this vector knows every event `other` knows (`self >= other`, equality included).
    public func descends(_ other: VersionVector) -> Bool {
        for (actor, counter) in other.counters where self[actor] < counter {
            return false
        }
        return true
    }

    /// Whether this vector strictly descends `other`: it knows all of `other` and more.
    public func dominates(_ other: VersionVector) -> Bool {
        self != other && descends(other)
    }

    /// Whether neither vector descends the other.
    public func isConcurrent(with other: VersionVector) -> Bool {
        !descends(other) && !other.descends(self)
    }

    /// Adds every event of `other` (pointwise maximum).
    public mutating func merge(_ other: VersionVector) {
        for (actor, counter) in other.counters where self[actor] < counter {
            counters[actor] = counter
        }
    }

    /// The pointwise maximum of both vectors.
    public func merged(with other: VersionVector) -> VersionVector {
        var result = self
        result.merge(other)
        return result
    }

    /// Actors sorted by name, with their counters: the canonical order used by the encodings.
    public var sortedEntries: [(actor: String, counter: UInt64)] {
        counters.sorted { $0.key < $1.key }.map { (actor: $0.key, counter: $0.value) }
    }

    /// `{a:1, b:3}`, sorted by actor.
    public var description: String {
        "{" + sortedEntries.map { "\($0.actor):\($0.counter)" }.joined(separator: ", ") + "}"
    }
}
