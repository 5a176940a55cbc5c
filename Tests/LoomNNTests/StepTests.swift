import XCTest
import LoomCore
import LoomNN

/// Step-based execution (`StepState`, `StepTrainer`): the pipeline keeps each sample's identity, so
/// every reference network — every layer type, in native, rounded and quantized execution — gives
/// through the pipeline exactly the outputs of `Network.forward` and, through `stepBackward`, exactly
/// the gradients of a batch-of-one backward, bit for bit; for any chunk order and with concurrent stages.
final class StepTests: XCTestCase {
    /// Feeds `n` samples, one per tick, then drains; returns the outputs by tag (and stashes them).
    func pipeline<T: LoomFloat>(_ state: StepState<T>, _ x: Tensor<T>, context: ComputeContext, concurrent: Bool) throws -> [UInt64: Tensor<T>] {
        var out = [UInt64: Tensor<T>]()
        let n = x.batch
        for t in 0..<(n + state.latency - 1) {
            if t < n { try state.setInput(x.batchSlice(t..<(t + 1)), tag: UInt64(100 + t)) }
            if let (tag, y) = try state.stepForward(context: context, concurrent: concurrent) {
                XCTAssertEqual(tag, UInt64(100 + t - (state.latency - 1)), "a sample leaves L − 1 ticks after the tick it entered")
                out[tag] = y
            }
        }
        XCTAssertEqual(out.count, n, "every sample leaves the pipeline")
        XCTAssertEqual(state.occupancy.compactMap { $0 }, [], "the pipeline is drained")
        return out
    }

    func check(_ dtype: DType) throws {
        let n = 5
        for c in ReferenceNetworks.cases(dtype: dtype) {
            let x = ReferenceNetworks.input(c, batch: n, as: Float.self)
            // Inference: each output is Network.forward of that sample.
            let net = try Network<Float>(c.spec)
            for (context, concurrent) in [(SerialContext() as ComputeContext, false), (ShuffledContext(), true)] {
                let outs = try pipeline(try StepState(net, training: false), x, context: context, concurrent: concurrent)
                for t in 0..<n {
                    let want = try net.forward(x.batchSlice(t..<(t + 1)))
                    XCTAssertEqual(outs[UInt64(100 + t)]!.data.map(\.bits64), want.data.map(\.bits64), "\(c.name) sample \(t) forward")
                }
            }
            // Training: backward through the stashed activations of each tag equals a batch-of-one
            // training pass (dropout stream = the tag) and backward, accumulated in the same order.
            let stepped = try Network<Float>(c.spec), reference = try Network<Float>(c.spec)
            stepped.params.zeroGrads(); reference.params.zeroGrads()
            let state = try StepState(stepped, training: true)
            let outs = try pipeline(state, x, context: ShuffledContext(), concurrent: true)
            XCTAssertEqual(state.stashedTags, (0..<n).map { UInt64(100 + $0) })
            for t in [3, 0, 4, 1, 2] {
                let tag = UInt64(100 + t), xt = x.batchSlice(t..<(t + 1))
                let pass = reference.trainingPass(context: SerialContext(), step: tag)
                let y = try reference.forward(xt, pass: pass)
                XCTAssertEqual(outs[tag]!.data.map(\.bits64), y.data.map(\.bits64), "\(c.name) sample \(t) training forward")
                let target = ReferenceNetworks.target(c, output: reference.outputShape, batch: 1, as: Float.self)
                let (_, g) = try Loss.compute(c.loss, output: y, target: target)
                let dxRef = reference.backward(g, pass: pass)
                let dx = try state.stepBackward(tag: tag, outputGradient: g)
                if c.spec.layers.first.map({ if case .embedding = $0 { false } else { true } }) ?? true {
                    XCTAssertEqual(dx.data.map(\.bits64), dxRef.data.map(\.bits64), "\(c.name) sample \(t) input gradient")
                }
            }
            XCTAssertEqual(stepped.params.grads.map { $0.data.map(\.bits64) }, reference.params.grads.map { $0.data.map(\.bits64) },
                           "\(c.name): accumulated gradients")
            XCTAssertTrue(stepped.params.grads.contains { $0.data.contains { $0 != 0 } }, "\(c.name): some gradient is nonzero")
            XCTAssertEqual(state.stashedTags, [], "every stash entry used")
        }
    }

