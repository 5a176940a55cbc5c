import LoomCore

/// Layer normalisation over the last axis (`F` features).
///
/// Canonical order per row: `mean = (x₀ + x₁ + … ) / F` (adds in index order, one division);
/// `d_i = x_i − mean`; `var = fma-chain Σ d_i·d_i / F`; `rstd = 1 / sqrt(var + ε)`;
/// `x̂_i = d_i · rstd`; `y_i = fma(x̂_i, w_i, b_i)` (affine) or `x̂_i`.
/// Backward (per row): `ĝ_i = dy_i·w_i`; `m1 = Σ ĝ_i / F`; `m2 = fma-chain Σ ĝ_i·x̂_i / F`;
/// `dx_i = rstd · (ĝ_i − m1 − x̂_i·m2)`; `dw_i += fma-chain over rows dy_i·x̂_i`; `db_i += Σ_rows dy_i`.
public final class NormLayer<T: LoomFloat>: Layer<T> {
    public let rms: Bool
    public let epsilon: Double
    public let features: Int
    public let weightIndex: Int?
    public let biasIndex: Int?

    public init(path: String, name: String, id: Int, inputShape: [Int], rms: Bool, epsilon: Double, affine: Bool,
                params: ParameterStore<T>) {
        self.rms = rms
        self.epsilon = epsilon
        let f = inputShape.last ?? 1
        self.features = f
        weightIndex = affine ? params.register(name + ".weight", shape: [f], Init.constant([f], T(1))) : nil
        biasIndex = (affine && !rms) ? params.register(name + ".bias", shape: [f], Init.constant([f], T(0))) : nil
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { rms ? "rms_norm" : "layer_norm" }
    public override var summary: String { "features \(features) eps \(epsilon)" + (weightIndex == nil ? " no-affine" : "") }
    public override var parameterIndices: [Int] { [weightIndex, biasIndex].compactMap { $0 } }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let f = features, eps = T(epsilon), rms = self.rms
        let fT = T(f)
        let w = weightIndex.map { pass.params.values[$0].data }
        let b = biasIndex.map { pass.params.values[$0].data }
        let rows = x.rows
        var rstds = [T](repeating: 0, count: rows)
        let xhat = rstds.withUnsafeMutableBufferPointer { rp in
            Elementwise.rows(pass.context, rows: rows, inWidth: f, outWidth: f, x.data) { row, xi, yo in
                var mean: T = 0
                if !rms {
                    var s: T = 0
                    for i in 0..<f { s += xi[i] }
                    mean = s / fT
                }
                var ss: T = 0
                for i in 0..<f { let d = xi[i] - mean; ss = ss.addingProduct(d, d) }
                let r = 1 / (ss / fT + eps).squareRoot()
                rp[row] = r
                for i in 0..<f { yo[i] = (xi[i] - mean) * r }
            }
        }
        var y = xhat
        if let w = w {
            y.withUnsafeMutableBufferPointer { yp in
                pass.context.parallelRanges(rows, minChunk: 64) { rr in
                    for row in rr {
                        for i in 0..<f {
                            let k = row * f + i
                            if let b = b { yp[k] = b[i].addingProduct(xhat[k], w[i]) } else { yp[k] = xhat[k] * w[i] }
                        }
                    }
                }
            }
        }
        pass.save(id, [Tensor(uncheckedShape: x.shape, data: xhat), Tensor(uncheckedShape: [rows], data: rstds)])
        return Tensor(uncheckedShape: x.shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let xhat = pass.saved[id][0].data, rstd = pass.saved[id][1].data
        let f = features, fT = T(f), rms = self.rms
        let rows = dy.rows
        let w = weightIndex.map { pass.params.values[$0].data }
        let dx = Elementwise.rows(pass.context, rows: rows, inWidth: f, outWidth: f, dy.data) { row, g, out in
            let base = row * f
            var m1: T = 0, m2: T = 0
            for i in 0..<f {
                let gh = w.map { g[i] * $0[i] } ?? g[i]
                m1 += gh
                m2 = m2.addingProduct(gh, xhat[base + i])
            }
            m1 = m1 / fT
            m2 = m2 / fT
            for i in 0..<f {
                let gh = w.map { g[i] * $0[i] } ?? g[i]
                out[i] = rms ? rstd[row] * (gh - xhat[base + i] * m2)
                             : rstd[row] * (gh - m1 - xhat[base + i] * m2)
            }
        }
        if let wi = weightIndex {
            dy.data.withUnsafeBufferPointer { gp in
                pass.params.grads[wi].data.withUnsafeMutableBufferPointer { dw in
                    pass.context.parallelRanges(f, minChunk: 64) { cols in
                        for i in cols {
                            var acc = dw[i]
                            for row in 0..<rows { acc = acc.addingProduct(gp[row * f + i], xhat[row * f + i]) }
                            dw[i] = acc
                        }
                    }
                }
            }
        }
        if let bi = biasIndex {
            dy.data.withUnsafeBufferPointer { gp in
                pass.params.grads[bi].data.withUnsafeMutableBufferPointer { db in
                    for i in 0..<f {
                        var acc = db[i]
                        for row in 0..<rows { acc += gp[row * f + i] }
                        db[i] = acc
                    }
                }
            }
        }
        return Tensor(uncheckedShape: dy.shape, data: dx)
    }
}
