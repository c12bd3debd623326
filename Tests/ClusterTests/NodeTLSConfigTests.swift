import Foundation
import Testing

@testable import dhrt_node

/// The TLS options: flags and TOML keys, pairs given whole, files read and checked at start.
@Suite struct NodeTLSConfigTests {
    func resolve(_ values: ConfigValues, file: ConfigValues = ConfigValues()) throws -> NodeConfig {
        var flags = values
        flags.name = "n1"
        return try NodeConfig.resolve(flags: flags, file: file)
    }

    func error(_ values: ConfigValues) -> String {
        do {
            _ = try resolve(values)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func noTLSOptions_leaveEveryPortPlain() throws {
        let config = try resolve(ConfigValues())
        #expect(config.tls.http == nil && config.tls.clusterServer == nil && config.tls.clusterClient == nil)
        #expect(config.tls.clusterTLSMode == "off")
    }

    @Test(arguments: [
        (ConfigValues.with(\.tlsCert, "c.pem"), "--tls-cert needs --tls-key"),
        (ConfigValues.with(\.tlsKey, "k.pem"), "--tls-key needs --tls-cert"),
        (ConfigValues.with(\.clusterTLSCert, "c.pem"), "--cluster-tls-cert needs --cluster-tls-key"),
        (ConfigValues.with(\.clusterTLSKey, "k.pem"), "--cluster-tls-key needs --cluster-tls-cert"),
        (ConfigValues.with(\.clusterTLSCA, "ca.pem"), "--cluster-tls-ca needs --cluster-tls-cert"),
    ])
    func anIncompletePair_isAClearError(values: ConfigValues, message: String) {
        #expect(error(values).hasPrefix(message), "\(error(values))")
    }

    @Test func missingAndInvalidFiles_areClearErrors_namingTheOption() throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let files = try tls.issue("n1")
        let other = try tls.issue("n2")
        var values = ConfigValues()
        values.tlsCert = tls.directory + "/missing.pem"
        values.tlsKey = files.key
        #expect(error(values).contains("--tls-cert \(tls.directory)/missing.pem cannot be read"))
        values.tlsCert = files.key  // a key where a certificate belongs
        #expect(error(values).contains("holds no PEM certificate"))
        values.tlsCert = files.certificate
        values.tlsKey = files.certificate
        #expect(error(values).contains("--tls-key \(files.certificate) holds no PEM private key"))
        values.tlsKey = other.key
        #expect(error(values).contains("the key does not fit the certificate"))
        values = ConfigValues()
        values.clusterTLSCert = files.certificate
        values.clusterTLSKey = files.key
        values.clusterTLSCA = files.key
        #expect(error(values).contains("--cluster-tls-ca \(files.key) holds no PEM certificate"))
    }

    @Test func tomlKeys_setTLS_andFlagsWin() throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let files = try tls.issue("n1")
        let path = tls.directory + "/node.toml"
        try """
        tls-cert = "\(tls.directory)/missing.pem"
        tls-key = "\(files.key)"
        cluster-tls-cert = "\(files.certificate)"
        cluster-tls-key = "\(files.key)"
        cluster-tls-ca = "\(tls.caPath)"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ConfigValues.load(tomlFile: path)
        let config = try resolve(ConfigValues.with(\.tlsCert, files.certificate), file: file)
        #expect(config.tlsFiles.http == TLSFiles.Pair(certificate: files.certificate, key: files.key))
        #expect(config.tls.http != nil)
        #expect(config.tls.clusterTLSMode == "mutual")
    }

    @Test func clusterTLSWithoutACA_encryptsWithoutVerifying() throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let files = try tls.issue("n1")
        var values = ConfigValues()
        values.clusterTLSCert = files.certificate
        values.clusterTLSKey = files.key
        let config = try resolve(values)
        #expect(config.tls.clusterTLSMode == "unverified")
        #expect(config.tls.http == nil)
    }
}

extension ConfigValues {
    /// Values with one option set, for tables of cases.
    static func with(_ key: WritableKeyPath<ConfigValues, String?>, _ value: String) -> ConfigValues {
        var values = ConfigValues()
        values[keyPath: key] = value
        return values
    }
}
