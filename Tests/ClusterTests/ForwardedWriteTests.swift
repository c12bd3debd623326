import Foundation
import Testing

extension FailureScenarios {
    /// A node outside a key's preference list hands a write to one replica to coordinate. It may try the next
    /// replica only when the first certainly never got the write; otherwise the outcome is unknown and said so.
    @Suite(.serialized)
    struct ForwardedWriteTests {
        /// A key whose two replicas (N=2) do not include `node`, and those replicas in the order the node tries them.
        static func keyOutside(_ node: NodeProcess, prefix: String) async throws -> (key: String, replicas: [String]) {
            for index in 0..<200 {
                let key = "\(prefix)\(index)"
                let probe = try await HTTP.send(.GET, "\(node.httpURL)/v1/kv/forward/\(key)")
                let replicas =
                    probe.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",").map(String.init) ?? []
                if replicas.count == 2, !replicas.contains(node.name) { return (key, replicas) }
            }
            throw HarnessError("no key of 200 lives outside \(node.name)")
        }

        @Test func aWriteHandedToAFrozenReplicaIsIndeterminate_notRunAgainElsewhere() async throws {
            let cluster = try await LocalCluster.start(size: 3, extra: ["--n", "2", "--timeout-ms", "1000"])
            defer { cluster.stop() }
            let entry = cluster[0]
            let (key, replicas) = try await Self.keyOutside(entry, prefix: "frozen")
            let first = try #require(cluster.nodes.first { $0.name == replicas[0] })
            let url = "\(entry.httpURL)/v1/kv/forward/\(key)"

            first.pause()
            let put: HTTPReply
            do {
                put = try await HTTP.send(
                    .PUT, url, text: "once", headers: [("If-None-Match", "*"), ("X-Dhrt-W", "1")])
            } catch {
                first.resume()
                throw error
            }
            first.resume()
            #expect(put.status == 504, "\(put.text)")
            #expect(put.object["error"] as? String == "indeterminate")

            // The frozen replica coordinates the write it received once it runs again; nobody else stored it.
            let deadline = ContinuousClock.now + .seconds(60)
            var read = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
            while read.status == 404 || read.status == 503, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                read = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "all")])
            }
            #expect(read.status == 200, "one value, not siblings: \(read.text)")
            #expect(read.text == "once")
            let again = try await HTTP.send(.PUT, url, text: "twice", headers: [("If-None-Match", "*")])
            #expect(again.status == 412)
        }

        @Test func aWriteForARefusingReplicaMovesOnToTheNext() async throws {
            let cluster = try await LocalCluster.start(size: 3, extra: ["--n", "2", "--timeout-ms", "1000"])
            defer { cluster.stop() }
            let entry = cluster[0]
            let (key, replicas) = try await Self.keyOutside(entry, prefix: "refused")
            let first = try #require(cluster.nodes.first { $0.name == replicas[0] })
            first.kill()

            let url = "\(entry.httpURL)/v1/kv/forward/\(key)"
            let put = try await HTTP.send(.PUT, url, text: "moved on", headers: [("X-Dhrt-W", "1")])
            #expect(put.status == 204, "a refused connection never carried the write: \(put.text)")
            let read = try await HTTP.send(.GET, url, headers: [("X-Dhrt-R", "1")])
            #expect(read.status == 200)
            #expect(read.text == "moved on")
        }
    }
}
