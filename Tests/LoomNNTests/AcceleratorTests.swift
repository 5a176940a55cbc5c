import LoomCore
import LoomNN
import XCTest

/// `Trainer.accelerator`: the plumbing a device backend relies on (CI has no GPU). A host
/// accelerator that trains a shadow copy of the network with the CPU's own calls must leave the
/// trainer's network, optimizer state, history and evaluation bit-identical to plain training —
/// so the order of loss check, clipping, scheduler step, optimizer counters and synchronisation
/// in `Trainer` is the host path's.
final class AcceleratorTests: XCTestCase {
    final class ShadowAccelerator: TrainingAccelerator<Float> {
        let shadow: Network<Float>
        let target: Network<Float>
        var synchronizations = 0, forwards = 0, unscales = 0

        init(_ net: Network<Float>) throws {
            target = net
            shadow = try Network<Float>(net.spec)
            for i in 0..<net.params.count { shadow.params.values[i] = net.params.values[i] }
        }

        override func computeGradients(_ x: Tensor<Float>, _ t: Tensor<Float>, loss: LossKind, step: UInt64,
                                       gradientScale: Float) throws(LoomError) -> (loss: Float, output: Tensor<Float>) {
            try shadow.computeGradients(x, target: t, loss: loss, context: SerialContext(), step: step, gradientScale: gradientScale)
        }

        override func unscale(_ scale: inout LossScale) throws(LoomError) -> Bool {
            unscales += 1
            return scale.unscale(shadow.params)
        }

        override func update(clip: GradientClip?, optimizer: Optimizer<Float>, lr: Double) throws(LoomError) {
            clip?.apply(shadow.params)
            optimizer.step(shadow.params, lr: lr, context: SerialContext())
        }

        override func forward(_ x: Tensor<Float>) throws(LoomError) -> Tensor<Float> {
            forwards += 1
            return try shadow.forward(x)
        }

        override func synchronize(optimizer: Optimizer<Float>) throws(LoomError) {
            synchronizations += 1
            for i in 0..<target.params.count {
                target.params.values[i] = shadow.params.values[i]
                target.params.grads[i] = shadow.params.grads[i]
            }
        }
    }

    func data(_ n: Int) -> (Tensor<Float>, Tensor<Float>) {
        let x: Tensor<Float> = Init.uniform([n, 5], bound: 1, seed: 8, name: "x")
        let y = Tensor<Float>(uncheckedShape: [n], data: (0..<n).map { Float(($0 * 5 + 1) % 3) })
        return (x, y)
    }

    /// f32, and f16 (rounded execution with its loss scale: the trainer hands the scale to the
    /// accelerator and lets it unscale the gradients where they live).
    func testAcceleratedFitEqualsHostFit() throws {
        try checkAcceleratedFit(.f32)
        try checkAcceleratedFit(.f16)
    }

    func checkAcceleratedFit(_ dtype: DType) throws {
        let t = TrainingSpec(loss: .crossEntropy, optimizer: .adamw(lr: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
                             scheduler: .warmup(steps: 3, startFactor: 0.2, after: .cosine(totalSteps: 20, minLR: 0.001)),
                             epochs: 4, batchSize: 8, validationSplit: 0.2, clip: .norm(0.5))
        let spec = NetworkSpec(name: "acc", dtype: dtype, seed: 9, inputShape: [5],
                               layers: [.dense(units: 7, activation: .tanh, bias: true), .dense(units: 3, activation: .linear, bias: true)],
                               training: t)
        let (x, y) = data(50)
        let hostNet = try Network<Float>(spec)
        let host = Trainer(network: hostNet, spec: t, context: SerialContext())
        let hostHistory = try host.fit(inputs: x, targets: y)

        let net = try Network<Float>(spec)
        let trainer = Trainer(network: net, spec: t, context: SerialContext())
        let acc = try ShadowAccelerator(net)
        trainer.accelerator = acc
        let history = try trainer.fit(inputs: x, targets: y)

        XCTAssertEqual(net.params.bitHash.hex, hostNet.params.bitHash.hex, "accelerated training must end with the host's weights")
        XCTAssertNotEqual(net.params.bitHash.hex, try Network<Float>(spec).params.bitHash.hex, "training changed the weights")
        XCTAssertEqual(history.epochs.map(\.trainLoss), hostHistory.epochs.map(\.trainLoss))
        XCTAssertEqual(history.epochs.map { $0.validationLoss ?? -1 }, hostHistory.epochs.map { $0.validationLoss ?? -1 })
        XCTAssertEqual(trainer.optimizer.stepCount, host.optimizer.stepCount)
        XCTAssertEqual(acc.synchronizations, t.epochs, "the network is brought back at every epoch's end")
        XCTAssertEqual(acc.forwards, t.epochs * 2, "validation (10 samples, batches of 8) runs on the accelerator")
        XCTAssertEqual(trainer.globalStep, host.globalStep)
        XCTAssertEqual(trainer.optimizer.lossScale, host.optimizer.lossScale)
        XCTAssertEqual(acc.unscales, dtype == .f16 ? trainer.globalStep : 0, "f16 steps unscale on the accelerator")
    }

    /// A non-finite loss stops training before the update, as on the host.
    func testNonFiniteLossIsAnErrorBeforeTheUpdate() throws {
        final class NaNLoss: TrainingAccelerator<Float> {
            var updates = 0
            override func computeGradients(_ x: Tensor<Float>, _ t: Tensor<Float>, loss: LossKind, step: UInt64,
                                           gradientScale: Float) throws(LoomError) -> (loss: Float, output: Tensor<Float>) {
                (Float.nan, x)
            }
            override func update(clip: GradientClip?, optimizer: Optimizer<Float>, lr: Double) throws(LoomError) { updates += 1 }
        }
        let spec = NetworkSpec(name: "nan", dtype: .f32, seed: 1, inputShape: [5], layers: [.dense(units: 3, activation: .linear, bias: true)])
        let trainer = Trainer(network: try Network<Float>(spec), spec: TrainingSpec(), context: SerialContext())
        let a = NaNLoss()
        trainer.accelerator = a
        let (x, y) = data(4)
        XCTAssertThrowsError(try trainer.step(x, y)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .nonFinite)
        }
        XCTAssertEqual(a.updates, 0)
        XCTAssertEqual(trainer.globalStep, 0)
    }
}