    /// Weight stashing: with the weights changed after every tick while samples are in flight, each
    /// sample's `stepBackward` gives exactly the gradients of the function it went through — stage i
    /// with the weights of the tick it ran stage i — bit for bit; without stashing it does not.
    func checkWeightStashing(_ cases: [ReferenceNetworks.Case]) throws {
        var staleDiffers = 0
        for c in cases {
            if c.spec.layers.contains(where: { if case .tiedDense = $0 { true } else { false } }) { continue }
            let n = 4
            let x = ReferenceNetworks.input(c, batch: n, as: Float.self)
            func run(stashing: Bool) throws -> (grads: [[[UInt64]]], dx: [[UInt64]], snapshots: [[Tensor<Float>]]) {
                let net = try Network<Float>(c.spec)
                let state = try StepState(net, training: true, weightStashing: stashing)
                var snapshots = [[Tensor<Float>]](), outs = [UInt64: Tensor<Float>]()
                for t in 0..<(n + state.latency - 1) {
                    if t < n { try state.setInput(x.batchSlice(t..<(t + 1)), tag: UInt64(t)) }
                    snapshots.append(net.params.values)
                    if let (tag, y) = try state.stepForward() { outs[tag] = y }
                    // An update after every tick: every weight moves.
                    for p in 0..<net.params.count { net.params.values[p].data = net.params.values[p].data.map { $0 * 0.96875 + 0.0078125 } }
                }
                var grads = [[[UInt64]]](), dxs = [[UInt64]]()
                for t in 0..<n {
                    let target = ReferenceNetworks.target(c, output: net.outputShape, batch: 1, as: Float.self)
                    let (_, g) = try Loss.compute(c.loss, output: outs[UInt64(t)]!, target: target)
                    net.params.zeroGrads()
                    dxs.append(try state.stepBackward(tag: UInt64(t), outputGradient: g).data.map(\.bits64))
                    grads.append(net.params.grads.map { $0.data.map(\.bits64) })
                }
                return (grads, dxs, snapshots)
            }
            let stashed = try run(stashing: true), stale = try run(stashing: false)
            // The reference: sample t entered at tick t, so stage i ran it at tick t + i.
            let ref = try Network<Float>(c.spec)
            let stageOf = ref.params.names.map { name in Int(name.split(separator: ".")[1])! }
            for t in 0..<n {
                for p in 0..<ref.params.count { ref.params.values[p] = stashed.snapshots[t + stageOf[p]][p] }
                ref.params.zeroGrads()
                let pass = ref.trainingPass(context: SerialContext(), step: UInt64(t))
                let y = try ref.forward(x.batchSlice(t..<(t + 1)), pass: pass)
                let target = ReferenceNetworks.target(c, output: ref.outputShape, batch: 1, as: Float.self)
                let (_, g) = try Loss.compute(c.loss, output: y, target: target)
                let dx = ref.backward(g, pass: pass)
                let want = ref.params.grads.map { $0.data.map(\.bits64) }
                XCTAssertEqual(stashed.grads[t], want, "\(c.name) sample \(t): parameter gradients with weight stashing")
                if case .embedding = c.spec.layers[0] {} else {
                    XCTAssertEqual(stashed.dx[t], dx.data.map(\.bits64), "\(c.name) sample \(t): input gradient with weight stashing")
                }
                if stale.grads[t] != want { staleDiffers += 1 }
            }
        }
        XCTAssertGreaterThan(staleDiffers, cases.count, "without stashing, backward uses newer weights than the forward did")
    }

    func testWeightStashingGivesTheGradientsOfWhatEachStageRan() throws {
        try checkWeightStashing(ReferenceNetworks.cases(dtype: .f32))
        try checkWeightStashing(Array(ReferenceNetworks.cases(dtype: .bf16).prefix(12)) + Array(ReferenceNetworks.cases(dtype: .i8).prefix(12)))
        let net = try Network<Float>(NetworkSpec(name: "w", dtype: .f32, seed: 1, inputShape: [2], layers: [.dense(units: 2, activation: .tanh, bias: true)]))
        XCTAssertThrowsError(try StepState(net, weightStashing: true)) { e in XCTAssertTrue("\(e)".contains("weight_stashing"), "\(e)") }
    }

