import NIOCore
import NIOPosix
import Storage
import Synchronization

/// An event loop as a storage `CompletionExecutor`, so that group commit wakes a loop once per batch.
final class LoopExecutor: CompletionExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func execute(_ work: @escaping @Sendable () -> Void) { loop.execute(work) }
}

/// One `LoopExecutor` per event loop of the node's group, made once.
struct LoopExecutors: Sendable {
    private let executors: [ObjectIdentifier: LoopExecutor]
    /// A loop for work that starts off any loop.
    let anyLoop: any EventLoop

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        var executors: [ObjectIdentifier: LoopExecutor] = [:]
        for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = LoopExecutor(loop) }
        self.executors = executors
        anyLoop = group.next()
    }

    /// The event loop running the caller, else any loop of the group.
    var currentOrAnyLoop: any EventLoop { MultiThreadedEventLoopGroup.currentEventLoop ?? anyLoop }

    /// The executor of `loop`; a loop outside the group (tests) gets one of its own.
    func executor(for loop: any EventLoop) -> LoopExecutor {
        executors[ObjectIdentifier(loop)] ?? LoopExecutor(loop)
    }
}
