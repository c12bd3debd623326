import Foundation
import NIOSSL

/// Where the node's certificates are, as configured; each pair is given whole or not at all.
struct TLSFiles: Sendable, Equatable {
    struct Pair: Sendable, Equatable {
        var certificate: String
        var key: String
    }

    /// HTTPS and RESP over TLS (`--tls-cert`, `--tls-key`).
    var http: Pair?
    /// TLS on the inter-node port (`--cluster-tls-cert`, `--cluster-tls-key`).
    var cluster: Pair?
    /// The cluster's CA (`--cluster-tls-ca`): peers MUST present a certificate that chains to it.
    var clusterCA: String?

    /// The files from merged values, checked for completeness (not yet read).
    static func resolve(_ values: ConfigValues) throws(ConfigError) -> TLSFiles {
        var files = TLSFiles()
        files.http = try pair(values.tlsCert, values.tlsKey, "tls")
        files.cluster = try pair(values.clusterTLSCert, values.clusterTLSKey, "cluster-tls")
        if let ca = values.clusterTLSCA {
            guard files.cluster != nil else {
                throw ConfigError(
                    "--cluster-tls-ca needs --cluster-tls-cert and --cluster-tls-key: mutual TLS presents a certificate too"
                )
            }
            files.clusterCA = ca
        }
        return files
    }

    private static func pair(_ certificate: String?, _ key: String?, _ prefix: String) throws(ConfigError) -> Pair? {
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return Pair(certificate: certificate, key: key)
        case (_?, nil): throw ConfigError("--\(prefix)-cert needs --\(prefix)-key (the certificate's private key)")
        case (nil, _?): throw ConfigError("--\(prefix)-key needs --\(prefix)-cert (the certificate of that key)")
        }
    }
}

/// The TLS contexts the node serves and dials with, made once at start so that a bad file stops the start.
struct NodeTLS: Sendable {
    /// HTTPS and RESP over TLS; nil: both plain.
    var http: NIOSSLContext?
    /// What inbound inter-node connections are served with; nil: plain.
    var clusterServer: NIOSSLContext?
    /// What this node dials peers with; nil: plain.
    var clusterClient: NIOSSLContext?
    /// Whether peers' certificates are verified against the cluster CA (mutual TLS).
    var verifiesPeers = false

    static let none = NodeTLS()

    /// How the inter-node port is secured, for the start log: off, encrypted or mutual.
    var clusterTLSMode: String {
        guard clusterServer != nil else { return "off" }
        return verifiesPeers ? "mutual" : "unverified"
    }

    /// Reads and checks every file; a missing, unreadable or invalid one is a `ConfigError` naming it.
    static func load(_ files: TLSFiles) throws(ConfigError) -> NodeTLS {
        var tls = NodeTLS()
        if let pair = files.http {
            let (chain, key) = try read(pair, "tls")
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            tls.http = try context(configuration, "--tls-cert \(pair.certificate) with --tls-key \(pair.key)")
        }
        guard let pair = files.cluster else { return tls }
        let (chain, key) = try read(pair, "cluster-tls")
        let roots = try files.clusterCA.map { path throws(ConfigError) in try certificates(path, "cluster-tls-ca") }
        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chain.map { .certificate($0) }
        client.privateKey = .privateKey(key)
        for side in [0, 1] {
            var configuration = side == 0 ? server : client
            configuration.minimumTLSVersion = .tlsv12
            if let roots {
                // The cluster CA is the trust root: any certificate it issued is a member, whatever address
                // the peer was dialled at (peers are named by IP, which certificates often do not list).
                configuration.trustRoots = .certificates(roots)
                configuration.certificateVerification = .noHostnameVerification
            } else {
                configuration.certificateVerification = .none
            }
            if side == 0 { server = configuration } else { client = configuration }
        }
        let what = "--cluster-tls-cert \(pair.certificate) with --cluster-tls-key \(pair.key)"
        tls.clusterServer = try context(server, what)
        tls.clusterClient = try context(client, what)
        tls.verifiesPeers = roots != nil
        return tls
    }

    private static func read(_ pair: TLSFiles.Pair, _ prefix: String) throws(ConfigError) -> (
        [NIOSSLCertificate], NIOSSLPrivateKey
    ) {
        let chain = try certificates(pair.certificate, "\(prefix)-cert")
        try readable(pair.key, "\(prefix)-key")
        do {
            return (chain, try NIOSSLPrivateKey(file: pair.key, format: .pem))
        } catch {
            throw ConfigError("--\(prefix)-key \(pair.key) holds no PEM private key (\(error))")
        }
    }

    private static func certificates(_ path: String, _ option: String) throws(ConfigError) -> [NIOSSLCertificate] {
        try readable(path, option)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw ConfigError("--\(option) \(path) holds no PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw ConfigError("--\(option) \(path) holds no PEM certificate") }
        return chain
    }

    private static func readable(_ path: String, _ option: String) throws(ConfigError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ConfigError("--\(option) \(path) cannot be read (missing, or no permission)")
        }
    }

    private static func context(_ configuration: TLSConfiguration, _ what: String) throws(ConfigError) -> NIOSSLContext
    {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError("\(what): the key does not fit the certificate, or neither is usable (\(error))")
        }
    }
}
