import LoomCore

/// The gated feed-forward block of Llama-style transformers: `y = down(silu(gate(x)) ⊙ up(x))`.
///
/// Shapes: x `[rows…, in]`; `gate.weight`, `up.weight` `[hidden, in]`; `down.weight`
/// `[out, hidden]` (out = `units`, default in); biases `[hidden]`, `[hidden]`, `[out]` when
/// `bias`. y `[rows…, out]`.
/// Canonical order: `G = x·Wgᵀ + bg`, `U = x·Wuᵀ + bu`, `y = H·Wdᵀ + bd` as dense projections
/// (fma chains from the bias or +0, inputs in index order); `H = silu(G)·U` with
/// `silu(g) = g·sigmoid(g)` (the `silu` activation).
/// Backward: `dH = dy·Wd` (fma chain over out); `dU = dH·silu(G)`; `dG = (dH·U)·silu'(G)` with
/// silu' as the activation's derivative; weight/bias gradients as dense; `dx = fma chain over
/// hidden of dG·Wg, continued over hidden of dU·Wu` (one chain, gate terms first).
public final class SwiGLULayer<T: LoomFloat>: Layer<T> {
    public let inFeatures: Int
    public let hidden: Int
    public let units: Int
    /// Parameter indices of the three projections.
    public let gateW: Int, gateB: Int?, upW: Int, upB: Int?, downW: Int, downB: Int?

    /// `h = silu(g)·u` per element (the forward's gating).
    public static var gatedProgram: ScalarProgram {
        ScalarProgram(inputs: ["g", "u"], statements: [.init("x", .name("g")), .init("h", Activation.silu.forwardFormula * .name("u"))],
                      outputs: ["h"])
    }

    /// `du = dh·silu(g)`, `dg = (dh·u)·silu'(g)` per element (the backward through the gating).
    public static var gatedGradientProgram: ScalarProgram {
        let dh = ScalarExpr.name("dh")
        return ScalarProgram(inputs: ["dh", "g", "u"],
                             statements: [.init("x", .name("g")), .init("du", dh * Activation.silu.forwardFormula),
                                          .init("dg", (dh * .name("u")) * Activation.silu.derivativeFormula)],
                             outputs: ["du", "dg"])
    }

    public init(path: String, name: String, id: Int, inputShape: [Int], hidden: Int, units: Int?, bias: Bool,
                params: ParameterStore<T>, seed: UInt64) {
        let inF = inputShape.last ?? 1
        let out = units ?? inF
        self.inFeatures = inF
        self.hidden = hidden
        self.units = out
        func linear(_ sub: String, _ o: Int, _ i: Int) -> (Int, Int?) {
            let bound = 1.0 / Double(Swift.max(i, 1)).squareRoot()
            let n = name + "." + sub
            let w = params.register(n + ".weight", shape: [o, i], Init.uniform([o, i], bound: bound, seed: seed, name: n + ".weight"))
            let b = bias ? params.register(n + ".bias", shape: [o], Init.uniform([o], bound: bound, seed: seed, name: n + ".bias")) : nil
            return (w, b)
        }
        (gateW, gateB) = linear("gate", hidden, inF)
        (upW, upB) = linear("up", hidden, inF)
        (downW, downB) = linear("down", out, hidden)
        var shape = inputShape
        shape[shape.count - 1] = out
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: shape)
    }

    public override var typeName: String { "swiglu" }
    public override var summary: String { "\(inFeatures)→\(hidden)→\(units)" + (gateB == nil ? " no-bias" : "") }
    public override var parameterIndices: [Int] { [gateW, gateB, upW, upB, downW, downB].compactMap { $0 } }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let rows = x.rows, ctx = pass.context
        let g = Projection.forward(pass, x.data, rows: rows, inF: inFeatures, weight: gateW, outF: hidden, bias: gateB)
        let u = Projection.forward(pass, x.data, rows: rows, inF: inFeatures, weight: upW, outF: hidden, bias: upB)
        // h = silu(g)·u = (g·σ(g))·u, σ over whole chunks (DetFunction.map: the vector kernel where there is one).
        var h = [T](repeating: 0, count: g.count)
        g.withUnsafeBufferPointer { gb in
            u.withUnsafeBufferPointer { ub in
                h.withUnsafeMutableBufferPointer { hb in
                    let gp = gb.baseAddress!, up = ub.baseAddress!, hp = hb.baseAddress!
                    ctx.parallelRanges(g.count, minChunk: 4096) { r in
                        DetFunction.sigmoid.map(ctx, gp + r.lowerBound, hp + r.lowerBound, count: r.count)
                        for i in r { hp[i] = (gp[i] * hp[i]) * up[i] }
                    }
                }
            }
        }
        let y = Projection.forward(pass, h, rows: rows, inF: hidden, weight: downW, outF: units, bias: downB)
        var shape = x.shape
        shape[shape.count - 1] = units
        pass.save(id, [x, Tensor(uncheckedShape: [rows, hidden], data: g), Tensor(uncheckedShape: [rows, hidden], data: u),
                       Tensor(uncheckedShape: [rows, hidden], data: h)])
        return Tensor(uncheckedShape: shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let s = pass.saved[id]
        let x = s[0], g = s[1].data, u = s[2].data, h = s[3].data
        let rows = x.rows, ctx = pass.context
        let v = pass.params.values
        Projection.paramGrads(pass, dy.data, rows: rows, outF: units, h, inF: hidden, weight: downW, bias: downB)
        var dh = [T](repeating: 0, count: rows * hidden)
        Projection.inputGrad(ctx, dy.data, rows: rows, outF: units, v[downW].data, inF: hidden, into: &dh, accumulate: false)
        let du = Elementwise.zip(ctx, dh, g) { d, gi in d * Activation.silu.apply(gi) }
        var dg = [T](repeating: 0, count: rows * hidden)
        dg.withUnsafeMutableBufferPointer { dgp in
            ctx.parallelRanges(rows * hidden, minChunk: 4096) { r in
                for i in r {
                    // silu' needs only x (y is unused for silu)
                    dgp[i] = (dh[i] * u[i]) * Activation.silu.derivative(x: g[i], y: 0)
                }
            }
        }
        Projection.paramGrads(pass, dg, rows: rows, outF: hidden, x.data, inF: inFeatures, weight: gateW, bias: gateB)
        Projection.paramGrads(pass, du, rows: rows, outF: hidden, x.data, inF: inFeatures, weight: upW, bias: upB)
        var dx = [T](repeating: 0, count: rows * inFeatures)
        Projection.inputGrad(ctx, dg, rows: rows, outF: hidden, v[gateW].data, inF: inFeatures, into: &dx, accumulate: false)
        Projection.inputGrad(ctx, du, rows: rows, outF: hidden, v[upW].data, inF: inFeatures, into: &dx, accumulate: true)
        return Tensor(uncheckedShape: x.shape, data: dx)
    }
}
