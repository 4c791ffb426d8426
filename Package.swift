// swift-tools-version:6.2
import PackageDescription

// The same upcoming features Hummingbird 2 enables on itself (see shared STYLE.md).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "aviary",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "aviary", targets: ["aviary"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Pure model and rules: names, ARNs, versions, aliases, routing, validation, errors. No I/O.
        .target(
            name: "AviaryCore",
            swiftSettings: swiftSettings
        ),
        // Durable state: SQLite (GRDB, WAL) and the content-addressed code store.
        .target(
            name: "AviaryStore",
            dependencies: [
                "AviaryCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Execution environments: worker processes speaking the Lambda Runtime API, warm pools, bootstraps.
        .target(
            name: "AviaryRuntime",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [
                .embedInCode("Bootstraps/python_bootstrap.py"),
                .embedInCode("Bootstraps/node_bootstrap.mjs"),
            ],
            swiftSettings: swiftSettings
        ),
        // The deployment controller: runs deployments through the Core state machine on real time.
        .target(
            name: "AviaryEngine",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                "AviaryRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: the AWS Lambda REST API over Hummingbird 2.
        .target(
            name: "AviaryServer",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                "AviaryRuntime",
                "AviaryEngine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            resources: [.embedInCode("openapi.json")],
            swiftSettings: swiftSettings
        ),
        // SAM templates → a validated application model, and deterministic packaging of their code.
        .target(
            name: "AviaryTemplate",
            dependencies: [
                "AviaryCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Commands live in a library so tests can run them; the executable only calls main().
        .target(
            name: "AviaryCLI",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                "AviaryRuntime",
                "AviaryEngine",
                "AviaryServer",
                "AviaryTemplate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "aviary",
            dependencies: [
                "AviaryCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AviaryCoreTests",
            dependencies: ["AviaryCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AviaryTemplateTests",
            dependencies: [
                "AviaryCore",
                "AviaryTemplate",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AviaryStoreTests",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AviaryRuntimeTests",
            dependencies: ["AviaryCore", "AviaryStore", "AviaryRuntime", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AviaryEngineTests",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                "AviaryRuntime",
                "AviaryEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AviaryServerTests",
            dependencies: [
                "AviaryCore",
                "AviaryStore",
                "AviaryRuntime",
                "AviaryEngine",
                "AviaryServer",
                "AviaryCLI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
