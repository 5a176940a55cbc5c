import Foundation
import Loom
import LoomCore
import LoomNN
import XCTest

/// The determinism contract, checked by bits: thread counts, batch composition, training,
/// save/load, and the golden hash file every backend must reproduce.
final class DeterminismTests: XCTestCase {
    static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/golden/reference-hashes.txt")

    func goldenLines() throws -> [String] {
        try String(contentsOf: DeterminismTests.goldenPath, encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    /// The portable serial reference (Swift kernels) and the native context with 1, 2, 3 and 8
    /// threads (C SIMD kernels) all give the golden hashes: forward outputs and the weights
    /// after 20 training steps of every reference network, f32 and f64.
    func testReferenceHashesEqualGoldenForEveryThreadCount() throws {
        let golden = try goldenLines()
        XCTAssertGreaterThan(golden.count, 80)
        XCTAssertEqual(try ReferenceNetworks.hashLines(context: SerialContext()), golden, "serial reference context")
        for t in [1, 2, 3, 8] {
            XCTAssertEqual(try ReferenceNetworks.hashLines(context: CPUContext(threads: t)), golden, "\(t) threads")
        }
    }

    /// A sample alone and inside a batch of 64 gives identical bits, for every reference network.
    func testBatchInvariance() throws {
        let ctx = CPUContext(threads: 3)
        var failures = [String]()
        for c in ReferenceNetworks.cases(dtype: .f32) { failures += try Verify.batchInvariance(c, as: Float.self, context: ctx) }
        for c in ReferenceNetworks.cases(dtype: .f64) { failures += try Verify.batchInvariance(c, as: Double.self, context: ctx) }
        XCTAssertEqual(failures, [])
    }

    /// Large enough that the thread split and SIMD tiling really engage (the reference networks
    /// are small): a 300-wide MLP trained for 5 steps gives identical weights for 1, 2, 3, 8 threads.
    func testTrainingIsThreadInvariantAtSize() throws {
        let spec = NetworkSpec(name: "wide", dtype: .f32, seed: 5, inputShape: [257],
                               layers: [.dense(units: 300, activation: .gelu, bias: true), .layerNorm(epsilon: 1e-5, affine: true),
                                        .dropout(rate: 0.2), .dense(units: 10, activation: .linear, bias: true)],
                               training: TrainingSpec(loss: .crossEntropy, optimizer: .sgd(lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-4)))
        var hashes = [String]()
        for t in [1, 2, 3, 8] {
            let net = try Network<Float>(spec)
            let trainer = Trainer(network: net, spec: spec.training!, context: CPUContext(threads: t))
            let x: Tensor<Float> = Init.uniform([96, 257], bound: 1, seed: 9, name: "x")
            let y = Tensor<Float>(uncheckedShape: [96], data: (0..<96).map { Float($0 % 10) })
            for _ in 0..<5 { try trainer.step(x, y) }
            hashes.append(net.params.bitHash.hex)
        }
        XCTAssertEqual(Set(hashes).count, 1, "weights after training differ across thread counts: \(hashes)")
    }

    /// Save then load gives identical weights, optimizer state and outputs (f32 and f64).
    func testSaveLoadRoundTripIsBitExact() throws {
        for dtype in [DType.f32, .f64] {
            for c in ReferenceNetworks.cases(dtype: dtype) {
                let text: String
                let before: [UInt64]
                switch try AnyNetwork.load(json: JSONValue.object(IREncoder.encode(c.spec)).serialized()) {
                case .f32(let n, _):
                    let tr = Trainer(network: n, spec: c.spec.training!, context: SerialContext())
                    let x = ReferenceNetworks.input(c, batch: 8, as: Float.self)
                    try tr.step(x, ReferenceNetworks.target(c, output: n.outputShape, batch: 8, as: Float.self))
                    text = ModelCodec.encode(n, optimizer: tr.optimizer)
                    before = bits(try n.forward(x))
                case .f64(let n, _):
                    let tr = Trainer(network: n, spec: c.spec.training!, context: SerialContext())
                    let x = ReferenceNetworks.input(c, batch: 8, as: Double.self)
                    try tr.step(x, ReferenceNetworks.target(c, output: n.outputShape, batch: 8, as: Double.self))
                    text = ModelCodec.encode(n, optimizer: tr.optimizer)
                    before = bits(try n.forward(x))
                }
                let reloaded = try AnyNetwork.load(json: text)
                let after: [UInt64]
                switch reloaded {
                case .f32(let n, let o):
                    XCTAssertEqual(o?.stepCount, 1, c.name)
                    after = bits(try n.forward(ReferenceNetworks.input(c, batch: 8, as: Float.self)))
                case .f64(let n, let o):
                    XCTAssertEqual(o?.stepCount, 1, c.name)
                    after = bits(try n.forward(ReferenceNetworks.input(c, batch: 8, as: Double.self)))
                }
                XCTAssertEqual(before, after, "\(c.name): outputs after reload")
                XCTAssertEqual(reloaded.saved(), text, "\(c.name): saving the reloaded model gives the same text")
            }
        }
    }

    func bits<T: LoomFloat>(_ t: Tensor<T>) -> [UInt64] { t.data.map { $0.bits64 } }
}

/// Step execution on real threads: concurrent stages (each a task of a 4-thread `CPUContext`) and
/// online training give the same bits as one thread.
final class StepThreadTests: XCTestCase {
    func testConcurrentStagesOnThreadsEqualSerial() throws {
        let spec = NetworkSpec(name: "st", dtype: .f32, seed: 5, inputShape: [4, 6],
                               layers: [.dense(units: 8, activation: .gelu, bias: true), .layerNorm(epsilon: 1e-5, affine: true),
                                        .multiHeadAttention(AttentionSpec(numHeads: 2, causal: true)), .dropout(rate: 0.2),
                                        .dense(units: 3, activation: .linear, bias: true)])
        func run(_ ctx: ComputeContext, concurrent: Bool) throws -> (String, [UInt32]) {
            let net = try Network<Float>(spec)
            let trainer = try StepTrainer(network: net, optimizer: .adamw(lr: 0.003, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
                                          loss: .mse, updateEvery: 2)
            var outs = [UInt32]()
            for t in 0..<40 {
                let x: Tensor<Float> = Init.uniform([4, 6], bound: 1, seed: UInt64(t), name: "x")
                let y: Tensor<Float> = Init.uniform([1, 4, 3], bound: 1, seed: UInt64(1000 + t), name: "y")
                if let done = try trainer.tick(x, target: y, context: ctx, concurrent: concurrent) { outs += done.output.data.map(\.bitPattern) }
            }
            return (net.params.bitHash.hex, outs)
        }
        let serial = try run(SerialContext(), concurrent: false)
        let threaded = try run(CPUContext(threads: 4), concurrent: true)
        XCTAssertEqual(serial.0, threaded.0, "weights after online training")
        XCTAssertEqual(serial.1, threaded.1, "every output")
        XCTAssertEqual(serial.1.count, (40 - 4) * 12)
    }
}
