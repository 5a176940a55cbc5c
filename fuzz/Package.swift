// swift-tools-version:6.0
import Foundation
import PackageDescription

// The project is the package one folder up; SwiftPM names a path dependency after its folder.
let project = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

// The libFuzzer harnesses of issue 16 (docs/reliability.md). A separate root package so that the
// project's Package.swift stays free of unsafe flags: `-parse-as-library` lets libFuzzer supply
// main. Build and run through scripts/fuzz (swift build -c release --sanitize=fuzzer).
let package = Package(
    name: "LoomFuzz",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // LLVMFuzzerMutate (libFuzzer's own mutation, called by the custom mutator).
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "loom-fuzz",
            dependencies: ["FuzzSupport", .product(name: "_LoomFuzzTargets", package: project)],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v5]
)
