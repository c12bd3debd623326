import Testing

@Suite struct CoordinatorPlaceholderTests {
    @Test func placeholder_builds() { #expect(Bool(true)) }
}
