import Ring

@testable import Coordinator

/// The IO of the node's write and read coordination in the membership simulator: the simulated store with
/// group commit, the seeded network, the agenda. Answers and timers of a coordinator that crashed since are
/// dropped, as a process that died answers nothing.
extension MembershipSimulation {
    final class SimWriteIO: WriteIO, @unchecked Sendable {
        let simulation: MembershipSimulation
        let node: SimNode
        let key: Int
        let value: Int
        let epoch: UInt64
        let incarnation: Int
        let actor: String

        init(simulation: MembershipSimulation, node: SimNode, key: Int, value: Int, epoch: UInt64) {
            self.simulation = simulation
            self.node = node
            self.key = key
            self.value = value
            self.epoch = epoch
            incarnation = node.incarnation
            actor = node.actor
        }

        var current: Bool { node.alive && node.incarnation == incarnation }

        func storeLocally() throws -> VersionedObject {
            let object = try ReplicaStore.coordinate(
                stored: node.store[key] ?? VersionedObject(),
                write: .put(value: MembershipSimulation.bytes(value), contentType: "", context: VersionVector()),
                actor: actor, timestamp: simulation.clock(node))
            node.store[key] = object
            node.dirty.insert(key)
            return object
        }

        func whenDurable(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
            simulation.whenSynced(node) { done(.success(())) }
        }

        func replicate(
            _ object: VersionedObject, to replica: String, done: @escaping @Sendable (ReplicaCallFailure?) -> Void
        ) {
            let (simulation, key, epoch, from) = (simulation, key, epoch, node.name)
            let done = FirstAnswer(done)
            simulation.send(from: from, to: replica) { replica in
                if simulation.refusesWrite(key: key, epoch: epoch, at: replica) {
                    simulation.send(from: replica.name, to: from) { _ in
                        if self.current { done.call(ReplicaCallFailure("ring_moved", ringMoved: true)) }
                    }
                    return
                }
                simulation.merge(object, key: key, at: replica)
                simulation.whenSynced(replica) {
                    simulation.send(from: replica.name, to: from) { _ in if self.current { done.call(nil) } }
                }
            }
        }

        func storeHint(
            _ object: VersionedObject, at fallback: String, for owner: String,
            done: @escaping @Sendable (ReplicaCallFailure?) -> Void
        ) {
            let (simulation, key, from) = (simulation, key, node.name)
            let done = FirstAnswer(done)
            simulation.send(from: from, to: fallback) { holder in
                simulation.storeHint(object, owner: owner, key: key, at: holder)
                simulation.whenSynced(holder) {
                    simulation.send(from: holder.name, to: from) { _ in if self.current { done.call(nil) } }
                }
            }
        }

        func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
            SimTimer.arm({ simulation.at(instant, $0) }, while: { self.current }, body)
        }
    }

    final class SimReadIO: ReadIO, @unchecked Sendable {
        let simulation: MembershipSimulation
        let node: SimNode
        let key: Int
        let ring: Ring
        let incarnation: Int

        init(simulation: MembershipSimulation, node: SimNode, key: Int, ring: Ring) {
            self.simulation = simulation
            self.node = node
            self.key = key
            self.ring = ring
            incarnation = node.incarnation
        }

        var current: Bool { node.alive && node.incarnation == incarnation }

        var localName: String { node.name }

        var now: UInt64 { simulation.now }

        func readLocally() -> QuorumRead.Reply { node.store[key].map { .object($0) } ?? .notFound }

        func fetch(
            from replica: String, done: @escaping @Sendable (Result<QuorumRead.Reply, ReplicaCallFailure>) -> Void
        ) {
            let (simulation, key, epoch, from) = (simulation, key, ring.epoch, node.name)
            let done = FirstAnswer(done)
            simulation.send(from: from, to: replica) { replica in
                let answer: Result<QuorumRead.Reply, ReplicaCallFailure> =
                    simulation.fences(key: key, epoch: epoch, at: replica, writing: false)
                    ? .failure(ReplicaCallFailure("ring_moved", ringMoved: true))
                    : .success(replica.store[key].map { .object($0) } ?? .notFound)
                simulation.send(from: replica.name, to: from) { _ in if self.current { done.call(answer) } }
            }
        }

        func repair(_ object: VersionedObject, to replicas: [String]) {
            let (simulation, key, epoch, from) = (simulation, key, ring.epoch, node.name)
            for name in replicas {
                if name == from {
                    simulation.merge(object, key: key, at: node)
                    continue
                }
                simulation.send(from: from, to: name) { replica in
                    guard !simulation.refusesWrite(key: key, epoch: epoch, at: replica) else { return }
                    simulation.merge(object, key: key, at: replica)
                }
            }
        }

        func planReceivers() -> [String] { simulation.lists(of: key, in: ring).incoming }

        func schedule(at instant: UInt64, _ body: @escaping @Sendable () -> Void) -> any RunTimer {
            SimTimer.arm({ simulation.at(instant, $0) }, while: { self.current }, body)
        }
    }
}

/// A replica call's completion, run for its first answer only: a request delivered twice is answered twice, and a
/// node's wire client hands its caller one answer per request.
final class FirstAnswer<Answer>: @unchecked Sendable {
    private var done: ((Answer) -> Void)?

    init(_ done: @escaping (Answer) -> Void) { self.done = done }

    func call(_ answer: Answer) {
        guard let done else { return }
        self.done = nil
        done(answer)
    }
}
