public import Ring

/// Who votes in the metadata log, read from the committed ring: the members that hold data or will again
/// (`up`, `leaving`, `down`). Joiners replicate the log as learners and vote once they are `up`; members that
/// left do not vote. The voter set follows the ring one member per entry (Raft's single-server change), so any
/// two consecutive voter sets share a majority.
public enum RingVoters {
    /// The voters a ring calls for, sorted.
    public static func of(_ ring: Ring) -> [String] {
        ring.members.filter { $0.state == .up || $0.state == .leaving || $0.state == .down }.map(\.name).sorted()
    }

    /// Members that receive the log without voting: listed, not left, not voters.
    public static func learners(of ring: Ring, voters: [String]) -> Set<String> {
        Set(ring.members.filter { $0.state != .left }.map(\.name)).subtracting(voters)
    }

    /// The next voter set on the way from `current` to what `ring` calls for: one member added (before any is
    /// removed, so the set never shrinks below what it was), else one removed; nil when they already agree.
    public static func nextStep(from current: [String], towards ring: Ring) -> [String]? {
        let target = Set(of(ring))
        var next = Set(current)
        guard target != next, !target.isEmpty else { return nil }
        if let add = target.subtracting(next).sorted().first {
            next.insert(add)
        } else if let remove = next.subtracting(target).sorted().first {
            next.remove(remove)
        }
        return next.sorted()
    }
}
