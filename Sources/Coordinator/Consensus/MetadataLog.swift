/// The cluster metadata log: Raft, for the ring alone, as a pure state machine.
///
/// Every change of the ring (a commit of a plan, a switch of owners, an address change) is an entry that a
/// majority of the voters must store before it counts. A side of a partition without a majority elects no leader
/// and commits nothing, so two rings can never be committed at one epoch; the data path stays leaderless and
/// keeps serving on the ring it has.
///
/// Entries carry the whole encoded ring (state, not commands), so the log is compacted to its last committed
/// entry and a lagging member is brought up to date by that entry alone. Pre-vote keeps a member that was cut
/// off from raising the term and unseating a working leader when it comes back; a leader that loses contact with
/// a majority steps down. Membership of the voter set changes one voter per entry (Raft's single-server rule),
/// in effect from the moment the entry is appended, and only once the leader committed an entry of its term.
///
/// Events in, actions out: the shell carries out `persist` before any `send` that follows it, delivers messages,
/// feeds replies and ticks back in, and applies `committed` payloads. No clock, file or socket inside.
public struct MetadataLog: Sendable {
    public enum Role: String, Sendable, Equatable {
        case follower, candidate, leader
    }

    public struct Settings: Sendable, Equatable {
        /// Election timeouts are drawn from this range, in nanoseconds.
        public var electionTimeout: ClosedRange<UInt64>
        /// How often a leader sends appends when there is nothing new, in nanoseconds.
        public var heartbeatInterval: UInt64

        public init(
            electionTimeout: ClosedRange<UInt64> = 1_500_000_000...3_000_000_000,
            heartbeatInterval: UInt64 = 200_000_000
        ) {
            self.electionTimeout = electionTimeout
            self.heartbeatInterval = heartbeatInterval
        }
    }

    public enum Action: Sendable, Equatable {
        /// Store the state durably before carrying out any later action.
        case persist(MetadataState)
        case send(to: String, MetadataMessage)
        /// The entry is committed: apply its payload (entries arrive in log order, each at most once).
        case committed(MetadataEntry)
        /// The leader this member knows changed (nil: none known).
        case leaderChanged(String?)
    }

    public let name: String
    public let settings: Settings
    public internal(set) var state: MetadataState
    public internal(set) var role: Role = .follower
    public internal(set) var leader: String?
    /// Highest index known committed; entries at or below it never change.
    public internal(set) var commitIndex: UInt64
    /// Members that receive entries without voting (joining members), besides the voters.
    public private(set) var learners: Set<String> = []

    var random: SplitMix64
    var electionDeadline: UInt64
    /// When a leader was last heard from (or, on a leader, when a majority last answered).
    var lastLeaderContact: UInt64?
    var votes: Set<String> = []
    var preVoting = false
    var progress: [String: Progress] = [:]

    struct Progress: Sendable {
        var next: UInt64
        var match: UInt64 = 0
        var lastContact: UInt64
        var lastSent: UInt64 = 0
        var inFlight = false
    }

    /// A member with stored state (or a fresh one with an empty log, waiting for a leader to fill it).
    public init(name: String, state: MetadataState, settings: Settings = .init(), seed: UInt64, now: UInt64) {
        self.name = name
        self.settings = settings
        self.state = state
        commitIndex = state.entries.first?.index ?? 0
        random = SplitMix64(seed: seed)
        electionDeadline = 0
        electionDeadline = now + drawTimeout()
        // A cluster's first election: the lowest-named voter asks at once, the others wait as usual.
        if state.term == 0, state.entries.last?.voters.first == name { electionDeadline = now }
    }

    // MARK: Queries

    public var term: UInt64 { state.term }
    public var lastIndex: UInt64 { state.entries.last?.index ?? 0 }
    public var lastTerm: UInt64 { state.entries.last?.term ?? 0 }
    /// The voter set in effect: that of the last entry, committed or not.
    public var voters: [String] { state.entries.last?.voters ?? [] }
    public var isLeader: Bool { role == .leader }
    /// The last committed entry; nil for a member that has received nothing yet.
    public var committedEntry: MetadataEntry? { state.entries.last { $0.index <= commitIndex } }
    /// Whether every entry is committed, so that the leader may propose the next one.
    public var isSettled: Bool { lastIndex == commitIndex }

    func entry(at index: UInt64) -> MetadataEntry? {
        guard let first = state.entries.first, index >= first.index else { return nil }
        let offset = Int(index - first.index)
        return offset < state.entries.count ? state.entries[offset] : nil
    }

    func majority(of voters: [String]) -> Int { voters.count / 2 + 1 }

