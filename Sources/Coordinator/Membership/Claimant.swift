public import Ring

/// The staged membership changes of a cluster and the rule that turns them into a committed ring.
///
/// The node keeps it on the metadata log's leader, which stages and plans; a commit is a log entry that a majority
/// of the voters must store, so two plans are never committed from two places at once. What it holds is pure
/// state; losing it (a change of leader) loses only what was staged and not committed.
public struct Claimant: Sendable, Equatable {
    /// Changes waiting for a commit, in the order they were staged; one per member.
    public private(set) var staged: [RingChange] = []

    public init() {}

    /// Stages a change after checking that the plan with it can be built; a change for a member that already
    /// has one replaces it.
    public mutating func stage(_ change: RingChange, on ring: Ring) throws(RingError) {
        var next = staged.filter { $0.subject != change.subject && !$0.mentions(change) }
        next.append(change)
        _ = try ring.planning(next)
        staged = next
    }

    /// Forgets every staged change.
    public mutating func clear() { staged = [] }

    /// The ring a commit would produce now.
    public func plan(on ring: Ring) throws(RingError) -> Ring { try ring.planning(staged) }

    /// Commits the staged changes: the returned ring carries the plan's transfers as pending.
    public mutating func commit(on ring: Ring) throws(RingError) -> Ring {
        let next = try ring.planning(staged)
        staged = []
        return next
    }
}

extension RingChange {
    /// Whether `other` concerns a member this change also names (the new member of a replace).
    func mentions(_ other: RingChange) -> Bool {
        var names: Set<String> = [subject]
        if case .replace(_, let new) = self { names.insert(new.name) }
        if case .join(let member) = other { return names.contains(member.name) }
        if case .replace(_, let new) = other { return names.contains(new.name) || names.contains(other.subject) }
        return names.contains(other.subject)
    }
}
