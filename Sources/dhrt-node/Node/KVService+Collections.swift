import Wire

extension KVService {
    /// A page of a collection's keys, gathered from every member.
    ///
    /// Each member lists its own live keys after `after`; the pages are merged, deduplicated and cut at
    /// `limit`. Every key lives on min(N, members) distinct nodes, so the listing is complete as long as
    /// fewer nodes than that failed to answer; otherwise it is a 503 rather than a silently short list.
    func listKeys(collection: String, after: [UInt8]?, limit: Int) async throws(APIError) -> KeyPage {
        let names = node.cluster.members.map(\.name)
        let copies = min(node.config.replicas, names.count)
        let message = ListKeys(collection: collection, after: after, limit: UInt32(limit))
        let results = await FanOut.run(
            names, need: names.count, background: node.background,
            call: { name in
                if name == node.config.name {
                    return try await node.replica.keys(collection: collection, after: after, limit: limit)
                }
                return try await call(message, to: name, expecting: ListKeysReply.self).keys
            })
        let pages = results.compactMap { try? $0.result.get() }
        let failed = results.count - pages.count
        guard failed < copies else {
            throw .unavailable(
                "\(failed) of \(names.count) nodes did not answer the key listing; keys stored only there would be missed"
            )
        }
        var merged = Set<[UInt8]>()
        for page in pages { merged.formUnion(page) }
        let sorted = merged.sorted { $0.lexicographicallyPrecedes($1) }
        let keys = Array(sorted.prefix(limit))
        // A node's page was full, or the merge was cut: more keys may follow the last one.
        let more = sorted.count > limit || pages.contains { $0.count >= limit }
        return KeyPage(keys: keys, next: more ? keys.last : nil)
    }

    /// Drops a collection on every member; 503 if some member could not be reached (it still has it).
    func dropCollection(_ collection: String) async throws(APIError) {
        let names = node.cluster.members.map(\.name)
        let results = await FanOut.run(
            names, need: names.count, background: node.background,
            call: { name in
                if name == node.config.name {
                    try await node.replica.dropCollection(collection)
                    return
                }
                _ = try await call(
                    DropCollection(collection: collection), to: name, expecting: DropCollectionReply.self)
            })
        let failures = results.compactMap { entry -> String? in
            if case .failure(let error) = entry.result { return "\(entry.name): \(error)" }
            return nil
        }
        guard failures.isEmpty else {
            throw .unavailable(
                "dropped on \(names.count - failures.count) of \(names.count) nodes; failed: "
                    + failures.joined(separator: "; "))
        }
    }
}
