/// Why bytes from a peer are not a valid frame. Any of these closes the connection they came on.
public enum FrameDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The length prefix announces more than the configured maximum (header plus payload limit).
    case frameTooLarge(length: Int, limit: Int)
    /// The length prefix is shorter than the fixed header.
    case frameTooShort(length: Int)
    /// The version byte is not one this build speaks.
    case unsupportedVersion(UInt8)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame length \(length) exceeds the limit of \(limit) bytes"
        case .frameTooShort(let length):
            return "frame length \(length) is shorter than the \(FrameFormat.headerSize)-byte header"
        case .unsupportedVersion(let version):
            return "unsupported protocol version \(version) (expected \(FrameFormat.version))"
        }
    }
}
