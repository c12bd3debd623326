import Testing

@Suite struct WirePlaceholderTests {
    @Test func placeholder_builds() { #expect(Bool(true)) }
}
