import LoomCore

/// The linear projections shared by `dense`, `multi_head_attention` and `swiglu`, in dense's canonical
/// order (docs/numerics.md): `y[r,o] = fma-chain over i of x[r,i]·W[o,i]` starting from `b[o]`
/// (or +0); `dW[o,i] += fma-chain over rows r of g[r,o]·x[r,i]`; `db[o] += Σ_r g[r,o]` (rows in
/// order); `dx[r,i] = fma-chain over o of g[r,o]·W[o,i]`, continuing the chain of an earlier
/// projection when `accumulate` is true (so `dx = x-grad of projection 1, then 2, …` is one chain).
enum Projection {
    /// `x [rows, inF] · W[outF, inF]ᵀ + b` → `[rows, outF]` with parameters `weight` and `bias` of
    /// the pass (an integer product in quantized execution: `WeightProduct`).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(_ pass: Pass<T>, _ x: [T], rows: Int, inF: Int, weight: Int, outF: Int,
                                      bias: Int?) -> [T] {
        var y = [T](repeating: 0, count: rows * outF)
        if let bi = bias {
            let b = pass.params.values[bi].data
            y.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows { for o in 0..<outF { p[r * outF + o] = b[o] } }
            }
        }
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if WeightProduct.quantized(pass, weight: weight, x: xp.baseAddress!, rows: rows, cols: inF, rsX: inF, csX: 1,
                                           c: yp.baseAddress!, rsC: outF, csC: 1) { return }
                pass.params.values[weight].data.withUnsafeBufferPointer { wp in
                    Gemm.run(pass.context, GemmProblem(m: rows, n: outF, k: inF,
                                                       a: xp.baseAddress!, rsA: inF, csA: 1,
                                                       b: wp.baseAddress!, rsB: 1, csB: inF,
                                                       c: yp.baseAddress!, ldc: outF, accumulate: true))
                }
            }
        }
        return y
    }

    /// Adds `gᵀ·x` to the weight gradient and `Σ_r g[r,·]` to the bias gradient.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func paramGrads<T: LoomFloat>(_ pass: Pass<T>, _ g: [T], rows: Int, outF: Int, _ x: [T], inF: Int,
                                         weight: Int, bias: Int?) {
        let ctx = pass.context
        g.withUnsafeBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in
                pass.params.grads[weight].data.withUnsafeMutableBufferPointer { dwp in
                    Gemm.run(ctx, GemmProblem(m: outF, n: inF, k: rows,
                                              a: gp.baseAddress!, rsA: 1, csA: outF,
                                              b: xp.baseAddress!, rsB: inF, csB: 1,
                                              c: dwp.baseAddress!, ldc: inF, accumulate: true))
                }
            }
        }
        if let bi = bias {
            g.withUnsafeBufferPointer { gp in
                pass.params.grads[bi].data.withUnsafeMutableBufferPointer { dbp in
                    ctx.parallelRanges(outF, minChunk: 256) { r in
                        for row in 0..<rows {
                            let base = row * outF
                            for o in r { dbp[o] += gp[base + o] }
                        }
                    }
                }
            }
        }
    }

    /// `dx (+)= g [rows, outF] · W [outF, inF]`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func inputGrad<T: LoomFloat>(_ ctx: ComputeContext, _ g: [T], rows: Int, outF: Int, _ w: [T], inF: Int,
                                        into dx: inout [T], accumulate: Bool) {
        g.withUnsafeBufferPointer { gp in
            w.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    Gemm.run(ctx, GemmProblem(m: rows, n: inF, k: outF,
                                              a: gp.baseAddress!, rsA: outF, csA: 1,
                                              b: wp.baseAddress!, rsB: inF, csB: 1,
                                              c: dxp.baseAddress!, ldc: inF, accumulate: accumulate))
                }
            }
        }
    }
}
