// swift-tools-version:6.0
import PackageDescription

// Module map (see docs/architecture.md):
//   LoomCore      tensors, dtypes, deterministic math, RNG, JSON, reference kernels (stdlib only; also Embedded wasm32)
//   LoomNN        layers, network graph, IR codec, losses, optimizers, schedulers, trainer (stdlib only; also Embedded wasm32)
//   CLoomKernels  C SIMD kernels with per-function target attributes and run-time CPU dispatch (native only)
//   LoomText      tokenizers (Hugging Face tokenizer.json, GGUF vocabularies), regex, Unicode normalization (stdlib only)
//   LoomGPU       the CUDA backend: driver and NVRTC through dlopen, generated kernels, device-resident training (native only)
//   Loom          the public native Swift API: files, threads, accelerated kernels, progress
//   loom          the command-line tool
let package = Package(
    name: "Loom",
    products: [
        .library(name: "Loom", targets: ["Loom"]),
        .library(name: "LoomCore", targets: ["LoomCore"]),
        .library(name: "LoomNN", targets: ["LoomNN"]),
        .library(name: "LoomText", targets: ["LoomText"]),
        .library(name: "LoomGPU", targets: ["LoomGPU"]),
        .executable(name: "loom", targets: ["LoomCLI"]),
        // libloom.so: the C ABI (include/loom.h).
        .library(name: "loomc", type: .dynamic, targets: ["LoomC"]),
        // The fuzz harness bodies, for fuzz/Package.swift (libFuzzer) and the hostile-input replay tests.
        .library(name: "_LoomFuzzTargets", targets: ["_LoomFuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "LoomCore"),
        .target(name: "LoomNN", dependencies: ["LoomCore"]),
        .target(name: "LoomText", dependencies: ["LoomCore"]),
        .target(name: "CLoomKernels"),
        .target(name: "LoomGPU", dependencies: ["LoomCore", "LoomNN"]),
        .target(name: "Loom", dependencies: ["LoomCore", "LoomNN", "LoomText", "CLoomKernels", "LoomGPU"]),
        .target(name: "LoomC", dependencies: ["Loom", "LoomCore", "LoomNN", "LoomText"]),
        .target(name: "_LoomFuzzTargets", dependencies: ["Loom", "LoomCore", "LoomNN", "LoomText", "LoomC"]),
        .executableTarget(
            name: "LoomCLI",
            dependencies: ["Loom", "LoomText", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "LoomCoreTests", dependencies: ["LoomCore", "LoomNN"]),
        .testTarget(name: "LoomNNTests", dependencies: ["LoomNN", "Loom"], resources: []),
        .testTarget(name: "LoomTests", dependencies: ["Loom", "_LoomFuzzTargets"]),
        .testTarget(name: "LoomTextTests", dependencies: ["LoomText"]),
        .testTarget(name: "LoomGPUTests", dependencies: ["LoomGPU", "Loom"]),
    ],
    swiftLanguageModes: [.v5]
)
