import AsyncHTTPClient
import Foundation
import NIOSSL
import Synchronization

/// The HTTP client for a trust root: the shared one (the system's roots) or one per CA file (`--cacert`), which
/// then is the only root trusted, as with curl. Made on first use and kept while the command runs.
enum HTTPClients {
    private static let byCA = Mutex<[String: HTTPClient]>([:])

    static func client(caFile: String?) throws -> HTTPClient {
        guard let caFile else { return .shared }
        return try byCA.withLock { clients in
            if let client = clients[caFile] { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try certificates(caFile))
            tls.minimumTLSVersion = .tlsv12
            let client = HTTPClient(
                eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
            clients[caFile] = client
            return client
        }
    }

    /// The PEM certificates of a CA file; a missing or unreadable one is an error naming it.
    static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AdminError.failed("--cacert \(path) cannot be read (missing, or no permission)")
        }
        guard let roots = try? NIOSSLCertificate.fromPEMFile(path), !roots.isEmpty else {
            throw AdminError.failed("--cacert \(path) holds no PEM certificate")
        }
        return roots
    }

    /// Why a request did not reach the node, in a line an operator can act on: TLS failures they can fix from
    /// the command line get a short reason and the fix instead of the TLS library's error dump.
    static func reason(for error: any Error, url: String) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return
                "TLS handshake failed: the node's certificate is not trusted; pass --cacert with the CA that issued it"
        }
        if text.contains("failedToValidateHostname") {
            return "TLS handshake failed: the node's certificate does not name the host in \(url)"
        }
        if url.hasPrefix("http://"), text.contains("remoteConnectionClosed") || text.contains("Connection reset") {
            return "\(text); if the node serves HTTPS (--tls-cert), use https://"
        }
        return text
    }
}
