@testable import Coordinator
import TestSupport

/// Runs a random history of client writes, deletes and replica syncs over a few replicas and returns every
/// object state it produced: realistic inputs for the DVV properties and the encoding round trips.
func randomObjects(
    seed: UInt64,
    steps: Int = 40,
    actors: [String] = ["n1", "n2", "n3"],
    resolution: ConflictResolution = .siblings
) -> [VersionedObject] {
    var random = SeededGenerator(seed: seed)
    var replicas = [VersionedObject](repeating: VersionedObject(), count: actors.count)
    var produced: [VersionedObject] = [VersionedObject()]
    var clock: UInt64 = 1_700_000_000_000_000_000
    for _ in 0..<steps {
        clock += UInt64.random(in: 0...3, using: &random)  // equal timestamps happen: ties matter for LWW
        let target = Int.random(in: 0..<actors.count, using: &random)
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5:
            // A client read some replica (maybe stale, maybe none) and writes through `target`.
            let source = Int.random(in: 0...actors.count, using: &random)
            let context = source == actors.count ? VersionVector() : replicas[source].context
            let length = Int.random(in: 0...6, using: &random)
            let value = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            replicas[target].update(
                context: context,
                value: value,
                contentType: ["", "text/plain", "application/octet-stream"][length % 3],
                actor: actors[target],
                timestamp: clock,
                resolution: resolution
            )
        case 5:
            let source = Int.random(in: 0..<actors.count, using: &random)
            replicas[target].delete(
                context: replicas[source].context,
                actor: actors[target],
                timestamp: clock,
                resolution: resolution
            )
        default:
            let source = Int.random(in: 0..<actors.count, using: &random)
            replicas[target].merge(replicas[source], resolution: resolution)
        }
        produced.append(replicas[target])
    }
    return produced
}
