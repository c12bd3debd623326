public import Logging
import Ring
import Synchronization

/// dhrt's bitcask-style storage: per collection, append-only data files and an in-memory keydir.
///
/// Every method is safe to call from any task. The data-path methods are `nonisolated(nonsending)`: they run on
/// the caller's executor, so an actor calling them does not hop executors twice per call. Reads take a
/// collection's lock only to find a record and read the file after releasing it; writes append under the lock
/// and then wait for durability per `SyncPolicy`.
public final class StorageEngine: Sendable {
    /// The options the engine was opened with.
    public let options: StorageOptions
    let partitioner: Partitioner
    let logger: Logger
    private let registry: Mutex<Registry>
    private let committer: GroupCommitter?

    private struct Registry {
        var collections: [String: CollectionStore] = [:]
        /// When each collection was last dropped (see `CollectionDrops`).
        var dropped: [String: UInt64] = [:]
        var isClosed = false
    }

    /// Whether any collection was ever dropped: writes skip the drop look-up until one is.
    private let anyDropped: Atomic<Bool>

    private init(
        options: StorageOptions, partitioner: Partitioner, logger: Logger, collections: [String: CollectionStore],
        dropped: [String: UInt64]
    ) {
        self.options = options
        self.partitioner = partitioner
        self.logger = logger
        self.registry = Mutex(Registry(collections: collections, dropped: dropped))
        self.anyDropped = Atomic(!dropped.isEmpty)
        if options.directory != nil, options.sync != .none {
            let committer = GroupCommitter(perWrite: options.sync == .always)
            committer.start()
            self.committer = committer
        } else {
            self.committer = nil
        }
    }

    /// Opens (or creates) the data directory, rebuilding every collection's keydir from hints and data files.
    /// Torn tails are cut off and corrupt records skipped; both are logged and counted in `stats()`.
    public static func open(
        _ options: StorageOptions, logger: Logger = Logger(label: "dhrt.storage")
    ) async throws -> StorageEngine {
        let options = try options.validated()
        let partitioner: Partitioner
        do { partitioner = try Partitioner(count: options.partitionCount) } catch {
            throw StorageError.invalidOptions("\(error)")
        }
        var collections: [String: CollectionStore] = [:]
        var dropped: [String: UInt64] = [:]
        if let directory = options.directory {
            try FileSystem.makeDirectories(directory)
            dropped = try CollectionDrops.read(from: directory + "/" + CollectionDrops.fileName)
            for name in try FileSystem.list(directory).sorted() {
                let path = directory + "/" + name
                guard FileSystem.isDirectory(path), (try? CollectionName.validate(name)) != nil else { continue }
                // Records older than a drop are dead, should a crash have left some of its files behind.
                let loader = CollectionLoader(
                    name: name, path: path, options: options, logger: logger, partitioner: partitioner,
                    droppedAt: dropped[name])
                let store = CollectionStore(
                    name: name, path: path, options: options, logger: logger, state: try loader.load())
                try store.writeMissingHints()
                collections[name] = store
            }
        }
        return StorageEngine(
            options: options, partitioner: partitioner, logger: logger, collections: collections, dropped: dropped)
    }

    // MARK: Collections

    /// Collection names, sorted.
    public func collections() -> [String] {
        registry.withLock { $0.collections.keys.sorted() }
    }

    /// Creates a collection; does nothing if it exists. Writes create their collection too.
    public func createCollection(_ name: String) throws {
        _ = try storeCreating(name)
    }

    /// Deletes a collection and all its files, and records the drop's time durably first (`droppedAt`), even
    /// when there is no such collection. Throws `collectionNotFound` if there is none by that name.
    public func dropCollection(_ name: String) async throws {
        try CollectionName.validate(name)
        let store = try registry.withLock { (r: inout Registry) throws -> CollectionStore? in
            guard !r.isClosed else { throw StorageError.closed }
            var dropped = r.dropped
            dropped[name] = max(wallClockNanoseconds(), (dropped[name] ?? 0) + 1)
            if let directory = options.directory {
                try CollectionDrops.write(dropped, to: directory + "/" + CollectionDrops.fileName)
            }
            r.dropped = dropped
            anyDropped.store(true, ordering: .releasing)
            return r.collections.removeValue(forKey: name)
        }
        guard let store else { throw StorageError.collectionNotFound(name) }
        store.state.withLock { $0.isClosed = true }
        if let path = store.path { try FileSystem.removeTree(path) }
    }

