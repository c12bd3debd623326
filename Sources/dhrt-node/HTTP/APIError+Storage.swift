import Hummingbird
import Storage

extension APIError {
    /// A failure of this node's storage: 507 when its disk is full (freeing space lets writes in again), 503
    /// when it refuses writes for now (an I/O error, or read-only after a failed fsync until a restart), 500
    /// for anything else. The code is `storage` in every case.
    static func storage(_ error: StorageError) -> APIError {
        if error.isOutOfSpace {
            return APIError(
                HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "storage",
                "this node's disk is full; the write was not stored: \(error)")
        }
        switch error {
        case .io, .readOnly:
            return APIError(.serviceUnavailable, "storage", "this node cannot store the write now: \(error)")
        default:
            return APIError(.internalServerError, "storage", "\(error)")
        }
    }
}
