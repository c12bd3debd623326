import Testing

@Suite struct AdminPlaceholderTests {
    @Test func placeholder_builds() { #expect(Bool(true)) }
}
