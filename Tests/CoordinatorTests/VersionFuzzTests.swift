import Testing

@testable import Coordinator
import TestSupport

/// Mutated bytes never crash the version decoders; what decodes re-encodes to something that decodes.
@Suite struct VersionFuzzTests {
    static var objects: [VersionedObject] {
        var one = VersionedObject()
        one.update(context: VersionVector(), value: [1, 2, 3], contentType: "text/plain", actor: "n1", timestamp: 5)
        var two = one
        two.update(context: VersionVector(), value: [9], contentType: "", actor: "n2", timestamp: 6)
        var gone = two
        gone.delete(context: two.context, actor: "n3", timestamp: 7)
        return [one, two, gone]
    }

    @Test func objectAndClockDecoders_surviveMutations() {
        let seeds = Self.objects.flatMap { [$0.encoded(), $0.context.encoded()] }
        let tried = Fuzzing.run(seeds: seeds) { input in
            if let object = try? VersionedObject.decode(input) {
                #expect(throws: Never.self) { _ = try VersionedObject.decode(object.encoded()) }
            }
            _ = try? VersionVector.decode(input)
        }
        #expect(tried >= 1000)
    }

    @Test func clientContextDecoder_survivesMutations() {
        let seeds = Self.objects.map { Array($0.context.clientContext.utf8) }
        let tried = Fuzzing.run(seeds: seeds) { input in
            _ = try? VersionVector(clientContext: String(decoding: input, as: UTF8.self))
        }
        #expect(tried >= 1000)
    }
}
