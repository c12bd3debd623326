/// What a client sees of an object: the HTTP shape of a read, decided in one place.
public enum ReadView: Hashable, Sendable {
    /// No live value (never written, or deleted): 404. `context` is non-empty after a delete; handing it out
    /// lets a client write on top of the delete instead of beside it.
    case notFound(context: VersionVector)
    /// Exactly one live value: 200 with its bytes and content type.
    case value(Sibling, context: VersionVector)
    /// Concurrent live values: 300 listing them; `context` covers them all, so a write with it resolves them.
    case siblings([Sibling], context: VersionVector)
}

extension VersionedObject {
    /// The client's view: tombstones are hidden (a live value concurrent with a delete wins), the context is
    /// always the whole object's.
    public var view: ReadView {
        let live = liveSiblings
        switch live.count {
        case 0: return .notFound(context: context)
        case 1: return .value(live[0], context: context)
        default: return .siblings(live, context: context)
        }
    }
}
