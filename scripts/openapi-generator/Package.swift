// swift-tools-version: 6.1
// Builds swift-openapi-generator alone, so that scripts/openapi.sh can regenerate DhrtClient from
// Docs/openapi.yaml; the main package does not build the generator.
import PackageDescription

let package = Package(
    name: "dhrt-openapi-generator",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3")
    ],
    targets: []
)
