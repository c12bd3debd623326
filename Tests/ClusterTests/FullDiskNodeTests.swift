import Foundation
import TestSupport
import Testing

extension FailureScenarios {
    /// A one-node cluster whose data directory is a 2 MiB tmpfs, written until the disk is full: writes fail
    /// with 507 (or 503) and a JSON `storage` error, reads go on, and after a restart with space freed every
    /// acknowledged write is there.
    @Suite(.serialized, .enabled(if: TmpfsMount.isAvailable, "mounting a tmpfs needs root (CAP_SYS_ADMIN)"))
    struct FullDiskNodeTests {
        @Test func aFullDiskFailsWritesWithAStorageError_andLosesNoAcknowledgedWrite() async throws {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("dhrt-fulldisk-\(UUID().uuidString.prefix(8))").path
            let data = directory + "/n1"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let mount = try #require(TmpfsMount(at: data, bytes: 2 << 20), "mounting a tmpfs failed")
            defer { mount.unmount() }
            let filler = data + "/filler"
            _ = FileManager.default.createFile(atPath: filler, contents: Data(count: 512 << 10))

            let ports = try LocalPorts.free(2)
            var node = try NodeProcess(
                name: "n1", httpPort: ports[0], clusterPort: ports[1], seeds: [], directory: directory,
                extra: ["--sync", "group"])
            defer { node.kill() }
            let base = "\(node.httpURL)/v1/kv/full/"
            try await Self.waitWritable(node, base)

            let value = [UInt8](repeating: 0x61, count: 2000)
            var acknowledged: [String] = []
            var refusal: HTTPReply?
            for index in 0..<2_000 {
                let put = try await HTTP.send(.PUT, base + "k\(index)", body: value, timeout: .seconds(10))
                guard put.status == 204 else {
                    refusal = put
                    break
                }
                acknowledged.append("k\(index)")
            }
            let refused = try #require(refusal, "2 MiB held 2,000 values of 2 KB")
            #expect([503, 507].contains(refused.status), "\(refused.status) \(refused.text)")
            #expect(refused.object["error"] as? String == "storage", "\(refused.text)")
            #expect(acknowledged.count > 100)
            // Later writes are refused at once with 507; reads still answer.
            for index in 0..<3 {
                let put = try await HTTP.send(.PUT, base + "late\(index)", body: value, timeout: .seconds(10))
                #expect(put.status == 507, "\(put.status) \(put.text)")
                #expect(put.object["error"] as? String == "storage")
                #expect((put.object["detail"] as? String)?.contains("No space left on device") == true, "\(put.text)")
            }
            for key in acknowledged.prefix(50) {
                #expect(try await HTTP.send(.GET, base + key).status == 200)
            }

            node.kill()
            try FileManager.default.removeItem(atPath: filler)
            node = try node.restart()
            try await Self.waitWritable(node, base)
            var lost: [String] = []
            for key in acknowledged {
                let get = try await HTTP.send(.GET, base + key)
                if get.status != 200 || get.body != value { lost.append("\(key): \(get.status)") }
            }
            #expect(lost.isEmpty, "\(lost.count) of \(acknowledged.count) acknowledged writes lost: \(lost.prefix(5))")
        }

        /// Polls (bounded) until a probe write is acknowledged: the ring is formed and storage is open.
        static func waitWritable(_ node: NodeProcess, _ base: String) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                guard node.isRunning else { throw HarnessError("\(node.name) exited:\n\(node.logTail())") }
                let put = try? await HTTP.send(.PUT, base + "probe", body: [1], timeout: .seconds(2))
                if put?.status == 204 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw HarnessError("\(node.name) took no write:\n\(node.logTail())")
        }
    }
}
