#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Raw TCP for sending bytes the inter-node protocol does not expect.
enum RawFrame {
    /// `u32 length | u8 version | u8 type | u8 flags | u64 request id | payload`.
    static func frame(type: UInt8, payload: [UInt8], requestId: UInt64 = 7) -> [UInt8] {
        let length = UInt32(11 + payload.count)
        var bytes = withUnsafeBytes(of: length.bigEndian) { Array($0) }
        bytes += [1, type, 0]
        bytes += withUnsafeBytes(of: requestId.bigEndian) { Array($0) }
        return bytes + payload
    }

    /// Connects, writes `bytes`, and reads whatever comes back until close or a 2 s receive timeout.
    static func exchange(_ bytes: [UInt8], port: Int) throws -> [UInt8] {
        try talk(bytes, port: port).received
    }

    /// `exchange`, telling also whether the peer closed the connection (rather than the read timing out or one
    /// complete frame arriving).
    static func talk(_ bytes: [UInt8], port: Int) throws -> (received: [UInt8], closedByPeer: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw HarnessError("connect to \(port) failed: errno \(errno)") }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var closedByPeer = false
        while received.count < 1 << 16 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                closedByPeer = count == 0 || errno == ECONNRESET
                break
            }
            received += buffer[0..<count]
            // One complete frame is enough.
            if received.count >= 4 {
                let length = received[0..<4].reduce(0) { $0 << 8 | Int($1) }
                if received.count >= 4 + length { break }
            }
        }
        return (received, closedByPeer)
    }
}
