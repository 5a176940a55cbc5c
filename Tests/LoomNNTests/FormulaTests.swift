import LoomCore
import LoomNN
import XCTest

/// The `ScalarExpr` formulas that device backends print as kernel source must be the CPU's
/// definitions: each is evaluated here and compared bit for bit with the hand-written loops.
final class FormulaTests: XCTestCase {
    static let activations: [Activation] = [.linear, .relu, .scaledReLU(scale: 1.1), .leakyReLU(slope: 0.01), .sigmoid, .tanh,
                                            .softplus(threshold: 20), .softplus(threshold: 3), .gelu, .geluTanh, .silu, .mish,
                                            .elu(alpha: 1), .elu(alpha: 0.5), .selu]

    /// Special values, then a Philox spread over [−50, 50] and over a wide range of magnitudes.
    static func inputs<T: LoomFloat>(_: T.Type) -> [T] {
        var v: [T] = [0, -0, 1, -1, 0.5, -0.5, 20, 20.5, 19.5, -20, 40, -40, 88, -88, 700, -700, 1e-30, -1e-30,
                      T.leastNonzeroMagnitude, -T.leastNonzeroMagnitude, T.greatestFiniteMagnitude, -T.greatestFiniteMagnitude,
                      T.infinity, -T.infinity, T.nan]
        let rng = Philox(seed: 77), stream = StreamID.of("formula-inputs")
        for i in 0..<4000 {
            let x = rng.uniformDouble(stream: stream, index: UInt64(i)) * 2 - 1
            v.append(T(i % 2 == 0 ? x * 50 : x * DetMath.exp(Double(i % 60 - 30))))
        }
        return v
    }

    func same<T: LoomFloat>(_ a: T, _ b: T) -> Bool { a.bits64 == b.bits64 || (a.isNaN && b.isNaN) }

    func checkActivations<T: LoomFloat>(_: T.Type) {
        let xs = FormulaTests.inputs(T.self)
        let ctx = SerialContext()
        for act in FormulaTests.activations {
            let fwd = act.forwardProgram, bwd = act.backwardProgram
            let bulk = act.applyAll(ctx, xs)
            var gs = xs.map { $0 * T(0.75) + T(0.125) }
            let g0 = gs
            act.backpropagate(ctx, &gs, x: xs, y: bulk)
            var bad = 0
            for (i, x) in xs.enumerated() {
                let y: T = fwd.evaluate(inputs: [x], scalars: [])[0]
                if !same(y, act.apply(x)) || !same(y, bulk[i]) { bad += 1 }
                let g: T = bwd.evaluate(inputs: [g0[i], x, bulk[i]], scalars: [])[0]
                if !same(g, gs[i]) { bad += 1 }
            }
            XCTAssertEqual(bad, 0, "\(act.name) \(T.dtype.name): formula differs from the CPU definition")
        }
    }

    func testActivationFormulasEqualTheCPU() {
        checkActivations(Float.self)
        checkActivations(Double.self)
    }

    func checkOptimizer<T: LoomFloat>(_ spec: OptimizerSpec, _: T.Type) {
        let shape = [97]
        let params = ParameterStore<T>()
        let init0: Tensor<T> = Init.uniform(shape, bound: 1, seed: 5, name: "p")
        _ = params.register("p", shape: shape, init0)
        let opt = Optimizer<T>(spec)
        let prog = spec.updateProgram
        // Mirror of the state, updated by the program.
        var p = init0.data
        var state = [String: [T]]()
        for s in spec.slotNames { state[s] = [T](repeating: 0, count: 97) }
        for step in 0..<4 {
            let g: Tensor<T> = Init.uniform(shape, bound: 2, seed: UInt64(10 + step), name: "g")
            params.grads[0] = g
            let lr = 0.01 * Double(step + 1)
            opt.step(params, lr: lr, context: SerialContext())
            let sc: [T] = spec.updateScalars(lr: lr, step: step + 1, first: step == 0)
            for i in 0..<97 {
                var ins = [T]()
                for name in prog.inputs {
                    switch name {
                    case "p": ins.append(p[i])
                    case "g": ins.append(g.data[i])
                    default: ins.append(state[name]![i])
                    }
                }
                let out = prog.evaluate(inputs: ins, scalars: sc)
                for (name, v) in zip(prog.outputs, out) {
                    if name == "p" { p[i] = v } else { state[name]![i] = v }
                }
            }
            XCTAssertEqual(p.map(\.bits64), params.values[0].data.map(\.bits64), "\(spec) step \(step): parameters differ")
            for (si, s) in spec.slotNames.enumerated() where prog.outputs.contains(s) {
                XCTAssertEqual(state[s]!.map(\.bits64), opt.slots[0][si].data.map(\.bits64), "\(spec) step \(step): \(s) differs")
            }
        }
    }

