import LoomCore
import LoomNN
import XCTest

/// The original Loom's defects (study §12) that could reappear in a rewrite, each checked here or
/// in the test named in docs/original-bugs.md.
final class OriginalBugsTests: XCTestCase {
    /// The original's optimizers updated only `Kernel`/`Bias` fields, so RNN, LSTM, attention,
    /// SwiGLU, norms, embeddings and every parallel branch never trained. Here: after training,
    /// EVERY parameter of EVERY reference network has moved (they all receive gradients and all
    /// go through the one registry the optimizer walks).
    func testEveryParameterOfEveryLayerTrains() throws {
        let cases = ReferenceNetworks.cases(dtype: .f64)
        XCTAssertGreaterThan(cases.count, 40)
        for c in cases {
            let net = try Network<Double>(c.spec)
            let before = net.params.values.map { $0.data }
            // No weight decay: a parameter moves only if its gradient reaches it.
            var t = c.spec.training!
            t.optimizer = .adamw(lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0)
            let trainer = Trainer(network: net, spec: t, context: SerialContext())
            let x = ReferenceNetworks.input(c, batch: 8, as: Double.self)
            let y = ReferenceNetworks.target(c, output: net.outputShape, batch: 8, as: Double.self)
            for _ in 0..<3 { try trainer.step(x, y) }
            for i in 0..<net.params.count {
                XCTAssertNotEqual(net.params.values[i].data, before[i], "\(c.name): \(net.params.names[i]) did not train")
            }
        }
    }

    /// The original's `Train` ignored `GradientClip`. Here clipping by value bounds every
    /// gradient element before the update: with SGD (lr 1, no momentum) no weight moves by more
    /// than the clip value in one step.
    func testTrainingAppliesGradientClipping() throws {
        let spec = NetworkSpec(dtype: .f64, seed: 2, inputShape: [4],
                               layers: [.dense(units: 5, activation: .linear, bias: true), .dense(units: 2, activation: .linear, bias: true)],
                               training: TrainingSpec(loss: .mse, optimizer: .sgd(lr: 1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0),
                                                      clip: .value(1e-3)))
        let net = try Network<Double>(spec)
        let before = net.params.values.map { $0.data }
        let x = Tensor<Double>(uncheckedShape: [3, 4], data: (0..<12).map { Double($0) * 10 })
        let t = Tensor<Double>(uncheckedShape: [3, 2], data: [100, -100, 50, 20, -80, 90])
        try Trainer(network: net, spec: spec.training!, context: SerialContext()).step(x, t)
        var largest = 0.0
        for i in 0..<net.params.count { for j in 0..<before[i].count { largest = max(largest, abs(net.params.values[i].data[j] - before[i][j])) } }
        XCTAssertGreaterThan(largest, 0)
        XCTAssertLessThanOrEqual(largest, 1e-3 * (1 + 1e-12))
    }

    /// The original mapped "linear" and "none" to ReLU×1.1 and wrote GELU back as "linear". Here
    /// every activation name round-trips and "linear" is the identity.
    func testActivationNamesMeanWhatTheySay() throws {
        for name in Activation.allNames {
            let spec = try IRDecoder.decode(json: "{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": [2]}, \"layers\": [{\"type\": \"activation\", \"activation\": \"\(name)\"}]}")
            let again = try IRDecoder.decode(json: JSONValue.object(IREncoder.encode(spec)).serialized())
            XCTAssertEqual(spec, again, name)
        }
        let net = try Network<Float>(try IRDecoder.decode(json: "{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": [3]}, \"layers\": [{\"type\": \"activation\", \"activation\": \"linear\"}]}"))
        XCTAssertEqual(try net.forward(Tensor(shape: [1, 3], data: [-2, 0.5, 3])).data, [-2, 0.5, 3])
    }
}
