/// The stored state of one key: its concurrent values (siblings) and the causal context covering them.
///
/// This is a dotted version vector set (Almeida et al., "Scalable and Accurate Causality Tracking for
/// Eventually Consistent Stores"; Riak 2's `dvvset`): every sibling carries the dot of the write that made it,
/// and one version vector summarises every event the object has seen, including writes that were since
/// superseded. A sibling is dropped only when some write or replica has *seen* its dot and no longer holds it,
/// so siblings never multiply beyond the truly concurrent writes.
///
/// Invariants (checked by the decoder): every sibling's dot is contained in `context`; no two siblings share a
/// dot; siblings are sorted by dot.
public struct VersionedObject: Hashable, Sendable {
    /// Every event this object has seen; also what a client sends back to supersede what it read.
    public private(set) var context: VersionVector
    /// The concurrent values, tombstones included, sorted by dot.
    public private(set) var siblings: [Sibling]

    /// The object of a key that was never written.
    public init() {
        context = VersionVector()
        siblings = []
    }

    /// Assembles an object from parts already known to satisfy the invariants (decoder, tests).
    init(unchecked context: VersionVector, siblings: [Sibling]) {
        self.context = context
        self.siblings = siblings
    }

    /// The object of a key that was never written.
    public static let empty = VersionedObject()

    /// Whether the object has never seen a write (not even a delete).
    public var isEmpty: Bool { context.isEmpty && siblings.isEmpty }

    /// The siblings that hold a value (not tombstones).
    public var liveSiblings: [Sibling] { siblings.filter { !$0.isTombstone } }

    /// Whether a read finds nothing: no sibling, or only tombstones. Tombstones lose to a concurrent live value.
    public var isNotFound: Bool { !siblings.contains { !$0.isTombstone } }

    /// Whether a read must present more than one value (HTTP 300).
    public var hasConflict: Bool { siblings.lazy.filter { !$0.isTombstone }.count > 1 }

    /// The newest sibling timestamp, 0 for an empty object.
    public var timestamp: UInt64 { siblings.map(\.timestamp).max() ?? 0 }

    /// The object without the siblings written at or before `timestamp` (a collection drop): their dots stay in
    /// the context, so a merge removes them from a replica that still holds them instead of restoring them.
    public func forgettingSiblings(through timestamp: UInt64) -> VersionedObject {
        VersionedObject(unchecked: context, siblings: siblings.filter { $0.timestamp > timestamp })
    }

    // MARK: - Client writes

    /// Applies a client write at the coordinating replica `actor`.
    ///
    /// The new sibling gets the dot `(actor, n + 1)`, where `n` is the highest counter of `actor` known to
    /// either this object or `context`. Siblings whose dots the client's `context` covers are discarded (the
    /// client saw them and replaces them); the others stay as siblings of the new value. The object's context
    /// absorbs `context`, so replicas still holding the replaced values drop them on `sync`.
    /// - Parameters:
    ///   - context: The causal context the client read (`VersionVector()` for a blind write).
    ///   - actor: This node's name; MUST be a valid actor name (see `VersionVector.isValidActorName`).
    ///   - timestamp: The coordinator's wall clock, nanoseconds since the Unix epoch.
    public mutating func update(
        context: VersionVector,
        value: [UInt8],
        contentType: String,
        actor: String,
        timestamp: UInt64,
        resolution: ConflictResolution = .siblings
    ) {
        apply(context: context, actor: actor, resolution: resolution) { dot in
            Sibling(dot: dot, value: value, contentType: contentType, isTombstone: false, timestamp: timestamp)
        }
    }

    /// Applies a client delete: an update whose new sibling is a tombstone.
    public mutating func delete(
        context: VersionVector,
        actor: String,
        timestamp: UInt64,
        resolution: ConflictResolution = .siblings
    ) {
        apply(context: context, actor: actor, resolution: resolution) { dot in
            Sibling(dot: dot, value: [], contentType: "", isTombstone: true, timestamp: timestamp)
        }
    }