    func testOptimizerProgramsEqualTheCPU() {
        let specs: [OptimizerSpec] = [
            .sgd(lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0),
            .sgd(lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01),
            .sgd(lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0),
            .adamw(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
            .adamw(lr: 1e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0),
            .rmsprop(lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0),
            .rmsprop(lr: 0.01, alpha: 0.9, eps: 1e-8, momentum: 0.5, centered: true, weightDecay: 0.1),
        ]
        for s in specs {
            checkOptimizer(s, Float.self)
            checkOptimizer(s, Double.self)
        }
    }

    /// Clipping by value and the scale of norm clipping, as programs, equal `GradientClip.apply`
    /// (NaN and ±0 gradients included).
    func testClipProgramsEqualApply() {
        for clip in [GradientClip.value(0.3), .norm(0.5)] {
            let params = ParameterStore<Float>()
            _ = params.register("w", shape: [97], Tensor<Float>(zeros: [97]))
            var g = FormulaTests.inputs(Float.self).prefix(97).map { $0 }
            g[3] = -0.0
            params.grads[0] = Tensor(uncheckedShape: [97], data: g)
            if case .norm = clip { params.grads[0] = Tensor(uncheckedShape: [97], data: g.map { $0.isFinite ? $0 : 1 }) }
            let before = params.grads[0].data
            clip.apply(params)
            let expected: [Float]
            switch clip {
            case .value(let v):
                expected = before.map { GradientClip.clampProgram.evaluate(inputs: [$0], scalars: [-Float(v), Float(v)])[0] }
            case .norm(let m):
                let sum = before.reduce(0.0) { $0.addingProduct($1.double, $1.double) }
                let c = GradientClip.normScale(maxNorm: m, sumsOfSquares: [sum])!
                expected = before.map { GradientClip.scaleProgram.evaluate(inputs: [$0], scalars: [Float(c)])[0] }
            }
            XCTAssertEqual(expected.map(\.bits64), params.grads[0].data.map(\.bits64), "\(clip)")
            XCTAssertNotEqual(before.map(\.bits64), params.grads[0].data.map(\.bits64), "\(clip) changed something")
        }
    }

    /// Dropout's mask program gives the layer's forward and backward bits.
    func testDropoutMaskProgramEqualsTheLayer() throws {
        let spec = NetworkSpec(name: "drop", dtype: .f32, seed: 21, inputShape: [40], layers: [.dropout(rate: 0.3)])
        let net = try Network<Float>(spec)
        let layer = try XCTUnwrap(net.root.layers[0] as? DropoutLayer<Float>)
        var xs = FormulaTests.inputs(Float.self).filter(\.isFinite).prefix(120).map { $0 }
        xs[0] = -0.0
        let x = Tensor<Float>(uncheckedShape: [3, 40], data: xs)
        let pass = net.trainingPass(context: SerialContext(), step: 3)
        let y = try net.forward(x, pass: pass)
        let dy = Tensor<Float>(uncheckedShape: [3, 40], data: xs.reversed())
        let dx = net.backward(dy, pass: pass)
        let mask = layer.mask(count: 120, seed: spec.seed, step: 3)
        XCTAssertTrue(mask.contains(0) && mask.contains { $0 != 0 })
        let p = DropoutLayer<Float>.maskProgram
        XCTAssertEqual((0..<120).map { p.evaluate(inputs: [xs[$0], mask[$0]], scalars: [])[0].bits64 }, y.data.map(\.bits64))
        XCTAssertEqual((0..<120).map { p.evaluate(inputs: [dy.data[$0], mask[$0]], scalars: [])[0].bits64 }, dx.data.map(\.bits64))
    }

    /// The containers' element-wise programs are `Elementwise.add`'s `a + b`, and `ParallelLayer`'s
    /// products and `T(1/n)` scaling: checked through a parallel layer's forward on the CPU.
    func testElementwiseProgramsEqualParallelCombines() throws {
        let xs = FormulaTests.inputs(Float.self).filter(\.isFinite).prefix(60).map { $0 * 1e-3 }
        for mode in [CombineMode.add, .multiply, .average] {
            let branches: [LayerSpec] = [.dense(units: 5, activation: .tanh, bias: true), .dense(units: 5, activation: .linear, bias: true),
                                         .dense(units: 5, activation: .sigmoid, bias: false)]
            let spec = NetworkSpec(name: "p", dtype: .f32, seed: 4, inputShape: [6],
                                   layers: [.parallel(ParallelSpec(branches: branches, combine: mode))])
            let net = try Network<Float>(spec)
            let x = Tensor<Float>(uncheckedShape: [10, 6], data: xs)
            let y = try net.forward(x)
            let outs = try net.root.layers[0].children.map { b -> Tensor<Float> in
                return try b.forward(x, net.trainingPass(context: SerialContext(), step: 0))
            }
            var acc = outs[0].data
            let f = mode == .multiply ? ElementwiseProgram.product : ElementwiseProgram.sum
            for o in outs.dropFirst() { acc = zip(acc, o.data).map { f.evaluate(inputs: [$0.0, $0.1], scalars: [])[0] } }
            if mode == .average { acc = acc.map { ElementwiseProgram.scale.evaluate(inputs: [$0], scalars: [Float(1.0 / 3.0)])[0] } }
            XCTAssertEqual(acc.map(\.bits64), y.data.map(\.bits64), "\(mode)")
        }
    }

    /// SwiGLU's gating programs are the layer's `silu(g)·u`, `dh·silu(g)` and `(dh·u)·silu'(g)`.
    func testSwiGLUProgramsEqualTheLayerFormulas() {
        let xs = FormulaTests.inputs(Float.self)
        var bad = 0
        for i in 0..<(xs.count - 2) {
            let g = xs[i], u = xs[i + 1], dh = xs[i + 2]
            let h: Float = SwiGLULayer<Float>.gatedProgram.evaluate(inputs: [g, u], scalars: [])[0]
            let r: [Float] = SwiGLULayer<Float>.gatedGradientProgram.evaluate(inputs: [dh, g, u], scalars: [])
            if !same(h, Activation.silu.apply(g) * u) { bad += 1 }
            if !same(r[0], dh * Activation.silu.apply(g)) { bad += 1 }
            if !same(r[1], (dh * u) * Activation.silu.derivative(x: g, y: 0)) { bad += 1 }
        }
        XCTAssertEqual(bad, 0)
    }

    /// A formula that differs from the definition is caught (the check above can fail).
    func testAChangedFormulaIsCaught() {
        let wrong = ScalarProgram(inputs: ["x"], statements: [.init("y", .name("x") * .call(.sigmoid, .name("x")) + .c(0))],
                                  outputs: ["y"])
        let xs = FormulaTests.inputs(Float.self)
        let differs = xs.contains { x in
            let a: Float = wrong.evaluate(inputs: [x], scalars: [])[0]
            return !same(a, Activation.silu.apply(x))
        }
        XCTAssertTrue(differs, "adding +0 turns −0 results into +0, so the comparison must see it")
    }
}
