import Foundation
import TOMLKit

/// Raw, optional settings from one source (flags or a TOML file); keys match the long flag names.
struct ConfigValues: Sendable, Decodable, Equatable {
    var name: String?
    var dataDirectory: String?
    var http: String?
    var cluster: String?
    /// The Redis protocol address; nil serves no RESP.
    var resp: String?
    var seeds: [String]?
    var partitions: Int?
    var replicas: Int?
    var memory: Bool?
    var sync: String?
    var timeoutMilliseconds: Int?
    var readRepairChance: Double?
    var join: String?
    var transferConcurrency: Int?
    var transferBatchBytes: Int?
    var headerTimeoutMilliseconds: Int?
    var bodyTimeoutMilliseconds: Int?
    var idleTimeoutMilliseconds: Int?
    var handshakeTimeoutMilliseconds: Int?
    var maxConnections: Int?
    var maxClusterConnections: Int?
    var clientToken: String?
    var adminToken: String?
    var clusterSecret: String?
    var hintMaxBytes: Int?
    var hintMaxAgeSeconds: Int?
    var hintReplayRate: Int?
    var tlsCert: String?
    var tlsKey: String?
    var clusterTLSCert: String?
    var clusterTLSKey: String?
    var clusterTLSCA: String?

    enum CodingKeys: String, CodingKey {
        case name
        case dataDirectory = "data-dir"
        case http, cluster, resp
        case seeds = "seed"
        case partitions
        case replicas = "n"
        case memory, sync
        case timeoutMilliseconds = "timeout-ms"
        case readRepairChance = "read-repair-chance"
        case join
        case transferConcurrency = "transfer-concurrency"
        case transferBatchBytes = "transfer-batch-bytes"
        case headerTimeoutMilliseconds = "header-timeout-ms"
        case bodyTimeoutMilliseconds = "body-timeout-ms"
        case idleTimeoutMilliseconds = "idle-timeout-ms"
        case handshakeTimeoutMilliseconds = "handshake-timeout-ms"
        case maxConnections = "max-connections"
        case maxClusterConnections = "max-cluster-connections"
        case clientToken = "client-token"
        case adminToken = "admin-token"
        case clusterSecret = "cluster-secret"
        case hintMaxBytes = "hint-max-bytes"
        case hintMaxAgeSeconds = "hint-max-age-s"
        case hintReplayRate = "hint-replay-rate"
        case tlsCert = "tls-cert"
        case tlsKey = "tls-key"
        case clusterTLSCert = "cluster-tls-cert"
        case clusterTLSKey = "cluster-tls-key"
        case clusterTLSCA = "cluster-tls-ca"
    }

    init(
        name: String? = nil, dataDirectory: String? = nil, http: String? = nil, cluster: String? = nil,
        seeds: [String]? = nil, partitions: Int? = nil, replicas: Int? = nil, memory: Bool? = nil,
        sync: String? = nil, timeoutMilliseconds: Int? = nil, readRepairChance: Double? = nil,
        join: String? = nil, transferConcurrency: Int? = nil, transferBatchBytes: Int? = nil, resp: String? = nil
    ) {
        self.resp = resp
        self.transferBatchBytes = transferBatchBytes
        self.join = join
        self.transferConcurrency = transferConcurrency
        self.name = name
        self.dataDirectory = dataDirectory
        self.http = http
        self.cluster = cluster
        self.seeds = seeds
        self.partitions = partitions
        self.replicas = replicas
        self.memory = memory
        self.sync = sync
        self.timeoutMilliseconds = timeoutMilliseconds
        self.readRepairChance = readRepairChance
    }

    /// Each value of `self` wins; missing ones come from `other`.
    func overriding(_ other: ConfigValues) -> ConfigValues {
        ConfigValues(
            name: name ?? other.name,
            dataDirectory: dataDirectory ?? other.dataDirectory,
            http: http ?? other.http,
            cluster: cluster ?? other.cluster,
            seeds: seeds ?? other.seeds,
            partitions: partitions ?? other.partitions,
            replicas: replicas ?? other.replicas,
            memory: memory ?? other.memory,
            sync: sync ?? other.sync,
            timeoutMilliseconds: timeoutMilliseconds ?? other.timeoutMilliseconds,
            readRepairChance: readRepairChance ?? other.readRepairChance,
            join: join ?? other.join,
            transferConcurrency: transferConcurrency ?? other.transferConcurrency,
            transferBatchBytes: transferBatchBytes ?? other.transferBatchBytes,
            resp: resp ?? other.resp
        )
        .withFrontDoor(of: self, over: other)
    }

    /// The front door's values of `first`, else of `second`, over this value's others.
    private func withFrontDoor(of first: ConfigValues, over second: ConfigValues) -> ConfigValues {
        var merged = self
        merged.headerTimeoutMilliseconds = first.headerTimeoutMilliseconds ?? second.headerTimeoutMilliseconds
        merged.bodyTimeoutMilliseconds = first.bodyTimeoutMilliseconds ?? second.bodyTimeoutMilliseconds
        merged.idleTimeoutMilliseconds = first.idleTimeoutMilliseconds ?? second.idleTimeoutMilliseconds
        merged.handshakeTimeoutMilliseconds = first.handshakeTimeoutMilliseconds ?? second.handshakeTimeoutMilliseconds
        merged.maxConnections = first.maxConnections ?? second.maxConnections
        merged.maxClusterConnections = first.maxClusterConnections ?? second.maxClusterConnections
        merged.clientToken = first.clientToken ?? second.clientToken
        merged.adminToken = first.adminToken ?? second.adminToken
        merged.clusterSecret = first.clusterSecret ?? second.clusterSecret
        merged.hintMaxBytes = first.hintMaxBytes ?? second.hintMaxBytes
        merged.hintMaxAgeSeconds = first.hintMaxAgeSeconds ?? second.hintMaxAgeSeconds
        merged.hintReplayRate = first.hintReplayRate ?? second.hintReplayRate
        merged.tlsCert = first.tlsCert ?? second.tlsCert
        merged.tlsKey = first.tlsKey ?? second.tlsKey
        merged.clusterTLSCert = first.clusterTLSCert ?? second.clusterTLSCert
        merged.clusterTLSKey = first.clusterTLSKey ?? second.clusterTLSKey
        merged.clusterTLSCA = first.clusterTLSCA ?? second.clusterTLSCA
        return merged
    }

    /// Reads a TOML file whose keys are the long flag names (`seed` is an array); unknown keys are an error.
    static func load(tomlFile path: String) throws(ConfigError) -> ConfigValues {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("cannot read config file \(path): \(error.localizedDescription)")
        }
        do {
            var decoder = TOMLDecoder()
            decoder.strictDecoding = true
            return try decoder.decode(ConfigValues.self, from: text)
        } catch let error as UnexpectedKeysError {
            let keys = error.keys.keys.sorted().joined(separator: ", ")
            throw ConfigError("config file \(path): unknown keys \(keys)")
        } catch {
            throw ConfigError("config file \(path) is not valid: \(error)")
        }
    }
}

extension ConfigValues {
    /// The values with the hint flags set.
    func withHints(maxBytes: Int?, maxAgeSeconds: Int?, replayRate: Int?) -> ConfigValues {
        var values = self
        values.hintMaxBytes = maxBytes
        values.hintMaxAgeSeconds = maxAgeSeconds
        values.hintReplayRate = replayRate
        return values
    }
}
