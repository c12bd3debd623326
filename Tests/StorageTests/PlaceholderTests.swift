import Testing

@Suite struct StoragePlaceholderTests {
    @Test func placeholder_builds() { #expect(Bool(true)) }
}
