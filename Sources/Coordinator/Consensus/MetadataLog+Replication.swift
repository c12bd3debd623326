extension MetadataLog {
    typealias AppendRequest = MetadataMessage.AppendRequest
    typealias AppendReply = MetadataMessage.AppendReply

    /// On the leader: sends each follower what it lacks, or a heartbeat when it is due.
    mutating func replicate(now: UInt64, force: Bool) -> [Action] {
        guard role == .leader else { return [] }
        var actions: [Action] = []
        for peer in replicationTargets {
            var peerProgress = progress[peer] ?? Progress(next: lastIndex + 1, lastContact: now)
            let behind = peerProgress.next <= lastIndex && !peerProgress.inFlight
            let heartbeatDue = now >= peerProgress.lastSent + settings.heartbeatInterval
            guard force || behind || heartbeatDue else {
                progress[peer] = peerProgress
                continue
            }
            peerProgress.lastSent = now
            peerProgress.inFlight = true
            progress[peer] = peerProgress
            actions.append(.send(to: peer, .append(appendRequest(next: peerProgress.next))))
        }
        return actions
    }

    /// The entries from `next` on, or from the committed base when `next` was compacted away.
    func appendRequest(next: UInt64) -> AppendRequest {
        let previous = next - 1
        if let base = state.entries.first, previous >= base.index, let prior = entry(at: previous) {
            let entries = Array(state.entries.drop { $0.index <= previous })
            return AppendRequest(
                term: state.term, prevIndex: previous, prevTerm: prior.term, entries: entries,
                commitIndex: commitIndex)
        }
        return AppendRequest(
            term: state.term, prevIndex: 0, prevTerm: 0, entries: state.entries, commitIndex: commitIndex)
    }

    mutating func onAppend(_ request: AppendRequest, from sender: String, now: UInt64) -> [Action] {
        guard request.term >= state.term else {
            return [.send(to: sender, .appendReply(AppendReply(term: state.term, success: false, index: lastIndex)))]
        }
        var actions: [Action] = []
        if request.term > state.term || role != .follower || leader != sender {
            actions += stepDown(term: request.term, leader: sender, now: now)
        }
        lastLeaderContact = now
        electionDeadline = now + drawTimeout()

        var previous = request.prevIndex
        var entries = request.entries[...]
        // Whether `previous` is known to agree with the leader's log without checking `prevTerm`.
        var agreed = previous == 0
        if previous == 0, let first = entries.first {
            if let mine = entry(at: first.index), mine.term == first.term {
                entries = entries.dropFirst()
            } else if let base = state.entries.first, first.index < base.index {
                // Older than what this member committed: it matches, as every committed entry does.
            } else {
                // A committed base this log does not agree with: take it and what follows (Raft's snapshot rule).
                state.entries = Array(entries)
                actions.append(.persist(state))
                let lastNew = state.entries.last!.index
                actions += commit(upTo: min(max(request.commitIndex, first.index), lastNew))
                return actions + [reply(to: sender, success: true, index: lastNew)]
            }
            previous = first.index
        }
        if let base = state.entries.first, previous <= base.index {
            // Everything up to the committed base is the leader's too.
            entries = entries.drop { $0.index <= base.index }
            previous = base.index
            agreed = true
        }
        if previous > 0 {
            guard let prior = entry(at: previous), agreed || prior.term == request.prevTerm else {
                return actions + [reply(to: sender, success: false, index: min(lastIndex, previous - 1))]
            }
        }
        var changed = false
        for entry in entries {
            if let mine = self.entry(at: entry.index) {
                if mine.term == entry.term { continue }
                let offset = Int(entry.index - state.entries[0].index)
                state.entries.removeSubrange(offset...)
            }
            state.entries.append(entry)
            changed = true
        }
        if changed { actions.append(.persist(state)) }
        let lastNew = entries.last?.index ?? previous
        actions += commit(upTo: min(request.commitIndex, lastNew))
        return actions + [reply(to: sender, success: true, index: lastNew)]
    }

    private func reply(to leader: String, success: Bool, index: UInt64) -> Action {
        .send(to: leader, .appendReply(AppendReply(term: state.term, success: success, index: index)))
    }

    mutating func onAppendReply(_ reply: AppendReply, from follower: String, now: UInt64) -> [Action] {
        if reply.term > state.term { return stepDown(term: reply.term, leader: nil, now: now) }
        guard role == .leader, reply.term == state.term, var peer = progress[follower] else { return [] }
        peer.lastContact = now
        peer.inFlight = false
        if reply.success {
            peer.match = max(peer.match, reply.index)
            peer.next = peer.match + 1
            progress[follower] = peer
            return advanceCommit(now: now) + replicate(now: now, force: false)
        }
        peer.next = max(1, min(peer.next - 1, reply.index + 1))
        peer.lastSent = now
        peer.inFlight = true
        progress[follower] = peer
        return [.send(to: follower, .append(appendRequest(next: peer.next)))]
    }

    /// On the leader: commits the highest entry of its own term that a majority of the voters hold.
    mutating func advanceCommit(now: UInt64) -> [Action] {
        guard role == .leader else { return [] }
        let needed = majority(of: voters)
        var candidate = lastIndex
        while candidate > commitIndex, let entry = entry(at: candidate), entry.term == state.term {
            let holders = voters.filter { voter in
                voter == name ? lastIndex >= candidate : (progress[voter]?.match ?? 0) >= candidate
            }.count
            if holders >= needed {
                var actions = commit(upTo: candidate)
                // A leader that the committed voter set no longer lists hands over (Raft §4.2.2).
                if !voters.contains(name) { actions += stepDown(term: state.term, leader: nil, now: now) }
                return actions
            }
            candidate -= 1
        }
        return []
    }

    /// Marks entries up to `index` committed, reports the newest and compacts the log to it.
    mutating func commit(upTo index: UInt64) -> [Action] {
        guard index > commitIndex, let entry = entry(at: index) else { return [] }
        commitIndex = index
        if let first = state.entries.first, first.index < index {
            state.entries.removeFirst(Int(index - first.index))
        }
        return [.persist(state), .committed(entry)]
    }
}
