import Synchronization

/// Fault injection for tests: the file layer asks it before each write, fsync, rename and unlink, so a test can
/// make one of them fail under a directory as a failing disk would (EIO on fsync, ENOSPC or a torn write).
/// Nothing is armed in production, where each check is one relaxed atomic load beside a system call.
enum FileFaults {
    enum Operation: Hashable, Sendable {
        case write, sync, rename, remove, syncDirectory
    }

    /// Fails the operations in `operations` on paths under `directory`, after letting `skip` of them through.
    struct Rule: Sendable {
        var directory: String
        var operations: Set<Operation>
        var skip = 0
        var errno: Int32
        /// A failing write first writes this many of its bytes, as a torn write does.
        var tornBytes = 0
        /// How many operations fail before the rule is spent.
        var count = 1
        /// Runs as the operation fails, before the error unwinds anything: a test takes its crash image here.
        var onFault: (@Sendable () -> Void)? = nil
    }

    /// What the file layer does instead of the operation.
    struct Fault {
        var errno: Int32
        var tornBytes: Int
        var onFault: (@Sendable () -> Void)?

        /// The error the operation fails with, once the test's hook has run.
        func raise(_ operation: String, path: String) -> StorageError {
            onFault?()
            return .io(operation: operation, path: path, errno: errno)
        }
    }

    private static let armed = Atomic<Bool>(false)
    private static let rules = Mutex<[Rule]>([])

    static func inject(_ rule: Rule) {
        rules.withLock { rules in
            rules.append(rule)
            armed.store(true, ordering: .releasing)
        }
    }

    /// Removes the rules under `directory`, spent or not.
    static func clear(under directory: String) {
        rules.withLock { rules in
            rules.removeAll { $0.directory == directory }
            if rules.isEmpty { armed.store(false, ordering: .releasing) }
        }
    }

    /// Rules under `directory` that have not failed every operation they were set to fail.
    static func pending(under directory: String) -> Int {
        rules.withLock { $0.filter { $0.directory == directory }.count }
    }

    @inline(__always)
    static func check(_ operation: Operation, path: String) -> Fault? {
        guard armed.load(ordering: .relaxed) else { return nil }
        return match(operation, path: path)
    }

    private static func match(_ operation: Operation, path: String) -> Fault? {
        rules.withLock { rules -> Fault? in
            guard
                let index = rules.firstIndex(where: {
                    $0.operations.contains(operation) && path.hasPrefix($0.directory + "/")
                })
            else { return nil }
            if rules[index].skip > 0 {
                rules[index].skip -= 1
                return nil
            }
            let rule = rules[index]
            let fault = Fault(errno: rule.errno, tornBytes: rule.tornBytes, onFault: rule.onFault)
            rules[index].count -= 1
            if rules[index].count <= 0 { rules.remove(at: index) }
            if rules.isEmpty { armed.store(false, ordering: .releasing) }
            return fault
        }
    }
}
