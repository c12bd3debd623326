/// A growable byte buffer: the active file's unflushed tail, and in memory mode a whole file.
///
/// Mutated only under its collection's lock; a sealed memory-mode file is never mutated again, which is why
/// readers may copy from it without the lock (hence `@unchecked Sendable`).
final class ByteStore: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// Returns room for `size` more bytes (valid until the next call) and counts them as written.
    @inline(__always)
    func append(size: Int) -> UnsafeMutableRawPointer {
        if count + size > capacity { grow(to: count + size) }
        let out = base + count
        count += size
        return out
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func removeAll() { count = 0 }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A copy of `count` bytes at `offset`, or nil when out of range.
    func copy(offset: Int, count size: Int) -> [UInt8]? {
        guard offset >= 0, size >= 0, offset + size <= count else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: base + offset, count: size))
    }
}

/// Where a record's bytes can be read once the lock is released.
enum ReadSource: Sendable {
    case file(FileDescriptor)
    case memory(ByteStore)

    func read(offset: Int, count: Int) throws(StorageError) -> [UInt8]? {
        switch self {
        case .file(let file): return try file.read(count: count, at: offset)
        case .memory(let store): return store.copy(offset: offset, count: count)
        }
    }
}
