// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so that CI never builds them.
let package = Package(
    name: "dhrt-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "dhrt", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "storage-bench",
            dependencies: [.product(name: "Storage", package: "dhrt")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ]
)
