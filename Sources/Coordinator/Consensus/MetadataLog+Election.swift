extension MetadataLog {
    typealias VoteRequest = MetadataMessage.VoteRequest
    typealias VoteReply = MetadataMessage.VoteReply

    /// Whether a candidate's log is at least as up to date as ours (Raft §5.4.1).
    func isUpToDate(lastIndex candidateIndex: UInt64, lastTerm candidateTerm: UInt64) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Asks the voters whether they would vote, without raising the term: a member cut off from the others
    /// keeps failing here and never disturbs the leader the rest elected.
    mutating func startPreVote(now: UInt64) -> [Action] {
        electionDeadline = now + drawTimeout()
        if voters == [name] { return startElection(now: now) }
        preVoting = true
        votes = [name]
        var actions: [Action] = []
        if leader != nil {
            // Nothing heard from the leader for a whole election timeout: it is no longer known.
            leader = nil
            actions.append(.leaderChanged(nil))
        }
        let request = VoteRequest(term: state.term + 1, lastIndex: lastIndex, lastTerm: lastTerm, preVote: true)
        return actions + voters.filter { $0 != name }.map { .send(to: $0, .requestVote(request)) }
    }

    mutating func startElection(now: UInt64) -> [Action] {
        state.term += 1
        state.votedFor = name
        role = .candidate
        preVoting = false
        votes = [name]
        electionDeadline = now + drawTimeout()
        var actions: [Action] = [.persist(state)]
        if leader != nil {
            leader = nil
            actions.append(.leaderChanged(nil))
        }
        if votes.count >= majority(of: voters) { return actions + becomeLeader(now: now) }
        let request = VoteRequest(term: state.term, lastIndex: lastIndex, lastTerm: lastTerm, preVote: false)
        return actions + voters.filter { $0 != name }.map { .send(to: $0, .requestVote(request)) }
    }

    mutating func onRequestVote(_ request: VoteRequest, from candidate: String, now: UInt64) -> [Action] {
        let upToDate = isUpToDate(lastIndex: request.lastIndex, lastTerm: request.lastTerm)
        if request.preVote {
            // Granted only if this member would itself start an election: no leader heard from lately.
            let leaderIsAlive =
                role == .leader
                || lastLeaderContact.map { now - $0 < settings.electionTimeout.lowerBound } ?? false
            let granted = request.term > state.term && upToDate && !leaderIsAlive && mayVote
            let reply = VoteReply(term: granted ? request.term : state.term, granted: granted, preVote: true)
            return [.send(to: candidate, .vote(reply))]
        }
        guard request.term >= state.term else {
            return [.send(to: candidate, .vote(VoteReply(term: state.term, granted: false, preVote: false)))]
        }
        var actions: [Action] = []
        if request.term > state.term { actions += stepDown(term: request.term, leader: nil, now: now) }
        let granted = upToDate && mayVote && (state.votedFor == nil || state.votedFor == candidate)
        if granted {
            if state.votedFor != candidate {
                state.votedFor = candidate
                actions.append(.persist(state))
            }
            electionDeadline = now + drawTimeout()
        }
        actions.append(.send(to: candidate, .vote(VoteReply(term: state.term, granted: granted, preVote: false))))
        return actions
    }

    mutating func onVote(_ reply: VoteReply, from voter: String, now: UInt64) -> [Action] {
        if reply.term > state.term && !reply.granted { return stepDown(term: reply.term, leader: nil, now: now) }
        guard reply.granted, voters.contains(voter) else { return [] }
        if reply.preVote {
            guard preVoting, role != .leader, reply.term == state.term + 1 else { return [] }
            votes.insert(voter)
            return votes.count >= majority(of: voters) ? startElection(now: now) : []
        }
        guard role == .candidate, reply.term == state.term else { return [] }
        votes.insert(voter)
        return votes.count >= majority(of: voters) ? becomeLeader(now: now) : []
    }

    /// Takes the lead and appends an entry of its own term, which commits whatever earlier leaders left
    /// uncommitted (Raft §8) and must be committed before the voter set may change.
    mutating func becomeLeader(now: UInt64) -> [Action] {
        role = .leader
        leader = name
        preVoting = false
        lastLeaderContact = now
        progress = [:]
        for peer in replicationTargets {
            progress[peer] = Progress(next: lastIndex + 1, lastContact: now)
        }
        var actions: [Action] = [.leaderChanged(name)]
        if let last = state.entries.last {
            state.entries.append(
                MetadataEntry(index: last.index + 1, term: state.term, voters: last.voters, payload: last.payload))
            actions.append(.persist(state))
        }
        actions += advanceCommit(now: now)
        actions += replicate(now: now, force: true)
        return actions
    }

    /// Voters and learners other than this member.
    var replicationTargets: [String] {
        Set(voters).union(learners).subtracting([name]).sorted()
    }
}
