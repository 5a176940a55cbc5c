import LoomCore

/// A fully connected layer: `y = act(x · Wᵀ + b)` on the last axis.
///
/// Shapes: x `[rows…, in]`, W `[out, in]` (PyTorch layout), b `[out]`, y `[rows…, out]`.
/// Canonical order (docs/numerics.md): for each output, `acc = b[o]` (or +0 without bias), then
/// `acc = fma(x[i], W[o,i], acc)` for i = 0…in−1, then `y = act(acc)`.
/// Backward: `g = dy ⊙ act'(pre)`; `dW[o,i] += Σ_r g[r,o]·x[r,i]` (fma chain over rows r in
/// order); `db[o] += Σ_r g[r,o]` (adds in row order); `dx[r,i] = Σ_o g[r,o]·W[o,i]` (fma chain over o).
/// `stitch` is this layer with a linear activation.
public final class DenseLayer<T: LoomFloat>: Layer<T> {
    public let inFeatures: Int
    public let units: Int
    public let activation: Activation
    public let weightIndex: Int
    public let biasIndex: Int?
    public let isStitch: Bool

    public init(path: String, name: String, id: Int, inputShape: [Int], units: Int, activation: Activation,
                bias: Bool, stitch: Bool, params: ParameterStore<T>, seed: UInt64) {
        let inF = inputShape.last ?? 1
        self.inFeatures = inF
        self.units = units
        self.activation = activation
        self.isStitch = stitch
        // PyTorch's default: U(−1/√in, 1/√in) for weight and bias.
        let bound = 1.0 / Double(Swift.max(inF, 1)).squareRoot()
        weightIndex = params.register(name + ".weight",
                                      Init.uniform([units, inF], bound: bound, seed: seed, name: name + ".weight"))
        biasIndex = bias ? params.register(name + ".bias",
                                           Init.uniform([units], bound: bound, seed: seed, name: name + ".bias")) : nil
        var out = inputShape
        if out.isEmpty { out = [units] } else { out[out.count - 1] = units }
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: out)
    }

    public override var typeName: String { isStitch ? "stitch" : "dense" }
    public override var summary: String {
        "\(inFeatures)→\(units)" + (activation.isLinear ? "" : " \(activation.name)") + (biasIndex == nil ? " no-bias" : "")
    }
    public override var parameterIndices: [Int] { biasIndex.map { [weightIndex, $0] } ?? [weightIndex] }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let rows = x.rows
        var pre = [T](repeating: 0, count: rows * units)
        if let bi = biasIndex {
            let b = pass.params.values[bi].data
            pre.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows { for o in 0..<units { p[r * units + o] = b[o] } }
            }
        }
        let w = pass.params.values[weightIndex].data
        x.data.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                pre.withUnsafeMutableBufferPointer { cp in
                    Gemm.run(pass.context, GemmProblem(
                        m: rows, n: units, k: inFeatures,
                        a: xp.baseAddress!, rsA: inFeatures, csA: 1,
                        b: wp.baseAddress!, rsB: 1, csB: inFeatures,
                        c: cp.baseAddress!, ldc: units, accumulate: true))
                }
            }
        }
        var shape = x.shape
        shape[shape.count - 1] = units
        let preT = Tensor(uncheckedShape: shape, data: pre)
        if activation.isLinear {
            pass.save(id, [x])
            return preT
        }
        let act = activation
        let y = Tensor(uncheckedShape: shape, data: Elementwise.map(pass.context, pre) { act.apply($0) })
        pass.save(id, [x, preT, y])
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let saved = pass.saved[id]
        let x = saved[0]
        let rows = x.rows
        var g = dy.data
        if !activation.isLinear {
            let act = activation
            let pre = saved[1].data, y = saved[2].data
            g.withUnsafeMutableBufferPointer { gp in
                pre.withUnsafeBufferPointer { pp in
                    y.withUnsafeBufferPointer { yp in
                        pass.context.parallelRanges(gp.count, minChunk: 4096) { r in
                            for i in r { gp[i] = gp[i] * act.derivative(x: pp[i], y: yp[i]) }
                        }
                    }
                }
            }
        }
        let ctx = pass.context
        let inF = inFeatures, units = self.units
        // dW += gᵀ · x
        g.withUnsafeBufferPointer { gp in
            x.data.withUnsafeBufferPointer { xp in
                pass.params.grads[weightIndex].data.withUnsafeMutableBufferPointer { dwp in
                    Gemm.run(ctx, GemmProblem(
                        m: units, n: inF, k: rows,
                        a: gp.baseAddress!, rsA: 1, csA: units,
                        b: xp.baseAddress!, rsB: inF, csB: 1,
                        c: dwp.baseAddress!, ldc: inF, accumulate: true))
                }
            }
        }
        if let bi = biasIndex {
            // db[o] += g[0,o] + g[1,o] + … (rows in order); rows outer keeps memory access contiguous.
            g.withUnsafeBufferPointer { gp in
                pass.params.grads[bi].data.withUnsafeMutableBufferPointer { dbp in
                    ctx.parallelRanges(units, minChunk: 256) { r in
                        for row in 0..<rows {
                            let base = row * units
                            for o in r { dbp[o] += gp[base + o] }
                        }
                    }
                }
            }
        }
        // dx = g · W
        var dx = [T](repeating: 0, count: rows * inF)
        let w = pass.params.values[weightIndex].data
        g.withUnsafeBufferPointer { gp in
            w.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    Gemm.run(ctx, GemmProblem(
                        m: rows, n: inF, k: units,
                        a: gp.baseAddress!, rsA: units, csA: 1,
                        b: wp.baseAddress!, rsB: inF, csB: 1,
                        c: dxp.baseAddress!, ldc: inF, accumulate: false))
                }
            }
        }
        return Tensor(uncheckedShape: x.shape, data: dx)
    }
}