    func testEveryReferenceNetworkSteppedEqualsBatchOfOne() throws { try check(.f32) }
    func testRoundedAndQuantizedExecutionStepped() throws {
        try check(.bf16)
        try check(.i8)
    }

    func testLatencyAndTagsFlowStageByStage() throws {
        let spec = NetworkSpec(name: "s", dtype: .f32, seed: 1, inputShape: [3],
                               layers: [.dense(units: 4, activation: .tanh, bias: true), .dense(units: 4, activation: .relu, bias: true),
                                        .dense(units: 2, activation: .linear, bias: true)])
        let state = try StepState(try Network<Float>(spec))
        XCTAssertEqual(state.latency, 3)
        try state.setInput(try! Tensor(shape: [3], data: [0.1, 0.2, 0.3]), tag: 7)
        XCTAssertNil(try state.stepForward())
        XCTAssertEqual(state.occupancy, [nil, 7, nil])
        XCTAssertEqual(try state.stageInput(1)?.value.shape, [1, 4])
        try state.setInput(try! Tensor(shape: [1, 3], data: [0.4, 0.5, 0.6]), tag: 8)
        XCTAssertNil(try state.stepForward())
        XCTAssertEqual(state.occupancy, [nil, 8, 7])
        XCTAssertEqual(try state.stepForward()?.tag, 7)
        XCTAssertEqual(try state.stepForward()?.tag, 8)
        XCTAssertEqual(state.output?.tag, 8)
        XCTAssertNil(try state.stepForward(), "an empty pipeline ticks idle")
        XCTAssertEqual(state.ticks, 5)
    }

