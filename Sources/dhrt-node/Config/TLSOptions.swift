import ArgumentParser

/// `dhrt-node`'s TLS flags: HTTPS (and RESP over TLS) on the client ports, TLS on the inter-node port.
struct TLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-cert"),
        help: "PEM certificate (chain) of the HTTP and RESP ports; with --tls-key they speak only TLS (default: none).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(
        name: .customLong("cluster-tls-cert"),
        help: "PEM certificate (chain) of the inter-node port, presented to peers; with --cluster-tls-key.")
    var clusterTLSCert: String?

    @Option(name: .customLong("cluster-tls-key"), help: "PEM private key of --cluster-tls-cert.")
    var clusterTLSKey: String?

    @Option(
        name: .customLong("cluster-tls-ca"),
        help: "PEM CA that peers' certificates must chain to; makes cluster TLS mutual (both ends verify).")
    var clusterTLSCA: String?
}

extension ConfigValues {
    /// These values with the TLS flags set over them.
    func withTLS(_ options: TLSOptions) -> ConfigValues {
        var values = self
        values.tlsCert = options.tlsCert
        values.tlsKey = options.tlsKey
        values.clusterTLSCert = options.clusterTLSCert
        values.clusterTLSKey = options.clusterTLSKey
        values.clusterTLSCA = options.clusterTLSCA
        return values
    }
}