    /// When `name` was last dropped (wall clock, nanoseconds since the Unix epoch), or nil if it never was.
    /// Values written before that time belong to the dropped collection.
    public func droppedAt(_ name: String) -> UInt64? {
        guard anyDropped.load(ordering: .acquiring) else { return nil }
        return registry.withLock { $0.dropped[name] }
    }

    @inline(__always)
    func store(_ name: String) throws -> CollectionStore? {
        let found = try registry.withLock { (r: inout Registry) throws -> CollectionStore? in
            guard !r.isClosed else { throw StorageError.closed }
            return r.collections[name]
        }
        if found == nil { try CollectionName.validate(name) }
        return found
    }

    func storeCreating(_ name: String) throws -> CollectionStore {
        if let store = try store(name) { return store }
        return try registry.withLock { (r: inout Registry) throws -> CollectionStore in
            guard !r.isClosed else { throw StorageError.closed }
            if let store = r.collections[name] { return store }
            var path: String?
            if let directory = options.directory {
                path = directory + "/" + name
                try FileSystem.makeDirectory(path!)
                try FileSystem.syncDirectory(directory)
            }
            let store = CollectionStore(
                name: name, path: path, options: options, logger: logger,
                state: CollectionState(keydir: Keydir(partitioner: partitioner)))
            r.collections[name] = store
            return store
        }
    }

    // MARK: Reads

    /// The newest record of `key`, tombstones included (`isTombstone`), or nil if the key was never written.
    nonisolated(nonsending) public func get(collection: String, key: [UInt8]) async throws -> StoredRecord? {
        try getNow(collection: collection, key: key)
    }

    /// `get` for callers on an event loop: the keydir look-up and one positional read, no suspension.
    public func getNow(collection: String, key: [UInt8]) throws -> StoredRecord? {
        try validate(key: key)
        return try store(collection)?.read(key: key, metaOnly: false)
    }

    /// Like `get`, with an empty value: versions without reading values.
    nonisolated(nonsending) public func getMeta(collection: String, key: [UInt8]) async throws -> StoredRecord? {
        try validate(key: key)
        return try store(collection)?.read(key: key, metaOnly: true)
    }

    /// Up to `limit` live keys (tombstones left out) greater than `after`, in byte order.
    nonisolated(nonsending) public func keys(collection: String, after: [UInt8]?, limit: Int) async throws -> [[UInt8]]
    {
        try store(collection)?.keys(after: after, limit: limit) ?? []
    }

    /// Every record of one ring partition of a collection, tombstones included, for transfer and anti-entropy.
    nonisolated(nonsending) public func records(collection: String, partition: Int) async throws -> [(
        key: [UInt8], record: StoredRecord
    )] {
        try validate(partition: partition)
        return try store(collection)?.records(partition: partition) ?? []
    }

    /// The ring partition of a key, as this engine groups it.
    public func partition(collection: String, key: [UInt8]) -> Int {
        partitioner.partition(collection: collection, key: key)
    }

    // MARK: Writes

    /// Stores `value` with `meta` under `key`; returns once durable per the sync policy.
    nonisolated(nonsending) public func put(collection: String, key: [UInt8], meta: [UInt8], value: [UInt8])
        async throws
    {
        try validate(key: key)
        try validate(meta: meta, value: value)
        let store = try storeCreating(collection)
        _ = try store.write(key: key, flags: 0, meta: meta, value: value)
        try await awaitDurable(store)
    }

    /// Writes a tombstone carrying `meta` for `key`.
    nonisolated(nonsending) public func delete(collection: String, key: [UInt8], meta: [UInt8]) async throws {
        try validate(key: key)
        try validate(meta: meta, value: [])
        let store = try storeCreating(collection)
        _ = try store.write(key: key, flags: RecordFormat.tombstoneFlag, meta: meta, value: [])
        try await awaitDurable(store)
    }

    /// Atomic read-modify-write: `transform` runs under the collection's write lock with the current record
    /// (or nil) and returns what to write, or nil to write nothing. Returns the mutation written, once durable.
    /// `transform` MUST be quick and MUST NOT call back into the engine.
    nonisolated(nonsending) public func update(
        collection: String, key: [UInt8], _ transform: (StoredRecord?) throws -> Mutation?
    ) async throws -> Mutation? {
        let (mutation, point) = try apply(collection: collection, key: key, transform)
        // Even an unchanged record may rest on bytes another writer appended but has not yet synced.
        try await awaitDurable(point.store)
        return mutation
    }

