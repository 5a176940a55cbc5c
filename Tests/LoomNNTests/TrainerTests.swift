import LoomCore
import LoomNN
import XCTest

final class TrainerTests: XCTestCase {
    func blobs(_ n: Int) -> (Tensor<Float>, Tensor<Float>) {
        var seq = PhiloxSequence(seed: 5)
        var x = [Float](), y = [Float]()
        for i in 0..<n {
            let c = i % 3
            for d in 0..<4 { x.append(Float(d == c ? 2 : 0) + Float(Double(seq.next() >> 11) * 0x1p-53) - 0.5) }
            y.append(Float(c))
        }
        return (Tensor(uncheckedShape: [n, 4], data: x), Tensor(uncheckedShape: [n], data: y))
    }

    func spec(_ t: TrainingSpec) -> NetworkSpec {
        NetworkSpec(name: "blobs", dtype: .f32, seed: 3, inputShape: [4],
                    layers: [.dense(units: 8, activation: .relu, bias: true), .dense(units: 3, activation: .linear, bias: true)], training: t)
    }

    func testFitLearnsSplitsAndIsReproducible() throws {
        let (x, y) = blobs(120)
        let t = TrainingSpec(loss: .crossEntropy, optimizer: .adamw(lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0),
                             epochs: 15, batchSize: 16, validationSplit: 0.25)
        var hashes = [String]()
        for _ in 0..<2 {
            let net = try Network<Float>(spec(t))
            let trainer = Trainer(network: net, spec: t, context: SerialContext())
            var batches = 0
            let h = try trainer.fit(inputs: x, targets: y, progress: { _ in batches += 1 })
            XCTAssertEqual(h.epochs.count, 15)
            XCTAssertEqual(batches, 15 * 6, "90 training samples in batches of 16")
            XCTAssertGreaterThan(h.epochs.last!.validationAccuracy!, 0.95)
            XCTAssertLessThan(h.epochs.last!.trainLoss, h.epochs.first!.trainLoss)
            let (train, val) = trainer.split(120)
            XCTAssertEqual(val.count, 30)
            XCTAssertEqual(Set(train).union(val).count, 120)
            hashes.append(net.params.bitHash.hex)
        }
        XCTAssertEqual(hashes[0], hashes[1], "the same seed gives the same weights")
    }

    func testEarlyStoppingStopsWhenValidationStopsImproving() throws {
        let (x, y) = blobs(60)
        let t = TrainingSpec(loss: .crossEntropy, optimizer: .sgd(lr: 1e-9, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0),
                             epochs: 50, batchSize: 8, validationSplit: 0.2, earlyStopping: .init(patience: 2, minDelta: 0.01))
        let net = try Network<Float>(spec(t))
        let h = try Trainer(network: net, spec: t, context: SerialContext()).fit(inputs: x, targets: y)
        XCTAssertTrue(h.stoppedEarly)
        XCTAssertEqual(h.epochs.count, 3, "no improvement beyond min_delta after the first epoch, patience 2")
    }

    func testMismatchedTargetsAreErrors() throws {
        let (x, _) = blobs(10)
        let t = TrainingSpec(loss: .crossEntropy)
        let net = try Network<Float>(spec(t))
        let trainer = Trainer(network: net, spec: t, context: SerialContext())
        XCTAssertThrowsError(try trainer.fit(inputs: x, targets: Tensor(uncheckedShape: [9], data: [Float](repeating: 0, count: 9))))
        XCTAssertThrowsError(try trainer.step(x, Tensor(uncheckedShape: [10], data: [Float](repeating: 7, count: 10)))) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidInput, "class 7 of 3")
        }
    }

    /// Dropout: about `rate` of the elements are zeroed, the rest scaled by 1/(1−rate); the mask is a
    /// function of (seed, layer, step), so the same step repeats it and backward uses it.
    func testDropoutMaskScalingAndGradient() throws {
        let spec = NetworkSpec(dtype: .f64, seed: 8, inputShape: [1000], layers: [.dropout(rate: 0.3)])
        let net = try Network<Double>(spec)
        let x = Tensor<Double>(uncheckedShape: [2, 1000], data: [Double](repeating: 1, count: 2000))
        let p1 = net.trainingPass(context: SerialContext(), step: 4)
        let y1 = try net.forward(x, pass: p1)
        let y2 = try net.forward(x, pass: net.trainingPass(context: SerialContext(), step: 4))
        let y3 = try net.forward(x, pass: net.trainingPass(context: SerialContext(), step: 5))
        XCTAssertEqual(y1, y2)
        XCTAssertNotEqual(y1, y3)
        let dropped = y1.data.filter { $0 == 0 }.count
        XCTAssertEqual(Double(dropped) / 2000, 0.3, accuracy: 0.04)
        XCTAssertTrue(y1.data.allSatisfy { $0 == 0 || $0 == 1 / 0.7 })
        let dx = net.backward(Tensor(uncheckedShape: [2, 1000], data: [Double](repeating: 2, count: 2000)), pass: p1)
        for i in 0..<2000 { XCTAssertEqual(dx.data[i], y1.data[i] * 2) }
        XCTAssertEqual(try net.forward(x), x, "inference is the identity")
    }
}
