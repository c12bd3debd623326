import Foundation
import Testing

@testable import dhrt_node

/// Flags over the TOML file over defaults, and clear validation errors.
@Suite struct NodeConfigTests {
    @Test func defaultsFollowTheNodeName() throws {
        let config = try NodeConfig.resolve(flags: ConfigValues(name: "n1"), file: ConfigValues())
        #expect(config.dataDirectory == "./data/n1")
        #expect(config.http.description == "127.0.0.1:8701")
        #expect(config.cluster.description == "127.0.0.1:9701")
        #expect(config.partitions == 256)
        #expect(config.replicas == 3)
        #expect(config.sync == .group)
        #expect(!config.memory)
    }

    @Test func flagsOverrideTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-\(UUID()).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        name = "from-file"
        http = "127.0.0.1:8801"
        seed = ["127.0.0.1:9801", "127.0.0.1:9802"]
        partitions = 64
        n = 2
        memory = true
        sync = "none"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ConfigValues.load(tomlFile: path)
        let config = try NodeConfig.resolve(flags: ConfigValues(name: "n9", partitions: 128), file: file)
        #expect(config.name == "n9")
        #expect(config.http.port == 8801)
        #expect(config.seeds.map(\.description) == ["127.0.0.1:9801", "127.0.0.1:9802"])
        #expect(config.partitions == 128)
        #expect(config.replicas == 2)
        #expect(config.memory)
        #expect(config.sync == .none)
    }

    @Test func theRESPAddress_comesFromTheFileOrTheFlag_andIsOffByDefault() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-\(UUID()).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name = \"n1\"\nresp = \"127.0.0.1:6379\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ConfigValues.load(tomlFile: path)
        #expect(try NodeConfig.resolve(flags: ConfigValues(), file: file).resp?.description == "127.0.0.1:6379")
        let flagged = try NodeConfig.resolve(flags: ConfigValues(resp: "127.0.0.1:6380"), file: file)
        #expect(flagged.resp?.port == 6380)
        #expect(try NodeConfig.resolve(flags: ConfigValues(name: "n1"), file: ConfigValues()).resp == nil)
        #expect(throws: ConfigError.self) {
            try NodeConfig.resolve(flags: ConfigValues(name: "n1", resp: "6379"), file: ConfigValues())
        }
    }

    @Test func memoryModeRunsWithoutSyncAndRefusesAPolicyItCannotKeep() throws {
        let memory = try NodeConfig.resolve(flags: ConfigValues(name: "n1", memory: true), file: ConfigValues())
        #expect(memory.sync == .none, "the policy in force (and logged) is none")
        for policy in ["group", "always"] {
            #expect(throws: ConfigError.self) {
                try NodeConfig.resolve(
                    flags: ConfigValues(name: "n1", memory: true, sync: policy), file: ConfigValues())
            }
            // A file's memory = true combined with a flag's --sync is refused the same way.
            #expect(throws: ConfigError.self) {
                try NodeConfig.resolve(flags: ConfigValues(sync: policy), file: ConfigValues(name: "n1", memory: true))
            }
        }
        let explicit = try NodeConfig.resolve(
            flags: ConfigValues(name: "n1", memory: true, sync: "none"), file: ConfigValues())
        #expect(explicit.sync == .none)
    }

    @Test func unknownFileKeysAreReported() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dhrt-\(UUID()).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name = \"n1\"\nreplication = 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try ConfigValues.load(tomlFile: path) }
    }

    @Test(arguments: [
        ConfigValues(),
        ConfigValues(name: "bad name"),
        ConfigValues(name: "n1", http: "8701"),
        ConfigValues(name: "n1", cluster: "127.0.0.1:99999"),
        ConfigValues(name: "n1", seeds: ["nowhere"]),
        ConfigValues(name: "n1", partitions: 100),
        ConfigValues(name: "n1", replicas: 0),
        ConfigValues(name: "n1", sync: "sometimes"),
    ])
    func invalidSettingsAreRejected(values: ConfigValues) {
        #expect(throws: ConfigError.self) { try NodeConfig.resolve(flags: values, file: ConfigValues()) }
    }
}