    /// `update` without the wait: applies the mutation under the collection's lock and returns it with the
    /// point a caller MUST see durable (`whenDurable`) before acknowledging the state it observed, written or not.
    public func apply(
        collection: String, key: [UInt8], _ transform: (StoredRecord?) throws -> Mutation?
    ) throws -> (mutation: Mutation?, durable: DurablePoint) {
        try validate(key: key)
        let store = try storeCreating(collection)
        let (mutation, position) = try store.update(key: key, transform) { (mutation) throws(StorageError) in
            switch mutation {
            case .put(let meta, let value): try validate(meta: meta, value: value)
            case .tombstone(let meta): try validate(meta: meta, value: [])
            }
        }
        return (mutation, DurablePoint(store: store, position: position))
    }

    /// Calls `done` once `point` is durable per the sync policy: at once (on the calling thread) when it
    /// already is or the policy is `none`, else from the flusher, on `executor` if given.
    public func whenDurable(
        _ point: DurablePoint, on executor: (any CompletionExecutor)?, _ done: @escaping DurabilityCallback
    ) {
        guard let committer, point.store.durableBytes.load(ordering: .acquiring) < point.position else {
            done(.success(()))
            return
        }
        committer.whenDurable(point.store, position: point.position, on: executor, done)
    }

    /// Forgets every key of a partition (after it moved to another node). The drop is durable at return; merge
    /// reclaims the space later.
    nonisolated(nonsending) public func dropPartition(collection: String, partition: Int) async throws {
        try validate(partition: partition)
        try store(collection)?.dropPartition(partition)
    }

    nonisolated(nonsending) private func awaitDurable(_ store: CollectionStore) async throws {
        guard options.directory != nil else { return }
        switch options.sync {
        case .none: return
        case .always, .group:
            guard store.durableBytes.load(ordering: .acquiring) < store.appendPosition else { return }
            try await committer!.waitDurable(store)
        }
    }

    // MARK: Validation

    @inline(__always)
    private func validate(key: [UInt8]) throws(StorageError) {
        if key.isEmpty { throw .emptyKey }
        if key.count > options.maxKeySize { throw .keyTooLarge(key.count, limit: options.maxKeySize) }
    }

    @inline(__always)
    private func validate(meta: [UInt8], value: [UInt8]) throws(StorageError) {
        if value.count > options.maxValueSize { throw .valueTooLarge(value.count, limit: options.maxValueSize) }
        if meta.count > options.maxMetaSize { throw .metaTooLarge(meta.count, limit: options.maxMetaSize) }
    }

    private func validate(partition: Int) throws(StorageError) {
        guard partition >= 0, partition < partitioner.count else {
            throw .invalidPartition(partition, count: partitioner.count)
        }
    }

    // MARK: Stats and lifecycle

    /// Keydir and file figures per collection.
    public func stats() -> StorageStats {
        let stores = registry.withLock { $0.collections }
        return StorageStats(collections: stores.mapValues { $0.stats() })
    }

    /// Whether the engine still serves reads and writes: false once `close()` began.
    public var isOpen: Bool { registry.withLock { !$0.isClosed } }

    /// Serves pending group commits, flushes, fsyncs and seals every active file and writes missing hints.
    /// Later calls throw `StorageError.closed`.
    public func close() async throws {
        let stores = registry.withLock { (r: inout Registry) -> [CollectionStore] in
            if r.isClosed { return [] }
            r.isClosed = true
            return Array(r.collections.values)
        }
        committer?.stop()
        var failure: (any Error)?
        for store in stores {
            do { try store.close() } catch {
                logger.error(
                    "closing a collection failed", metadata: ["collection": "\(store.name)", "error": "\(error)"])
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    func allStores() throws -> [CollectionStore] {
        try registry.withLock { (r: inout Registry) throws -> [CollectionStore] in
            guard !r.isClosed else { throw StorageError.closed }
            return r.collections.keys.sorted().map { r.collections[$0]! }
        }
    }
}

/// An append position of one collection that a caller waits to be durable (`StorageEngine.whenDurable`).
public struct DurablePoint: Sendable {
    let store: CollectionStore
    let position: UInt64
}
