public import Crypto
import Foundation
import SwiftASN1
public import X509

/// A certificate authority for a local cluster: one self-signed P-256 root that issues node certificates
/// good for both ends of a TLS connection (server and client auth), so that one pair serves HTTPS, RESP and
/// mutual cluster TLS.
///
/// It is meant for development clusters and tests (`dhrt-admin cluster start --secure`); production clusters
/// bring certificates from their own CA.
public struct LocalCA: Sendable {
    /// The root certificate, the trust anchor peers and clients are given.
    public let certificate: Certificate
    private let key: P256.Signing.PrivateKey
    private let keyIdentifier: SubjectKeyIdentifier

    /// How long issued certificates (and the root) stay valid.
    public static let validity: TimeInterval = 365 * 86_400

    /// Makes a new root named `name`, valid from a minute ago (clock skew between processes) for a year.
    public init(name: String = "dhrt local CA", now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("dhrt")
            CommonName(name)
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let keyIdentifier = SubjectKeyIdentifier(hash: publicKey)
        self.key = key
        self.keyIdentifier = keyIdentifier
        self.certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 60, notValidAfter: now + Self.validity, issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                keyIdentifier
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    /// A certificate for `commonName` whose subject alternative names are `hosts`: each an IPv4 or IPv6
    /// address (an IP SAN) or else a DNS name.
    public func issue(commonName: String, hosts: [String], now: Date = Date()) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("dhrt")
            CommonName(commonName)
        }
        let names = hosts.map { host -> GeneralName in
            if let bytes = Self.addressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(host)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 60, notValidAfter: now + Self.validity, issuer: self.certificate.subject,
            subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: keyIdentifier.keyIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key))
        return IssuedCertificate(certificate: certificate, key: key)
    }

    /// The root certificate as PEM.
    public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

    /// The network-order bytes of an IPv4 or IPv6 address, nil for anything else.
    static func addressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// A certificate issued by a ``LocalCA`` with its private key.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// The certificate as PEM.
    public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

    /// The private key as PEM (PKCS #8).
    public var keyPEM: String { key.pemRepresentation }
}

extension LocalCA {
    /// Writes the root as `ca.pem` in `directory` (made if missing); the root's key is not kept, so nothing
    /// more can be issued under it once this value is gone.
    public func writeRoot(to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/ca.pem"
        try Self.write(try certificatePEM(), to: path, mode: 0o644)
        return path
    }

    /// Issues a certificate for `name` and writes `NAME.pem` and `NAME-key.pem` (owner-only) in `directory`;
    /// returns their paths.
    public func writeIssued(name: String, hosts: [String], to directory: String) throws -> (
        certificate: String, key: String
    ) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let issued = try issue(commonName: name, hosts: hosts)
        let certificatePath = directory + "/\(name).pem"
        let keyPath = directory + "/\(name)-key.pem"
        try Self.write(try issued.certificatePEM(), to: certificatePath, mode: 0o644)
        try Self.write(issued.keyPEM, to: keyPath, mode: 0o600)
        return (certificatePath, keyPath)
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        try? FileManager.default.removeItem(atPath: path)
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else { throw LocalCAError("cannot write \(path)") }
    }
}

/// A file the authority could not write.
public struct LocalCAError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
