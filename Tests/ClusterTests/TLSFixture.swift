import Foundation
import LocalCA

/// A directory with a fresh `LocalCA`'s root (`ca.pem`) and certificates issued by it, made with the same code as
/// `dhrt-admin cluster start --secure`.
struct TLSFixture {
    let directory: String
    let ca: LocalCA

    init() throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("dhrt-tls-\(UUID().uuidString.prefix(8))").path
        ca = try LocalCA()
        _ = try ca.writeRoot(to: directory)
    }

    var caPath: String { directory + "/ca.pem" }

    /// Issues `NAME.pem` and `NAME-key.pem` for 127.0.0.1 and localhost; returns their paths.
    func issue(_ name: String) throws -> (certificate: String, key: String) {
        try ca.writeIssued(name: name, hosts: ["127.0.0.1", "localhost"], to: directory)
    }

    /// The flags of mutual cluster TLS with a certificate for `name` (issued now) trusting this CA.
    func clusterFlags(_ name: String, trusting root: String? = nil) throws -> [String] {
        let files = try issue(name)
        return [
            "--cluster-tls-cert", files.certificate, "--cluster-tls-key", files.key,
            "--cluster-tls-ca", root ?? caPath,
        ]
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