    /// Whether this member may vote and stand for election. A member that lost its stored state may have voted
    /// in a term it no longer knows of; voting again could give that term two leaders, and its lost entries
    /// could let a candidate without a committed entry win. With one or two voters neither can happen (every
    /// election needs every voter), so it abstains only from three voters on, as if it were down.
    public var mayVote: Bool { !state.abstains || voters.count <= 2 }

    /// On the leader: whether a majority of the voters answered within `window` nanoseconds, so that a
    /// proposal can be expected to commit rather than wait for a majority that is not there.
    public func hasQuorumContact(within window: UInt64, now: UInt64) -> Bool {
        guard let contact = quorumContact(now: now) else { return false }
        return now - contact <= window
    }

    // MARK: Events

    /// Members to replicate to without a vote; the shell sets them from the ring (joining members).
    public mutating func setLearners(_ names: Set<String>) {
        learners = names.subtracting([name])
    }

    /// Time passed: elections and heartbeats.
    public mutating func onTick(now: UInt64) -> [Action] {
        switch role {
        case .leader:
            if let contact = quorumContact(now: now), now - contact > settings.electionTimeout.lowerBound {
                // Cut off from a majority: stop acting as leader so the minority side commits nothing.
                return stepDown(term: state.term, leader: nil, now: now)
            }
            return replicate(now: now, force: false)
        case .follower, .candidate:
            guard now >= electionDeadline || voters == [name], voters.contains(name), mayVote else { return [] }
            return startPreVote(now: now)
        }
    }

    /// A message from `sender`.
    public mutating func onMessage(_ message: MetadataMessage, from sender: String, now: UInt64) -> [Action] {
        switch message {
        case .requestVote(let request):
            return onRequestVote(request, from: sender, now: now)
        case .vote(let reply):
            return onVote(reply, from: sender, now: now)
        case .append(let request):
            return onAppend(request, from: sender, now: now)
        case .appendReply(let reply):
            return onAppendReply(reply, from: sender, now: now)
        }
    }

    /// A request to `peer` got no answer: it may be sent again without waiting for the heartbeat.
    public mutating func onUnreachable(_ peer: String) {
        progress[peer]?.inFlight = false
    }

    public enum ProposalError: Error, Sendable, Equatable {
        /// Only the leader appends; the name is the leader this member knows of.
        case notLeader(String?)
        /// An earlier entry is not committed yet (one change at a time).
        case busy
        /// The voter set may change by one member per entry.
        case tooManyVoterChanges
    }

    /// On the leader: appends `payload` with `voters` as the new voter set; returns the entry's index.
    public mutating func propose(payload: [UInt8], voters next: [String], now: UInt64) throws(ProposalError) -> (
        index: UInt64, actions: [Action]
    ) {
        guard role == .leader else { throw .notLeader(leader) }
        guard isSettled else { throw .busy }
        let sortedNext = Array(Set(next)).sorted()
        let changed = Set(sortedNext).symmetricDifference(voters).count
        guard changed <= 1, !sortedNext.isEmpty else { throw .tooManyVoterChanges }
        let entry = MetadataEntry(index: lastIndex + 1, term: state.term, voters: sortedNext, payload: payload)
        state.entries.append(entry)
        for voter in sortedNext where voter != name && progress[voter] == nil {
            progress[voter] = Progress(next: entry.index, lastContact: now)
        }
        var actions: [Action] = [.persist(state)]
        actions += advanceCommit(now: now)
        actions += replicate(now: now, force: true)
        return (entry.index, actions)
    }

    // MARK: Helpers

    mutating func drawTimeout() -> UInt64 {
        let range = settings.electionTimeout
        return range.lowerBound + random.next() % (range.upperBound - range.lowerBound + 1)
    }

    mutating func stepDown(term: UInt64, leader newLeader: String?, now: UInt64) -> [Action] {
        var actions: [Action] = []
        if term > state.term {
            state.term = term
            state.votedFor = nil
            actions.append(.persist(state))
        }
        role = .follower
        preVoting = false
        votes = []
        progress = [:]
        electionDeadline = now + drawTimeout()
        if newLeader != leader {
            leader = newLeader
            actions.append(.leaderChanged(newLeader))
        }
        return actions
    }

    /// The latest time by which a majority of voters (this leader included) answered; nil when not leading.
    func quorumContact(now: UInt64) -> UInt64? {
        guard role == .leader else { return nil }
        var times = voters.map { voter in voter == name ? now : (progress[voter]?.lastContact ?? 0) }
        times.sort(by: >)
        let needed = majority(of: voters)
        return needed <= times.count ? times[needed - 1] : 0
    }
}

/// A small seeded generator, so elections are reproducible in the simulator.
struct SplitMix64: Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
