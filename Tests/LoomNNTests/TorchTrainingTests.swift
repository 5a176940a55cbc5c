import LoomCore
import LoomNN
import XCTest

/// Losses, clipping, schedulers and optimizers against PyTorch (Fixtures/torch/losses.json and
/// optim.json, made by scripts/fixtures/).
final class TorchTrainingTests: XCTestCase {
    func testLossesMatchPyTorch() throws {
        let cases = try Fixture.json("Fixtures/torch/losses.json")["cases"]!.arrayValue!
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        for c in cases {
            let name = c["name"]!.stringValue!
            let kind = try XCTUnwrap(LossKind(rawValue: c["loss"]!.stringValue!), name)
            let (l, g) = try Loss.compute(kind, output: Fixture.tensor(c["logits"]), target: Fixture.tensor(c["target"]))
            XCTAssertEqual(l, c["value"]!.numberValue!.double!, accuracy: 1e-12 * Swift.max(1, abs(l)), name)
            assertClose(g, Fixture.tensor(c["grad"]), rtol: 1e-10, atol: 1e-14, "\(name) grad")
        }
    }

    func testClippingMatchesPyTorch() throws {
        let cases = try Fixture.json("Fixtures/torch/losses.json")["clipping"]!.arrayValue!
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        for c in cases {
            let name = c["name"]!.stringValue!
            let clipV = c["clip"]!
            let clip: GradientClip = clipV["norm"] != nil ? .norm(clipV["norm"]!.numberValue!.double!) : .value(clipV["value"]!.numberValue!.double!)
            let store = ParameterStore<Double>()
            let before = c["grads_before"]!.objectValue!, after = c["grads_after"]!.objectValue!
            for k in before.keys {
                let t: Tensor<Double> = Fixture.tensor(before[k])
                let i = store.register(k, shape: t.shape, Tensor(zeros: t.shape))
                store.grads[i] = t
            }
            clip.apply(store)
            for (i, k) in store.names.enumerated() {
                assertClose(store.grads[i], Fixture.tensor(after[k]), rtol: 1e-12, atol: 1e-15, "\(name) \(k)")
            }
        }
    }

    func testSchedulersMatchPyTorch() throws {
        let cases = try Fixture.json("Fixtures/torch/optim.json")["schedulers"]!.arrayValue!
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        var types = Set<String>()
        for c in cases {
            let name = c["name"]!.stringValue!
            let s = try TrainingDecoder.decodeScheduler(c["scheduler"]!, path: "scheduler")
            types.insert(s.typeName)
            let base = c["lr"]!.numberValue!.double!
            for (t, v) in c["lrs"]!.arrayValue!.enumerated() {
                let expected = v.numberValue!.double!
                XCTAssertEqual(s.lr(base: base, step: t), expected, accuracy: 1e-12 * Swift.max(abs(expected), 1e-3), "\(name) step \(t)")
            }
        }
        XCTAssertEqual(types, ["constant", "linear", "cosine", "cosine_restarts", "exponential", "step", "polynomial", "warmup"])
    }

    /// 50 full-batch steps per optimizer configuration: the loss at every step and the final
    /// parameters follow PyTorch's.
    func testOptimizersFollowPyTorch() throws {
        let cases = try Fixture.json("Fixtures/torch/optim.json")["training"]!.arrayValue!
        XCTAssertGreaterThanOrEqual(cases.count, 11)
        for c in cases {
            let name = c["name"]!.stringValue!
            let net = try Fixture.network(c, as: Double.self)
            let opt = try TrainingDecoder.decodeOptimizer(c["optimizer"]!, path: "optimizer")
            let sched = try c["scheduler"].map { try TrainingDecoder.decodeScheduler($0, path: "scheduler") } ?? .constant
            let spec = TrainingSpec(loss: LossKind(rawValue: c["loss"]!.stringValue!)!, optimizer: opt, scheduler: sched,
                                    epochs: 1, batchSize: 16, shuffle: false)
            let trainer = Trainer(network: net, spec: spec, context: SerialContext())
            let x: Tensor<Double> = Fixture.tensor(c["input"]), t: Tensor<Double> = Fixture.tensor(c["target"])
            for (step, expected) in c["losses"]!.arrayValue!.enumerated() {
                let (l, _) = try trainer.step(x, t)
                let e = expected.numberValue!.double!
                XCTAssertEqual(l, e, accuracy: 1e-9 * Swift.max(1, abs(e)), "\(name) loss at step \(step)")
            }
            let finals = c["final_params"]!.objectValue!
            for k in finals.keys {
                assertClose(net.params.values[net.params.index(of: k)!], Fixture.tensor(finals[k]), rtol: 1e-8, atol: 1e-10, "\(name) final \(k)")
            }
        }
    }
}