    func testBadInputIsATypedError() throws {
        let spec = NetworkSpec(name: "s", dtype: .f32, seed: 1, inputShape: [3],
                               layers: [.dense(units: 2, activation: .tanh, bias: true), .dense(units: 2, activation: .linear, bias: true)])
        let net = try Network<Float>(spec)
        func expect(_ kind: LoomError.Kind, _ words: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { e in
                XCTAssertEqual((e as? LoomError)?.kind, kind, "\(e)")
                XCTAssertTrue("\(e)".contains(words), "\(e)")
            }
        }
        let state = try StepState(net, training: true, stashLimit: 2)
        expect(.invalidArgument, "never been given an input") { try state.stepForward() }
        expect(.shapeMismatch, "expected one sample [3]") { try state.setInput(try! Tensor(shape: [4], data: [1, 2, 3, 4]), tag: 0) }
        expect(.shapeMismatch, "expected one sample") { try state.setInput(try! Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]), tag: 0) }
        expect(.nonFinite, "input") { try state.setInput(try! Tensor(shape: [3], data: [1, .nan, 3]), tag: 0) }
        try state.setInput(try! Tensor(shape: [3], data: [1, 2, 3]), tag: 0)
        expect(.invalidArgument, "already holds sample 0") { try state.setInput(try! Tensor(shape: [3], data: [1, 2, 3]), tag: 1) }
        try state.stepForward()
        expect(.invalidArgument, "tag 0 is already") { try state.setInput(try! Tensor(shape: [3], data: [1, 2, 3]), tag: 0) }
        expect(.invalidArgument, "tag 0 has no stashed activations") { try state.stepBackward(tag: 0, outputGradient: try! Tensor(shape: [2], data: [1, 1])) }
        try state.stepForward()
        expect(.shapeMismatch, "gradient of one output [2]") { try state.stepBackward(tag: 0, outputGradient: try! Tensor(shape: [3], data: [1, 1, 1])) }
        XCTAssertNoThrow(try state.stepBackward(tag: 0, outputGradient: try! Tensor(shape: [2], data: [1, 1])))
        expect(.invalidArgument, "already used") { try state.stepBackward(tag: 0, outputGradient: try! Tensor(shape: [2], data: [1, 1])) }
        // The stash keeps the newest `stashLimit` samples.
        for t in 1...3 { try state.setInput(try! Tensor(shape: [3], data: [1, 2, Float(t)]), tag: UInt64(t)); try state.stepForward() }
        try state.stepForward()
        XCTAssertEqual(state.stashedTags, [2, 3])
        expect(.invalidArgument, "dropped past the stash limit of 2") { try state.stepBackward(tag: 1, outputGradient: try! Tensor(shape: [2], data: [1, 1])) }
        expect(.invalidArgument, "stage 5 does not exist") { _ = try state.stageInput(5) }
        let inference = try StepState(net)
        expect(.invalidArgument, "runs inference") { try inference.stepBackward(tag: 2, outputGradient: try! Tensor(shape: [2], data: [1, 1])) }
        expect(.invalidArgument, "must be positive") { _ = try StepState(net, stashLimit: 0) }
        expect(.invalidArgument, "must be positive") { _ = try StepTrainer(network: net, optimizer: .sgd(lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0), loss: .mse, updateEvery: 0) }
        // A learner refuses a bad target when it is fed, before the sample enters the pipeline.
        let learner = try StepTrainer(network: net, optimizer: .sgd(lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0), loss: .crossEntropy)
        let x = try Tensor<Float>(shape: [3], data: [1, 2, 3])
        expect(.invalidInput, "step target[0]") { try learner.tick(x, target: try! Tensor(shape: [1], data: [2])) }
        expect(.shapeMismatch, "one class index per row") { try learner.tick(x, target: try! Tensor(shape: [3], data: [0, 1, 0])) }
        XCTAssertEqual(learner.nextTag, 0)
        XCTAssertEqual(learner.state.occupancy, [nil, nil], "a refused target leaves the pipeline as it was")
        XCTAssertNil(try learner.tick(x, target: try! Tensor(shape: [1], data: [1])))
        let tweener = try StepTweenTrainer(network: net)
        expect(.invalidInput, "class 5 of row 0") { try tweener.tick(x, target: .classes([5])) }
        XCTAssertEqual(tweener.nextTag, 0)
    }

    /// StepBP learns a task online and its weights are the same bits for any chunk order and with
    /// concurrent stages; with `updateEvery` ≥ 1 it applies one update per that many samples.
    func testStepBPLearnsAndIsDeterministic() throws {
        let spec = NetworkSpec(name: "sine", dtype: .f32, seed: 3, inputShape: [8],
                               layers: [.dense(units: 16, activation: .tanh, bias: true), .dense(units: 16, activation: .tanh, bias: true),
                                        .dense(units: 1, activation: .linear, bias: true)])
        func window(_ t: Int) -> (Tensor<Float>, Tensor<Float>) {
            let xs = (0..<9).map { Float(sin(Double(t + $0) * 0.3)) }
            return (try! Tensor(shape: [8], data: Array(xs[0..<8])), try! Tensor(shape: [1, 1], data: [xs[8]]))
        }
        func train(_ context: ComputeContext, concurrent: Bool, updateEvery: Int) throws -> (hash: String, early: Double, late: Double, updates: Int) {
            let net = try Network<Float>(spec)
            let trainer = try StepTrainer(network: net, optimizer: .adamw(lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0),
                                          loss: .mse, updateEvery: updateEvery)
            var losses = [Double]()
            for t in 0..<600 {
                let (x, y) = window(t)
                if let done = try trainer.tick(x, target: y, context: context, concurrent: concurrent) { losses.append(done.result.double) }
            }
            while try trainer.flush(context: context, concurrent: concurrent) != nil {}
            XCTAssertEqual(losses.count, 600 - 2)
            let mean = { (s: ArraySlice<Double>) in s.reduce(0, +) / Double(s.count) }
            return (net.params.bitHash.hex, mean(losses[0..<100]), mean(losses[losses.count - 100..<losses.count]), trainer.updates)
        }
        let a = try train(SerialContext(), concurrent: false, updateEvery: 1)
        let b = try train(ShuffledContext(), concurrent: true, updateEvery: 1)
        XCTAssertEqual(a.hash, b.hash, "StepBP weights do not depend on chunk order or concurrent stages")
        XCTAssertEqual(a.updates, 600)
        XCTAssertLessThan(a.late, a.early / 5, "online training lowers the loss (early \(a.early), late \(a.late))")
        let c = try train(SerialContext(), concurrent: false, updateEvery: 4)
        XCTAssertEqual(c.updates, 150)
        XCTAssertNotEqual(c.hash, a.hash)
    }
}
