#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open file, closed when the last reference goes. Readers keep a file readable after merge unlinks it.
final class FileDescriptor: Sendable {
    let fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Opens `path` read-write, creating it when `create` is set (and failing if it exists then).
    static func open(_ path: String, create: Bool) throws(StorageError) -> FileDescriptor {
        let flags = create ? (O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC) : (O_RDWR | O_CLOEXEC)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        return FileDescriptor(fd: fd, path: path)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads exactly `count` bytes at `offset`; nil when the file is shorter.
    func read(count: Int, at offset: Int) throws(StorageError) -> [UInt8]? {
        var failure: StorageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(StorageError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes.count == count ? bytes : nil
    }

    /// Reads the whole file.
    func readAll() throws(StorageError) -> [UInt8] {
        let total = try size()
        return try read(count: total, at: 0) ?? []
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        if let fault = FileFaults.check(.write, path: path) {
            let torn = min(fault.tornBytes, bytes.count)
            if torn > 0 { _ = pwrite(fd, bytes.baseAddress!, torn, off_t(offset)) }
            throw fault.raise("write", path: path)
        }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            done += n
        }
    }

    /// Maps the whole file read-only for `body` (no copy into the heap); large sequential reads at open.
    func withMappedBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) throws(StorageError) -> T {
        let count = try size()
        guard count > 0 else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let base = mmap(nil, count, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let base, base != MAP_FAILED else { throw .io(operation: "mmap", path: path, errno: errno) }
        defer { munmap(base, count) }
        return body(UnsafeRawBufferPointer(start: base, count: count))
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            do throws(StorageError) { try write(raw, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func sync() throws(StorageError) {
        if let fault = FileFaults.check(.sync, path: path) {
            throw fault.raise("fdatasync", path: path)
        }
        guard fdatasync(fd) == 0 else { throw .io(operation: "fdatasync", path: path, errno: errno) }
    }

    func size() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    func truncate(to size: Int) throws(StorageError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw .io(operation: "truncate", path: path, errno: errno) }
    }
}

/// Small filesystem helpers for the cold paths (open, merge, drop).
enum FileSystem {
    static func makeDirectory(_ path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0, errno != EEXIST { throw .io(operation: "mkdir", path: path, errno: errno) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    static func remove(_ path: String) throws(StorageError) {
        if let fault = FileFaults.check(.remove, path: path) {
            throw fault.raise("unlink", path: path)
        }
        if unlink(path) != 0, errno != ENOENT { throw .io(operation: "unlink", path: path, errno: errno) }
    }

    static func rename(_ from: String, to: String) throws(StorageError) {
        if let fault = FileFaults.check(.rename, path: from) {
            throw fault.raise("rename", path: from)
        }
        guard Glibc.rename(from, to) == 0 else { throw .io(operation: "rename", path: from, errno: errno) }
    }

    /// Removes a directory and the plain files in it (collection directories hold no subdirectories).
    static func removeTree(_ path: String) throws(StorageError) {
        for name in try list(path) { try remove(path + "/" + name) }
        if rmdir(path) != 0, errno != ENOENT { throw .io(operation: "rmdir", path: path, errno: errno) }
    }

    /// Makes renames, creations and removals inside `path` durable: fsyncing a file does not persist its name.
    static func syncDirectory(_ path: String) throws(StorageError) {
        if let fault = FileFaults.check(.syncDirectory, path: path + "/") {
            throw fault.raise("fsync", path: path)
        }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// The directory holding `path`.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Writes `bytes` to `path` through a temporary file, fsync, rename and a directory fsync: the file is old or
    /// new, never torn, and the new one survives a crash once this returns.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let temporary = path + ".tmp"
        try remove(temporary)
        let file = try FileDescriptor.open(temporary, create: true)
        try file.write(bytes, at: 0)
        try file.sync()
        try rename(temporary, to: path)
        try syncDirectory(parent(of: path))
    }
}

/// Wall-clock nanoseconds since the Unix epoch.
func wallClockNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

extension FileSystem {
    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix)
        }
    }
}