    private mutating func apply(
        context clientContext: VersionVector,
        actor: String,
        resolution: ConflictResolution,
        makeSibling: (Dot) -> Sibling
    ) {
        var newContext = context.merged(with: clientContext)
        let dot = Dot(actor: actor, counter: newContext[actor] + 1)
        newContext[actor] = dot.counter
        let fresh = makeSibling(dot)
        switch resolution {
        case .siblings:
            var kept = siblings.filter { !clientContext.contains($0.dot) }
            kept.append(fresh)
            kept.sort { $0.dot < $1.dot }
            siblings = kept
        case .lastWriteWins:
            siblings = [Self.lastWriteWinner(siblings + [fresh])]
        }
        context = newContext
    }

    // MARK: - Replica merge

    /// Merges two replicas' objects: keeps every sibling that neither side has seen superseded.
    ///
    /// A sibling of `a` survives when `b` holds it too or `b`'s context has not seen its dot, and the other way
    /// round. The result is commutative, associative and idempotent, so replicas converge whatever the order of
    /// messages. With `.lastWriteWins` the single winner of both objects' siblings survives.
    public static func sync(
        _ a: VersionedObject,
        _ b: VersionedObject,
        resolution: ConflictResolution = .siblings
    ) -> VersionedObject {
        if a == b { return a }
        let context = a.context.merged(with: b.context)
        switch resolution {
        case .siblings:
            var result: [Sibling] = []
            result.reserveCapacity(a.siblings.count + b.siblings.count)
            var i = 0
            var j = 0
            // Both lists are sorted by dot: walk them like a merge sort.
            while i < a.siblings.count || j < b.siblings.count {
                if j == b.siblings.count || (i < a.siblings.count && a.siblings[i].dot < b.siblings[j].dot) {
                    let s = a.siblings[i]
                    if !b.context.contains(s.dot) { result.append(s) }
                    i += 1
                } else if i == a.siblings.count || b.siblings[j].dot < a.siblings[i].dot {
                    let s = b.siblings[j]
                    if !a.context.contains(s.dot) { result.append(s) }
                    j += 1
                } else {
                    let (x, y) = (a.siblings[i], b.siblings[j])
                    result.append(x == y || x.prevails(over: y) ? x : y)
                    i += 1
                    j += 1
                }
            }
            return VersionedObject(unchecked: context, siblings: result)
        case .lastWriteWins:
            let all = a.siblings + b.siblings
            return VersionedObject(unchecked: context, siblings: all.isEmpty ? [] : [lastWriteWinner(all)])
        }
    }

    /// Merges `other` into this object; see `sync(_:_:resolution:)`.
    public mutating func merge(_ other: VersionedObject, resolution: ConflictResolution = .siblings) {
        self = Self.sync(self, other, resolution: resolution)
    }

    /// Whether this object already contains everything `other` knows, so that `sync(self, other) == self`.
    ///
    /// That holds when this context descends `other`'s and no sibling kept here was superseded in `other`
    /// (for last-write-wins: this object's winner also beats `other`'s). Read repair sends the merged object to
    /// every replica whose answer does not descend it.
    public func descends(_ other: VersionedObject, resolution: ConflictResolution = .siblings) -> Bool {
        guard context.descends(other.context) else { return false }
        switch resolution {
        case .siblings:
            let otherDots = Set(other.siblings.map(\.dot))
            for sibling in siblings where other.context.contains(sibling.dot) && !otherDots.contains(sibling.dot) {
                return false
            }
            // Same dot, different payload (a reused counter): only equal payloads make sync a no-op.
            for sibling in other.siblings {
                if let mine = siblings.first(where: { $0.dot == sibling.dot }), mine != sibling,
                    !mine.prevails(over: sibling)
                {
                    return false
                }
            }
            return true
        case .lastWriteWins:
            guard let theirs = other.siblings.max(by: { $1.winsLastWrite(over: $0) }) else { return true }
            guard let mine = siblings.max(by: { $1.winsLastWrite(over: $0) }) else { return false }
            return mine == theirs || mine.winsLastWrite(over: theirs)
        }
    }

    /// Whether this object descends `other` and knows strictly more.
    public func dominates(_ other: VersionedObject, resolution: ConflictResolution = .siblings) -> Bool {
        descends(other, resolution: resolution) && !other.descends(self, resolution: resolution)
    }

    static func lastWriteWinner(_ candidates: [Sibling]) -> Sibling {
        var best = candidates[0]
        for candidate in candidates.dropFirst() where candidate.winsLastWrite(over: best) {
            best = candidate
        }
        return best
    }
}
