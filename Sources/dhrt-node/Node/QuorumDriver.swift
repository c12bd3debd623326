import Coordinator
import Dispatch
import Synchronization

/// Carries out the actions of the coordinator's sans-IO `QuorumRead` / `QuorumWrite` over real IO.
///
/// The machines ask for a deadline timer; the driver needs none, because every replica call is itself
/// bounded by the same request timeout (wire client) and so always reports back before the deadline.
enum QuorumDriver {
    private static let nextID = Atomic<UInt64>(1)

    static func requestID() -> UInt64 { nextID.add(1, ordering: .relaxed).newValue }

    /// A deadline on the machines' monotonic clock, for their bookkeeping.
    static func deadline(after timeout: Duration) -> UInt64 {
        DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, timeout.nanoseconds))
    }

    /// Runs a read to its client reply; fetches and the final read repair go on in the background.
    static func read(
        _ machine: QuorumRead, background: BackgroundTasks,
        fetch: @escaping @Sendable (String) async -> QuorumRead.Reply,
        repair: @escaping @Sendable ([String], VersionedObject) async -> Void
    ) async -> QuorumRead.Outcome {
        let state = Mutex(machine)
        return await withCheckedContinuation { continuation in
            let reply = Once(continuation)
            @Sendable func perform(_ actions: [QuorumRead.Action]) {
                for action in actions {
                    switch action {
                    case .fetch(let names):
                        for name in names {
                            let started = background.spawn {
                                let answer = await fetch(name)
                                perform(state.withLock { $0.onReply(from: name, answer) })
                            }
                            if !started {
                                perform(state.withLock { $0.onReply(from: name, .failure("shutting down")) })
                            }
                        }
                    case .scheduleTimeout:
                        break
                    case .reply(let outcome):
                        reply.resume(outcome)
                    case .repair(let names, let object):
                        background.spawn { await repair(names, object) }
                    }
                }
            }
            perform(state.withLock { $0.start() })
        }
    }

    /// Runs a write to its client reply. `storeLocally` applies the client write to the local replica and
    /// returns the stored object; its error (a failed precondition, a disk error) fails the write at once.
    static func write(
        _ machine: QuorumWrite, background: BackgroundTasks,
        storeLocally: @escaping @Sendable () async throws -> VersionedObject,
        send: @escaping @Sendable (String, [UInt8]) async throws -> Void
    ) async -> Result<QuorumWrite.Outcome, any Error> {
        let state = Mutex(machine)
        return await withCheckedContinuation { continuation in
            let reply = Once(continuation)
            @Sendable func perform(_ actions: [QuorumWrite.Action]) {
                for action in actions {
                    switch action {
                    case .storeLocally:
                        let started = background.spawn {
                            do {
                                let object = try await storeLocally()
                                perform(state.withLock { $0.onLocalStored(object) })
                            } catch {
                                // Answer with the error itself so that the caller maps it (412, 500).
                                reply.resume(.failure(error))
                                _ = state.withLock { $0.onLocalFailure(reason: "\(error)") }
                            }
                        }
                        if !started { reply.resume(.failure(FanOut.ShuttingDown())) }
                    case .scheduleTimeout:
                        break
                    case .send(let names, let object):
                        let encoded = object.encoded()
                        for name in names {
                            let started = background.spawn {
                                do {
                                    try await send(name, encoded)
                                    perform(state.withLock { $0.onAck(from: name) })
                                } catch {
                                    perform(state.withLock { $0.onFailure(from: name, reason: "\(error)") })
                                }
                            }
                            if !started {
                                perform(state.withLock { $0.onFailure(from: name, reason: "shutting down") })
                            }
                        }
                    case .reply(let outcome):
                        reply.resume(.success(outcome))
                    }
                }
            }
            perform(state.withLock { $0.start() })
        }
    }
}

/// Resumes a continuation exactly once, whichever path gets there first.
private final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>

    init(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: T) {
        let waiting = continuation.withLock { stored in
            defer { stored = nil }
            return stored
        }
        waiting?.resume(returning: value)
    }
}
