import Logging
import ServiceLifecycle
import Wire

/// Says hello to the seeds and every known member until the node shuts down.
///
/// Unanswered targets are retried quickly; once everyone answered, hellos repeat slowly so that a
/// member started later, or restarted on a new address, is still learned.
struct MembershipService: Service {
    let cluster: ClusterState
    let peers: Peers
    let seeds: [String]
    let logger: Logger
    var retryInterval: Duration = .milliseconds(250)
    var refreshInterval: Duration = .seconds(5)
    var helloTimeout: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures: [String: Int] = [:]
            while !Task.isCancelled {
                let targets = Set(seeds + cluster.peers.map(\.clusterAddress))
                    .subtracting([cluster.local.clusterAddress])
                let results = await withTaskGroup(of: (String, String?).self) { group in
                    for target in targets {
                        group.addTask { (target, await hello(target)) }
                    }
                    return await group.reduce(into: [(String, String?)]()) { $0.append($1) }
                }
                var allAnswered = true
                for (target, failure) in results {
                    guard let failure else {
                        failures[target] = nil
                        continue
                    }
                    allAnswered = false
                    let count = failures[target, default: 0] + 1
                    failures[target] = count
                    // Log the first failure and then every ~10 s, not every retry.
                    if count == 1 || count % 40 == 0 {
                        logger.warning(
                            "peer not answering hello", metadata: ["peer": "\(target)", "error": "\(failure)"])
                    }
                }
                try? await Task.sleep(for: allAnswered ? refreshInterval : retryInterval)
            }
        }
    }

    /// One hello; nil on success, else why it failed.
    private func hello(_ address: String) async -> String? {
        let message = Hello(
            member: cluster.local, partitions: UInt32(cluster.partitions), replicas: UInt8(cluster.replicas))
        do {
            let reply = try await peers.call(message, to: address, expecting: HelloReply.self, timeout: helloTimeout)
            guard let replier = reply.members.first else { return "empty hello reply" }
            if cluster.learn(direct: replier, reported: Array(reply.members.dropFirst())) {
                let names = cluster.members.map(\.name).joined(separator: ",")
                logger.info("membership changed", metadata: ["members": "\(names)", "via": "\(address)"])
            }
            return nil
        } catch {
            if case .remote(let reply) = error, reply.code == "wrong_ring" {
                logger.error(
                    "peer refused us: ring parameters differ",
                    metadata: ["peer": "\(address)", "detail": "\(reply.detail)"])
            }
            return error.description
        }
    }
}
