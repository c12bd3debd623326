import Logging
import Ring
import ServiceLifecycle
import Wire

/// Keeps this node in its cluster until it shuts down.
///
/// Without a ring it forms a cluster with its seeds (`Formation`) or, given `--join`, asks a member to commit
/// its join. With a ring it gossips with every member each round (the exchange is the failure detector's
/// heartbeat), switches owners on the claimant once transfers are done, and keeps its own addresses current.
struct MembershipService: Service {
    let control: ClusterControl
    let joinAddress: String?
    let logger: Logger
    var interval: Duration = .seconds(1)
    var formingInterval: Duration = .milliseconds(200)
    var helloTimeout: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var waiting: (reason: String, rounds: Int)? = nil
            while !Task.isCancelled {
                guard control.cluster.ring != nil else {
                    let reason: String?
                    if let joinAddress { reason = await join(joinAddress) } else { reason = await formationRound() }
                    if let reason {
                        // Say why once, then every ~10 s, not every round.
                        let rounds = waiting?.reason == reason ? waiting!.rounds + 1 : 0
                        if rounds % 50 == 0 { logger.info("not in a cluster yet", metadata: ["why": "\(reason)"]) }
                        waiting = (reason, rounds)
                    }
                    try? await Task.sleep(for: formingInterval)
                    continue
                }
                let before = control.cluster.ring?.epoch
                await control.gossipRound()
                await control.switchOwnersIfReady()
                await keepAddressCurrent()
                // A ring changed here (a commit, a switch) goes out at once rather than after a full interval.
                if control.cluster.ring?.epoch != before { continue }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One round of hellos for a forming node; nil once it has a ring, else why it is still waiting.
    private func formationRound() async -> String? {
        let cluster = control.cluster
        let message = Hello(
            member: cluster.local, partitions: UInt32(cluster.partitions), replicas: UInt8(cluster.replicas))
        await withTaskGroup(of: Void.self) { group in
            for target in control.formationTargets {
                group.addTask {
                    do {
                        let reply = try await control.peers.call(
                            message, to: target, expecting: HelloReply.self, timeout: helloTimeout)
                        control.heardReply(reply, from: target)
                    } catch let error as PeerError {
                        if case .remote(let reply) = error, reply.code == "wrong_ring" || reply.code == "duplicate_name"
                        {
                            let what = reply.code == "wrong_ring" ? "ring parameters differ" : "name taken"
                            logger.error(
                                "peer refused us: \(what)",
                                metadata: ["peer": "\(target)", "detail": "\(reply.detail)"])
                        }
                    } catch {}
                }
            }
        }
        return control.advanceFormation()
    }

    /// Asks the member at `address` to commit this node's join; nil once the ring arrived.
    private func join(_ address: String) async -> String? {
        let cluster = control.cluster
        do {
            let reply = try await control.peers.call(
                ClusterCommand(.joinNow, member: cluster.local), to: address, expecting: ClusterCommandReply.self,
                timeout: .seconds(10))
            let ring = try Ring.decode(reply.ring)
            guard control.receive(ring, from: address) || cluster.ring != nil else {
                return "the ring from \(address) does not list this node"
            }
            logger.info("joined the cluster", metadata: ["via": "\(address)", "claimant": "\(reply.claimant)"])
            return nil
        } catch {
            return "join through \(address) failed: \(error)"
        }
    }

    /// A member restarted on other addresses asks the leader to commit them.
    private func keepAddressCurrent() async {
        let cluster = control.cluster
        let local = cluster.local
        guard let listed = cluster.ring?.member(named: local.name),
            listed.clusterAddress != local.clusterAddress || listed.httpAddress != local.httpAddress
        else { return }
        do {
            _ = try await control.command(ClusterCommand(.updateAddress, name: local.name, member: local))
            logger.info("addresses updated in the ring", metadata: ["cluster": "\(local.clusterAddress)"])
        } catch {
            logger.warning("could not update this node's addresses", metadata: ["error": "\(error.code): \(error.detail)"])
        }
    }
}
