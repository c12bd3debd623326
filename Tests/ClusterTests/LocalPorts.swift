import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Free loopback TCP ports for the nodes under test.
///
/// Ports come from below the kernel's ephemeral range: a node that keeps dialling a peer's ephemeral port
/// before the peer listens can be handed that very port as its own source port (a TCP self-connect), which
/// then holds the port so the peer can never bind it. Each candidate is checked by binding it.
enum LocalPorts {
    private static let cursor = Mutex<Int?>(nil)

    /// `count` distinct free ports, never handed out twice by this process.
    static func free(_ count: Int) throws -> [Int] {
        try cursor.withLock { cursor throws(HarnessError) -> [Int] in
            let high = ephemeralLow() - 1
            let low = 10_000
            var next = cursor ?? low + Int(getpid()) * 131 % (high - low)
            var ports: [Int] = []
            for _ in 0..<(high - low) where ports.count < count {
                next = next >= high ? low : next + 1
                if try isFree(next) { ports.append(next) }
            }
            cursor = next
            guard ports.count == count else { throw HarnessError("no \(count) free ports in \(low)...\(high)") }
            return ports
        }
    }

    private static func ephemeralLow() -> Int {
        guard let fd = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return 32768 }
        defer { fclose(fd) }
        var low: Int32 = 32768
        var high: Int32 = 60999
        guard readRange(fd, &low, &high), low > 11_000 else { return 32768 }
        return Int(low)
    }

    private static func readRange(_ file: UnsafeMutablePointer<FILE>, _ low: inout Int32, _ high: inout Int32) -> Bool {
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, 64, file) != nil else { return false }
        let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard fields.count == 2, let l = Int32(fields[0]), let h = Int32(fields[1]) else { return false }
        (low, high) = (l, h)
        return true
    }

    private static func isFree(_ port: Int) throws(HarnessError) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        return bound == 0
    }
}

/// A test harness failure with a readable reason.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
