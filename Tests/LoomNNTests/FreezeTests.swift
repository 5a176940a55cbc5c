import LoomCore
import LoomNN
import XCTest

/// Frozen parameters keep their bits and their optimizer state does not advance.
final class FreezeTests: XCTestCase {
    func testFrozenParametersDoNotMoveAndKeepTheirOwnStepCount() throws {
        let spec = NetworkSpec(dtype: .f64, seed: 11, inputShape: [3],
                               layers: [.dense(units: 4, activation: .tanh, bias: true), .dense(units: 2, activation: .linear, bias: true)],
                               training: TrainingSpec(loss: .mse, optimizer: .adamw(lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01)))
        let net = try Network<Double>(spec)
        XCTAssertEqual(net.params.setFrozen(true, prefix: "layers.0"), 2)
        XCTAssertEqual(net.params.setFrozen(true, prefix: "layers.1.weigh"), 0, "prefixes match whole name components")
        let before = net.params.values.map { $0.data }
        let trainer = Trainer(network: net, spec: spec.training!, context: SerialContext())
        let x: Tensor<Double> = Init.uniform([5, 3], bound: 1, seed: 1, name: "x")
        let t: Tensor<Double> = Init.uniform([5, 2], bound: 1, seed: 2, name: "t")
        for _ in 0..<3 { try trainer.step(x, t) }
        XCTAssertEqual(net.params.values[0].data, before[0])
        XCTAssertEqual(net.params.values[1].data, before[1])
        XCTAssertNotEqual(net.params.values[2].data, before[2])
        XCTAssertEqual(trainer.optimizer.parameterSteps, [0, 0, 3, 3])
        net.params.setFrozen(false, prefix: "layers.0")
        try trainer.step(x, t)
        XCTAssertNotEqual(net.params.values[0].data, before[0])
        XCTAssertEqual(trainer.optimizer.parameterSteps, [1, 1, 4, 4])
        // The per-parameter steps survive save and load.
        let reloaded = try AnyNetwork.load(json: ModelCodec.encode(net, optimizer: trainer.optimizer))
        guard case .f64(_, let opt?) = reloaded else { return XCTFail("no optimizer state after reload") }
        XCTAssertEqual(opt.parameterSteps, [1, 1, 4, 4])
        XCTAssertEqual(opt.stepCount, 4)
    }
}
