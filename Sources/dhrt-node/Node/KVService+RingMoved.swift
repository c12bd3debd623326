import Coordinator
import NIOCore

/// Requests a replica refused with `ring_moved`: the coordinator takes the refusing replica's newer ring and runs
/// the request once more on it, so that no write is acknowledged by a node that will drop it.
extension KVService {
    func retryRead(_ request: ReadRequest, after mover: String) -> EventLoopFuture<ReadOutcome> {
        let promise = node.executors.currentOrAnyLoop.makePromise(of: ReadOutcome.self)
        let (node, service) = (self.node, self)
        promise.completeWithTask {
            node.metrics.recordRingRetry()
            await node.control.refreshRing(from: mover)
            return try await service.startRead(request, retryOnMove: false).get()
        }
        return promise.futureResult
    }

    /// Runs a write again on the newer ring; `first` is what the first attempt stored here, merged rather than
    /// written anew. A node that no longer holds the key forwards the client's write to one that does.
    func retryWrite(_ request: WriteRequest, merging first: VersionedObject?, after mover: String)
        -> EventLoopFuture<WriteOutcome>
    {
        let promise = node.executors.currentOrAnyLoop.makePromise(of: WriteOutcome.self)
        let (node, service) = (self.node, self)
        promise.completeWithTask {
            node.metrics.recordRingRetry()
            await node.control.refreshRing(from: mover)
            let snapshot = node.cluster.snapshot
            let replicas = snapshot.replicas(collection: request.collection, key: request.key)
            guard replicas.contains(node.config.name) else {
                return try await service.forward(request, to: replicas, retried: first)
            }
            let need = try service.writeQuorum(request, available: replicas.count)
            return try await service.startCoordinating(
                request, snapshot: snapshot, replicas: replicas, w: need, retried: first, retryOnMove: false
            ).get()
        }
        return promise.futureResult
    }
}
