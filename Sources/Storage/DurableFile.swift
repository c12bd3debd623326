#if canImport(Glibc)
    import Glibc
#endif

/// Small files a node keeps beside its collections (the ring, transfer checkpoints): replaced atomically and
/// durably, read whole. Callers checksum what they store.
public enum DurableFile {
    /// Writes `bytes` to `path` through a temporary file, fsync, rename and a directory fsync.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty { try FileSystem.makeDirectories(directory) }
        // writeAtomically fsyncs the directory after its rename.
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// The file's bytes, or nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
        guard FileSystem.exists(path) else { return nil }
        return try FileDescriptor.open(path, create: false).readAll()
    }

    /// Removes the file if it exists.
    public static func remove(_ path: String) throws {
        try FileSystem.remove(path)
    }
}
