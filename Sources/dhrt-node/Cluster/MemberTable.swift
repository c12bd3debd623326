import Wire

/// The members a node knows, by name; pure so that the learning rules are testable without sockets.
///
/// A member's own hello is authoritative for its addresses; hearsay (members listed in a hello reply)
/// only adds names not known yet, so a stale third-hand address never overwrites a fresh one.
struct MemberTable: Sendable, Equatable {
    private(set) var members: [String: MemberInfo]
    let selfName: String

    init(local: MemberInfo) {
        members = [local.name: local]
        selfName = local.name
    }

    /// Records a member that spoke for itself; true if the table changed.
    mutating func learnDirect(_ member: MemberInfo) -> Bool {
        guard member.name != selfName, members[member.name] != member else { return false }
        members[member.name] = member
        return true
    }

    /// Records members reported by someone else; true if a new name was added.
    mutating func learnReported(_ reported: [MemberInfo]) -> Bool {
        var changed = false
        for member in reported where members[member.name] == nil {
            members[member.name] = member
            changed = true
        }
        return changed
    }

    /// Every member, sorted by name so that each node builds the same ring.
    var sorted: [MemberInfo] { members.values.sorted { $0.name < $1.name } }

    /// Every member but this node.
    var peers: [MemberInfo] { sorted.filter { $0.name != selfName } }
}
