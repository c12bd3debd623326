import Foundation
import NIOCore
import NIOPosix

/// Owns the connections of a benchmark and runs slices over them.
final class BenchRunner {
    struct Target: Sendable {
        var host: String
        var port: Int
    }

    private struct Slot: Sendable {
        var channel: any Channel
        var handler: NIOLoopBound<LoadConnection>
    }

    let configuration: BenchConfiguration
    let progress = ProgressCounter()
    private let group: MultiThreadedEventLoopGroup
    private var slots: [Slot?]

    init(_ configuration: BenchConfiguration) {
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        slots = Array(repeating: nil, count: configuration.connections)
    }

    /// Opens every connection (and re-opens closed ones), spread round-robin over the nodes.
    func connect() async throws {
        let configuration = configuration
        let progress = progress
        let group = group
        let missing = slots.indices.filter { slots[$0] == nil || !slots[$0]!.channel.isActive }
        try await withThrowingTaskGroup(of: (Int, Slot).self) { tasks in
            for index in missing {
                tasks.addTask {
                    let target = configuration.targets[index % configuration.targets.count]
                    let config = LoadConnection.Config(
                        seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9,
                        hostHeader: "\(target.host):\(target.port)", collection: configuration.collection,
                        keys: KeyChooser(configuration.distribution, keyCount: configuration.keys),
                        valueSize: configuration.valueSize, blindUpdates: configuration.blindUpdates)
                    let channel: any Channel
                    do {
                        channel = try await ClientBootstrap(group: group)
                            .channelOption(.socketOption(.tcp_nodelay), value: 1)
                            .connectTimeout(.seconds(5))
                            .channelInitializer { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    let handler = LoadConnection(config: config, progress: progress)
                                    try channel.pipeline.syncOperations.addHandler(handler)
                                }
                            }
                            .connect(host: target.host, port: target.port).get()
                    } catch {
                        throw AdminError.unreachable("http://\(target.host):\(target.port)", "\(error)")
                    }
                    let handler = try await channel.eventLoop.submit {
                        NIOLoopBound(
                            try channel.pipeline.syncOperations.handler(type: LoadConnection.self),
                            eventLoop: channel.eventLoop)
                    }.get()
                    return (index, Slot(channel: channel, handler: handler))
                }
            }
            for try await (index, slot) in tasks { slots[index] = slot }
        }
    }

    /// Runs one slice on every connection and returns the merged figures.
    /// `plan(i)` gives connection i's plan; `title` labels the progress line.
    func runSlice(title: String, plan: (Int) -> SlicePlan) async throws -> OperationStats {
        try await connect()
        let plans = slots.indices.map(plan)
        var futures: [EventLoopFuture<Void>] = []
        for (slot, slicePlan) in zip(slots.compactMap { $0 }, plans) {
            let promise = slot.channel.eventLoop.makePromise(of: Void.self)
            let handler = slot.handler
            slot.channel.eventLoop.execute { handler.value.begin(slicePlan, promise: promise) }
            futures.append(promise.futureResult)
        }
        let watcher = Task { [slots, progress] in
            await BenchRunner.watch(title: title, plan: plans[0], progress: progress, slots: slots.compactMap { $0 })
        }
        for future in futures { try? await future.get() }
        watcher.cancel()
        _ = await watcher.value
        var merged = OperationStats()
        for slot in slots.compactMap({ $0 }) {
            let handler = slot.handler
            merged.merge(try await slot.channel.eventLoop.submit { handler.value.takeStats() }.get())
        }
        return merged
    }

    /// Prints progress twice a second and aborts requests that hang: 5 s past the end of a timed slice,
    /// or after 10 s without any completed operation.
    private static func watch(title: String, plan: SlicePlan, progress: ProgressCounter, slots: [Slot]) async {
        let interactive = isatty(STDERR_FILENO) != 0
        let start = monotonicNanos()
        var last = progress.snapshot
        var lastChange = start
        var lastPrint = start
        let first = last
        var aborted = false
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = monotonicNanos()
            let current = progress.snapshot
            if current != last {
                last = current
                lastChange = now
            }
            let hung = plan.stopAt.map { now > $0 + 5_000_000_000 } ?? false
            if !aborted && (hung || now - lastChange > 10_000_000_000) {
                aborted = true
                for slot in slots {
                    let handler = slot.handler
                    slot.channel.eventLoop.execute { handler.value.abort() }
                }
            }
            if interactive && now - lastPrint >= 500_000_000 {
                lastPrint = now
                let line = ProgressLine.render(
                    title: title, plan: plan, started: start, now: now,
                    completed: current.completed - first.completed, failed: current.failed - first.failed)
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            }
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    func shutdown() async {
        for slot in slots.compactMap({ $0 }) { try? await slot.channel.close() }
        try? await group.shutdownGracefully()
    }
}

/// The one-line progress display: a bar over the slice's time (or count) and running figures.
enum ProgressLine {
    static func render(title: String, plan: SlicePlan, started: UInt64, now: UInt64, completed: Int, failed: Int)
        -> String
    {
        let elapsed = Double(now - started) / 1e9
        var fraction = 0.0
        if let stopAt = plan.stopAt, stopAt > started {
            fraction = Double(now - started) / Double(stopAt - started)
        } else if case .load(_, _, let end) = plan.mode, end > 0 {
            fraction = Double(completed + failed) / Double(end)
        }
        fraction = min(max(fraction, 0), 1)
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        return "\(title.padding(22)) \(bar) \(Int(fraction * 100))%  \(completed) ops  "
            + "\(Int(rate)) ops/s  \(failed) errors"
    }
}
