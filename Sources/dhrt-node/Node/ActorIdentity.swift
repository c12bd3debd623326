import Storage

/// The actor id this node's coordinated writes carry in their version vectors.
///
/// A dot (actor, counter) must never name two different writes. A node that lost writes it had already sent
/// to other replicas (a power loss before group commit's fsync, a wiped data directory, memory mode) would
/// count its counters again from where its disk stopped; its next write of such a key would reuse a dot the
/// other replicas hold for another value, and they would keep theirs and drop the new one while acknowledging
/// it. So every start after anything but a clean shutdown coordinates under a new actor id: the node's name
/// with a random suffix, kept in `ACTOR` beside the ring. A clean shutdown (storage closed, everything synced)
/// marks the file so that the next start keeps the id and version vectors do not grow with every restart.
struct ActorIdentity: Sendable, Equatable {
    let name: String
    let suffix: UInt32

    /// What goes into version vectors: `name~suffix`; `~` is not allowed in member names.
    var actor: String { name + "~" + String(suffix, radix: 16) }

    /// The identity to run under: the recorded one after a clean shutdown, else a new one.
    static func next(recorded: ActorRecord?, name: String, fresh: UInt32) -> ActorIdentity {
        if let recorded, recorded.clean, recorded.name == name {
            return ActorIdentity(name: name, suffix: recorded.suffix)
        }
        return ActorIdentity(name: name, suffix: fresh)
    }

    /// Loads the identity for a node starting on `directory` (nil: memory mode, a new one every start) and
    /// records it as running, durably, before any write is coordinated.
    static func start(name: String, directory: String?) throws -> ActorIdentity {
        let fresh = UInt32.random(in: 1...UInt32.max)
        guard let directory else { return ActorIdentity(name: name, suffix: fresh) }
        let path = directory + "/ACTOR"
        let recorded = try DurableFile.read(path).flatMap(ActorRecord.init(bytes:))
        let identity = next(recorded: recorded, name: name, fresh: fresh)
        try DurableFile.write(ActorRecord(identity, clean: false).bytes, to: path)
        return identity
    }

    /// Records a clean shutdown: call only once storage closed with everything synced.
    func markClean(directory: String?) throws {
        guard let directory else { return }
        try DurableFile.write(ActorRecord(self, clean: true).bytes, to: directory + "/ACTOR")
    }
}

/// The `ACTOR` file: one line, `dhrt-actor NAME SUFFIX running|clean`. Anything else reads as nothing, which
/// only costs a new id.
struct ActorRecord: Equatable {
    var name: String
    var suffix: UInt32
    var clean: Bool

    init(_ identity: ActorIdentity, clean: Bool) {
        name = identity.name
        suffix = identity.suffix
        self.clean = clean
    }

    init?(bytes: [UInt8]) {
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "dhrt-actor", let suffix = UInt32(fields[2], radix: 16), suffix != 0
        else { return nil }
        let state = fields[3].hasSuffix("\n") ? fields[3].dropLast() : fields[3]
        guard state == "running" || state == "clean" else { return nil }
        name = String(fields[1])
        self.suffix = suffix
        clean = state == "clean"
    }

    var bytes: [UInt8] {
        Array("dhrt-actor \(name) \(String(suffix, radix: 16)) \(clean ? "clean" : "running")\n".utf8)
    }
}
