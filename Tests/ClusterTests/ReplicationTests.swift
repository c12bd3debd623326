import Foundation
import Testing

/// Reads and writes across a healthy 3-node cluster.
@Suite(.cluster, .serialized)
struct ReplicationTests {
    var cluster: LocalCluster { LocalCluster.current! }

    @Test func aValueWrittenOnOneNodeIsReadOnAnother() async throws {
        let put = try await HTTP.send(
            .PUT, "\(cluster[0].httpURL)/v1/kv/notes/greeting", text: "hello",
            headers: [("Content-Type", "text/plain"), ("X-Dhrt-W", "all")])
        #expect(put.status == 204)
        #expect(put.headers.first(name: "X-Dhrt-Acks") == "3")
        #expect(put.headers.first(name: "X-Dhrt-Replicas")?.split(separator: ",").count == 3)
        #expect(put.headers.first(name: "X-Dhrt-Context")?.isEmpty == false)

        let get = try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/notes/greeting")
        #expect(get.status == 200)
        #expect(get.text == "hello")
        #expect(get.headers.first(name: "Content-Type") == "text/plain")
        #expect(!(get.headers.first(name: "X-Dhrt-Context") ?? "").isEmpty)
        // Every replica stored the write: none is stale. (ReplicaRestartTests makes one stale and sees it repaired.)
        #expect(get.headers.first(name: "X-Dhrt-Repaired") == "0")
    }

    @Test func quorumReadsSeeQuorumWritesOnEveryNode() async throws {
        for index in 0..<12 {
            let writer = cluster[index % 3]
            let reader = cluster[(index + 1) % 3]
            let put = try await HTTP.send(
                .PUT, "\(writer.httpURL)/v1/kv/ryw/key\(index)", text: "value \(index)",
                headers: [("X-Dhrt-W", "quorum")])
            #expect(put.status == 204)
            let get = try await HTTP.send(
                .GET, "\(reader.httpURL)/v1/kv/ryw/key\(index)", headers: [("X-Dhrt-R", "quorum")])
            #expect(get.status == 200)
            #expect(get.text == "value \(index)")
        }
    }

    @Test func concurrentBlindWritesBecomeSiblingsThatAContextResolves() async throws {
        let url = "/v1/kv/conflicts/doc"
        #expect(try await HTTP.send(.PUT, cluster[0].httpURL + url, text: "from n1").status == 204)
        #expect(try await HTTP.send(.PUT, cluster[1].httpURL + url, text: "from n2").status == 204)

        let siblings = try await HTTP.send(.GET, cluster[2].httpURL + url, headers: [("X-Dhrt-R", "all")])
        #expect(siblings.status == 300)
        let values = (siblings.object["siblings"] as? [[String: Any]] ?? []).compactMap { sibling in
            (sibling["value"] as? String).flatMap { Data(base64Encoded: $0) }.map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        #expect(Set(values) == ["from n1", "from n2"])
        let context = try #require(siblings.object["context"] as? String)
        #expect(siblings.headers.first(name: "X-Dhrt-Context") == context)

        let resolve = try await HTTP.send(
            .PUT, cluster[2].httpURL + url, text: "merged", headers: [("X-Dhrt-Context", context), ("X-Dhrt-W", "all")])
        #expect(resolve.status == 204)
        for node in cluster.nodes {
            let get = try await HTTP.send(.GET, node.httpURL + url)
            #expect(get.status == 200)
            #expect(get.text == "merged")
        }
    }

    @Test func deleteRemovesTheKeyEverywhere() async throws {
        let url = "/v1/kv/deletes/gone"
        #expect(try await HTTP.send(.PUT, cluster[0].httpURL + url, text: "soon gone").status == 204)
        #expect(try await HTTP.send(.DELETE, cluster[1].httpURL + url, headers: [("X-Dhrt-W", "all")]).status == 204)
        for node in cluster.nodes {
            #expect(try await HTTP.send(.GET, node.httpURL + url).status == 404)
        }
    }

    @Test func keyListingPagesThroughEveryKeyOnce() async throws {
        for index in 0..<25 {
            let key = String(format: "k%02d", index)
            #expect(
                try await HTTP.send(.PUT, "\(cluster[index % 3].httpURL)/v1/kv/listing/\(key)", text: "v").status == 204
            )
        }
        var seen: [String] = []
        var after: String?
        for _ in 0..<10 {
            let query = after.map { "&cursor=\($0)" } ?? ""
            let page = try await HTTP.send(.GET, "\(cluster[1].httpURL)/v1/kv/listing?limit=10\(query)")
            #expect(page.status == 200)
            seen += page.object["keys"] as? [String] ?? []
            after = page.object["next"] as? String
            if after == nil { break }
        }
        #expect(seen == (0..<25).map { String(format: "k%02d", $0) })
    }

