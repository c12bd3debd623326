import Logging
import ServiceLifecycle
import Wire

/// Runs the metadata log's shell: ticks it (elections, heartbeats) and delivers what it sends, feeding each
/// reply back in. One task per message in flight; the log itself bounds how many appends a peer has pending.
struct MetadataService: Service {
    let control: ClusterControl
    var tick: Duration = .milliseconds(50)
    var callTimeout: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        control.metadataTick()
                        try? await Task.sleep(for: tick)
                    }
                }
                for await (peer, call) in control.outbox {
                    group.addTask { await deliver(call, to: peer) }
                }
            }
        }
    }

    private func deliver(_ call: MetadataCall, to peer: String) async {
        guard let address = control.address(of: peer) else {
            control.metadataUnreachable(peer)
            return
        }
        do {
            let reply = try await control.peers.call(
                call, to: address, expecting: MetadataCall.self, timeout: callTimeout)
            control.receiveMetadata(reply)
        } catch {
            control.metadataUnreachable(peer)
            control.logger.trace("metadata message not answered", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }
}
