import LocalCA

extension LocalCluster {
    /// The certificates of a secure cluster: `ca.pem` and each node's `NAME.pem` and `NAME-key.pem`.
    var tlsDirectory: String { directory + "/tls" }
    var caPath: String { tlsDirectory + "/ca.pem" }

    /// Makes a new CA and one certificate per node (for 127.0.0.1 and localhost, good as server and client);
    /// the CA's key is not kept, so no one can issue more under it.
    func writeCertificates(_ layout: ClusterLayout) throws {
        let ca = try LocalCA(name: "dhrt local cluster CA")
        _ = try ca.writeRoot(to: tlsDirectory)
        for index in layout.indices {
            _ = try ca.writeIssued(name: layout.name(index), hosts: ["127.0.0.1", "localhost"], to: tlsDirectory)
        }
    }

    /// Node `name`'s flags: one certificate for HTTPS, RESP over TLS and mutual cluster TLS.
    func tlsArguments(_ name: String) -> [String] {
        let certificate = tlsDirectory + "/\(name).pem"
        let key = tlsDirectory + "/\(name)-key.pem"
        return [
            "--tls-cert", certificate, "--tls-key", key,
            "--cluster-tls-cert", certificate, "--cluster-tls-key", key, "--cluster-tls-ca", caPath,
        ]
    }
}
