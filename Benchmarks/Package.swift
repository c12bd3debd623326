// swift-tools-version: 6.1
// Release-mode benchmarks of dhrt, kept out of the main package so that CI never builds them.
// Run: cd Benchmarks && swift run -c release ring-bench   (or storage-bench)
import PackageDescription

let package = Package(
    name: "dhrt-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "dhrt", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "ring-bench",
            dependencies: [.product(name: "Ring", package: "dhrt")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "storage-bench",
            dependencies: [.product(name: "Storage", package: "dhrt")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ]
)