    @Test func batchAppliesEachItemAndReportsItsResult() async throws {
        let body =
            #"[{"op":"put","key":"a","value":"1"},{"op":"put","key":"b","value_base64":"Mg=="},"#
            + #"{"op":"delete","key":"a"},{"op":"put","key":"c","value":"3","context":"bogus"}]"#
        let reply = try await HTTP.send(.POST, "\(cluster[0].httpURL)/v1/kv/batched/_batch", text: body)
        #expect(reply.status == 200)
        let results = reply.object["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["status"] as? Int } == [204, 204, 204, 400])
        #expect(results.last?["error"] as? String == "bad_context")
        #expect(try await HTTP.send(.GET, "\(cluster[1].httpURL)/v1/kv/batched/b").text == "2")
        #expect(try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/batched/a").status == 404)
    }

    @Test(arguments: [
        #"{"op":"frobnicate","key":"c"}"#, #"{"op":"put","key":"","value":"x"}"#,
        #"{"op":"put","key":"c","value_base64":"not base64"}"#,
    ])
    func batchWithAMalformedItem_isRefusedWhole_andAppliesNothing(item: String) async throws {
        let body = #"[{"op":"put","key":"first","value":"1"},"# + item + "]"
        let reply = try await HTTP.send(.POST, "\(cluster[0].httpURL)/v1/kv/refused/_batch", text: body)
        #expect(reply.status == 400)
        #expect(reply.object["error"] as? String == "bad_batch")
        #expect((reply.object["detail"] as? String)?.hasPrefix("item 1: ") == true)
        #expect(try await HTTP.send(.GET, "\(cluster[1].httpURL)/v1/kv/refused/first").status == 404)
    }

    @Test func droppingACollectionRemovesItsKeysOnEveryNode() async throws {
        #expect(try await HTTP.send(.PUT, "\(cluster[0].httpURL)/v1/kv/dropme/x", text: "1").status == 204)
        #expect(try await HTTP.send(.DELETE, "\(cluster[1].httpURL)/v1/kv/dropme").status == 204)
        let list = try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/dropme")
        #expect(list.status == 200)
        #expect((list.object["keys"] as? [String]) == [])
        #expect(try await HTTP.send(.GET, "\(cluster[2].httpURL)/v1/kv/dropme/x").status == 404)
    }

    @Test func statusHealthAndMetricsDescribeTheNode() async throws {
        let status = try await HTTP.send(.GET, "\(cluster[0].httpURL)/v1/status")
        #expect(status.status == 200)
        #expect((status.object["members"] as? [Any])?.count == 3)
        #expect((status.object["warnings"] as? [Any])?.isEmpty == true)
        #expect(try await HTTP.send(.GET, "\(cluster[1].httpURL)/health").status == 200)
        let metrics = try await HTTP.send(.GET, "\(cluster[0].httpURL)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("dhrt_requests_total"))
        #expect(metrics.text.contains("dhrt_request_duration_seconds"))
    }
}
