/// The replica's side of epoch fencing: a request from a coordinator on an older ring is refused
/// (`ring_moved`) when this replica no longer holds the key's partition, or when it is a write to a partition
/// that is moving (the older coordinator may not know the receivers, so its write could miss them). A request
/// without an epoch (the older wire layout) is never refused.
public enum EpochFence {
    /// Whether to refuse; `replicas` and `incoming` are the partition's lists on this replica's ring.
    public static func refuses(
        requestEpoch: UInt64?, localEpoch: UInt64, me: String, replicas: [String], incoming: [String], writing: Bool
    ) -> Bool {
        guard let requestEpoch, localEpoch > requestEpoch else { return false }
        let holds = replicas.contains(me) || incoming.contains(me)
        return !holds || (writing && !incoming.isEmpty)
    }
}
