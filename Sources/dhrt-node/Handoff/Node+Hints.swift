import Coordinator

extension Node {
    /// The hint queue per target as `/metrics` exports it.
    func hintFigures() -> HintFigures {
        let now = HintStore.wallClock()
        let (stats, dropped) = hints.withQueue { ($0.stats(now: now), $0.dropped) }
        return HintFigures(
            perTarget: stats.map { ($0.owner, $0.count, $0.bytes, Double($0.oldestAge) / 1e9) },
            cleared: hintRate.emptied(now: stats.map(\.owner)), dropped: dropped, replayRate: hintRate.perSecond)
    }

    /// `"hints"` of `/v1/status` and the body of `GET /v1/hints`: totals, and per target the queue's figures;
    /// with `listing`, each hint (collection, key, bytes, age) up to `limit` per target.
    func writeHints(into json: inout JSONWriter, listing: Bool, limit: Int = 1000) {
        let now = HintStore.wallClock()
        let (stats, queue) = hints.withQueue { ($0.stats(now: now), $0) }
        json.object { json in
            json.field("count", stats.reduce(0) { $0 + $1.count })
            json.field("bytes", stats.reduce(0) { $0 + $1.bytes })
            json.field("dropped", queue.dropped)
            json.field("replayed", queue.replayed)
            json.key("replay_rate")
            json.value(hintRate.perSecond)
            json.key("targets")
            json.array { json in
                for target in stats {
                    json.object { json in
                        json.field("target", target.owner)
                        json.field("liveness", cluster.liveness(of: target.owner).rawValue)
                        json.field("count", target.count)
                        json.field("bytes", target.bytes)
                        json.key("oldest_age_seconds")
                        json.value(Double(target.oldestAge) / 1e9)
                        json.field("in_flight", target.inFlight)
                        guard listing else { return }
                        json.key("hints")
                        json.array { json in
                            for held in queue.hints(of: target.owner).prefix(limit) {
                                json.object { json in
                                    json.field("collection", held.hint.collection)
                                    json.key("key")
                                    json.value(utf8: held.hint.key)
                                    json.field("bytes", held.bytes)
                                    json.key("age_seconds")
                                    json.value(Double(now > held.createdAt ? now - held.createdAt : 0) / 1e9)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
