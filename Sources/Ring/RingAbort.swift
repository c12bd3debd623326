/// One change of a pending plan, by member names: the ring carries them so that a plan can be aborted or
/// re-planned with a change folded in. The members themselves are in `Ring.members`.
struct PlanStep: Sendable, Hashable {
    enum Kind: UInt8, Sendable {
        case join = 0
        case leave = 1
        case forceRemove = 2
        case replace = 3
    }

    var kind: Kind
    /// The member the change is about (the old one for a replace).
    var name: String
    /// The new member of a replace.
    var new: String?

    init(kind: Kind, name: String, new: String? = nil) {
        self.kind = kind
        self.name = name
        self.new = new
    }

    init(_ change: RingChange) {
        switch change {
        case .join(let member): self.init(kind: .join, name: member.name)
        case .leave(let name): self.init(kind: .leave, name: name)
        case .forceRemove(let name): self.init(kind: .forceRemove, name: name)
        case .replace(let old, let new): self.init(kind: .replace, name: old, new: new.name)
        }
    }
}

extension Ring {
    /// The changes of the pending plan, in the order they were planned; empty when nothing is pending.
    ///
    /// A ring from an encoding older than version 3 does not carry them: they are then read from the member
    /// states (`joining` → join, `leaving` → leave, `left` → force-remove), a joiner that receives every
    /// partition of a leaver being that leaver's replace. That reading is a best effort for rings written
    /// before version 3; a ring planned here carries its changes.
    public var planChanges: [RingChange] {
        guard !pending.isEmpty else { return [] }
        let steps = steps.isEmpty ? reconstructedSteps() : steps
        return steps.compactMap { step -> RingChange? in
            switch step.kind {
            case .join: return member(named: step.name).map { .join(Self.asStaged($0)) }
            case .leave: return .leave(step.name)
            case .forceRemove: return .forceRemove(step.name)
            case .replace:
                guard let new = step.new.flatMap(member(named:)) else { return nil }
                return .replace(old: step.name, new: Self.asStaged(new))
            }
        }
    }

    /// The ring as it was before the pending plan, at the next epoch: pending transfers and the copies
    /// reported done are forgotten, joiners are removed (they owned nothing yet), leavers and force-removed
    /// members are `up` again and own what they owned. The members that were copying then hold ranges they do
    /// not replicate: they drop them once the ring has stood for the drop grace, as after a finished plan.
    public func aborting() throws(RingError) -> Ring {
        guard !pending.isEmpty else { throw RingError.nothingPending }
        var ring = beforePlan()
        ring.epoch = epoch + 1
        return ring
    }

    /// Folds `changes` (force-removes and replaces) into the pending plan and plans again from the current
    /// owners: the plan's own changes with these applied (`RingChange.folding`). A force-remove of a joiner
    /// drops its join; a replace of a joiner makes the new member join instead; a force-remove or replace of
    /// a leaver turns its leave into that change. When nothing is left of the plan, this is `aborting()`.
    func folding(_ changes: [RingChange]) throws(RingError) -> Ring {
        for change in changes {
            switch change {
            case .forceRemove, .replace: break
            case .join, .leave: throw RingError.transfersPending(pending.count)
            }
        }
        let combined = RingChange.folding(planChanges, with: changes)
        guard !combined.isEmpty else { return try aborting() }
        var ring = try beforePlan().planning(combined)
        ring.epoch = epoch + 1
        ring.plannedAt = epoch + 1
        return ring
    }

    /// The ring before the pending plan, at this epoch.
    func beforePlan() -> Ring {
        var joiners: Set<String> = []
        var restored: Set<String> = []
        for change in planChanges {
            switch change {
            case .join(let member): joiners.insert(member.name)
            case .leave(let name), .forceRemove(let name): restored.insert(name)
            case .replace(let old, let new):
                restored.insert(old)
                joiners.insert(new.name)
            }
        }
        // A joiner owns nothing until owners switch; one that does (never planned so) is kept rather than lost.
        let owning = Set(owners.map { members[Int($0)].name })
        var kept: [Member] = []
        for var member in members where !joiners.contains(member.name) || owning.contains(member.name) {
            if restored.contains(member.name) || joiners.contains(member.name) { member.state = .up }
            kept.append(member)
        }
        let indexOf = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1.name, UInt16($0)) })
        return Ring(
            epoch: epoch, clusterID: clusterID, partitioner: partitioner, replicas: replicas, members: kept,
            owners: owners.map { indexOf[members[Int($0)].name]! }, pending: [])
    }

    /// The plan's changes read from member states, for rings whose encoding did not carry them.
    func reconstructedSteps() -> [PlanStep] {
        var from: [String: Set<Int>] = [:]
        var to: [String: Set<Int>] = [:]
        for transfer in pending {
            from[transfer.from, default: []].insert(transfer.partition)
            to[transfer.to, default: []].insert(transfer.partition)
        }
        let joining = members.filter { $0.state == .joining }.map(\.name)
        var replaced: [String: String] = [:]
        for leaver in members where leaver.state == .leaving {
            guard let lost = from[leaver.name] else { continue }
            if let new = joining.first(where: { lost.isSubset(of: to[$0] ?? []) }),
                !replaced.values.contains(new)
            {
                replaced[leaver.name] = new
            }
        }
        let replacing = Set(replaced.values)
        var steps: [PlanStep] = []
        for member in members {
            switch member.state {
            case .joining where !replacing.contains(member.name): steps.append(PlanStep(kind: .join, name: member.name))
            case .leaving:
                if let new = replaced[member.name] {
                    steps.append(PlanStep(kind: .replace, name: member.name, new: new))
                } else {
                    steps.append(PlanStep(kind: .leave, name: member.name))
                }
            case .left: steps.append(PlanStep(kind: .forceRemove, name: member.name))
            case .joining, .up, .down: break
            }
        }
        return steps
    }

    private static func asStaged(_ member: Member) -> Member {
        var member = member
        member.state = .up
        return member
    }
}

extension RingChange {
    /// `plan` with `changes` applied, as `Ring.folding` plans it: a force-remove of a joiner (or of a replace's
    /// new member) drops that change; a replace of a joiner becomes the new member's join, of a replace's new
    /// member a replace by the newer one; a force-remove or replace of a leaver takes the place of its leave; a
    /// force-remove of a replace's old member keeps the replace (the new member copies from the other
    /// replicas). Any other change is added.
    public static func folding(_ plan: [RingChange], with changes: [RingChange]) -> [RingChange] {
        var result = plan
        for change in changes {
            guard let index = result.firstIndex(where: { $0.names(change.subject) }) else {
                result.append(change)
                continue
            }
            switch (result[index], change) {
            case (.join, .forceRemove):
                result.remove(at: index)
            case (.replace(_, let new), .forceRemove(let name)) where new.name == name:
                result.remove(at: index)
            case (.replace, .forceRemove):
                break
            case (.join, .replace(_, let new)):
                result[index] = .join(new)
            case (.replace(let old, let joiner), .replace(let name, let new)) where joiner.name == name:
                result[index] = .replace(old: old, new: new)
            default:
                result[index] = change
            }
        }
        return result
    }

    /// Whether this change is about `name`: its subject, or the new member of a join or replace.
    func names(_ name: String) -> Bool {
        switch self {
        case .join(let member): member.name == name
        case .leave(let subject), .forceRemove(let subject): subject == name
        case .replace(let old, let new): old == name || new.name == name
        }
    }
}
