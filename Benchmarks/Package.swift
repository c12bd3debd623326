// swift-tools-version: 6.1
// Release-mode benchmarks of dhrt, kept out of the main package so that CI does not build them.
// Run: cd Benchmarks && swift run -c release ring-bench
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
            dependencies: [.product(name: "Ring", package: "dhrt")]
        )
    ]
)
