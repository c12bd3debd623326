/// Why a ring could not be built, changed or decoded.
public enum RingError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidPartitionCount(Int)
    case noMembers
    case invalidReplicaCount(Int)
    case invalidMemberName(String)
    case duplicateMember(String)
    case unknownMember(String)
    case tooManyMembers(count: Int, partitions: Int)
    case lastMemberCannotLeave(String)
    case decoding(String)
    case transfersPending(Int)
    case nothingStaged
    case nothingPending

    public var description: String {
        switch self {
        case .invalidPartitionCount(let q):
            return "partition count \(q) is invalid: it must be a power of two from 8 to 4096"
        case .noMembers:
            return "a ring needs at least one member"
        case .invalidReplicaCount(let n):
            return "replica count (N) \(n) is invalid: it must be from 1 to 16"
        case .invalidMemberName(let name):
            return "member name '\(name)' is invalid: use 1 to 64 characters of [A-Za-z0-9_.-]"
        case .duplicateMember(let name):
            return "member '\(name)' is already in the ring"
        case .unknownMember(let name):
            return "member '\(name)' is not in the ring"
        case .tooManyMembers(let count, let partitions):
            return "\(count) members cannot share \(partitions) partitions: every member must own at least one"
        case .lastMemberCannotLeave(let name):
            return "member '\(name)' is the last one and cannot leave"
        case .decoding(let why):
            return "ring encoding is invalid: \(why)"
        case .transfersPending(let count):
            return "\(count) partition transfer(s) of the last plan are not finished; commit again once they are, "
                + "or abort the plan (a force-remove or replace folds into it)"
        case .nothingStaged:
            return "no change is staged"
        case .nothingPending:
            return "no plan is pending: nothing to abort"
        }
    }
}
