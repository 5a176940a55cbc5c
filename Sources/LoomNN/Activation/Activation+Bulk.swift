import LoomCore

extension Activation {
    /// `apply` over a whole buffer (split across the context's threads), with the switch taken
    /// once per chunk so the piecewise-linear activations run as plain loops. Bits as `apply`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func applyAll<T: LoomFloat>(_ ctx: ComputeContext, _ x: [T]) -> [T] {
        var out = [T](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                let xp = xb.baseAddress!, op = ob.baseAddress!
                ctx.parallelRanges(x.count, minChunk: 4096) { r in
                    switch self {
                    case .linear: for i in r { op[i] = xp[i] }
                    case .relu: for i in r { let v = xp[i]; op[i] = (v > 0 || v.isNaN) ? v : 0 }
                    case .scaledReLU(let s):
                        let k = T(s)
                        for i in r { let v = xp[i]; op[i] = (v > 0 || v.isNaN) ? k * v : 0 }
                    case .leakyReLU(let a):
                        let k = T(a)
                        for i in r { let v = xp[i]; op[i] = v > 0 ? v : k * v }
                    case .sigmoid: DetFunction.sigmoid.map(ctx, xp + r.lowerBound, op + r.lowerBound, count: r.count)
                    case .tanh: DetFunction.tanh.map(ctx, xp + r.lowerBound, op + r.lowerBound, count: r.count)
                    case .silu:
                        DetFunction.sigmoid.map(ctx, xp + r.lowerBound, op + r.lowerBound, count: r.count)
                        for i in r { op[i] = xp[i] * op[i] }
                    case .gelu:
                        // x · 0.5 · (1 + erf(x · (1/√2))), the erf over the whole chunk
                        let k = T(0.70710678118654752440)
                        for i in r { op[i] = xp[i] * k }
                        DetFunction.erf.map(ctx, op + r.lowerBound, op + r.lowerBound, count: r.count)
                        for i in r { op[i] = xp[i] * 0.5 * (1 + op[i]) }
                    default: for i in r { op[i] = apply(xp[i]) }
                    }
                }
            }
        }
        return out
    }

    /// `g[i] = g[i]·derivative(x[i], y[i])` over a whole buffer (the chain rule through the
    /// activation), the switch taken once per chunk. Bits as the element-wise formula.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func backpropagate<T: LoomFloat>(_ ctx: ComputeContext, _ g: inout [T], x: [T], y: [T]) {
        g.withUnsafeMutableBufferPointer { gb in
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeBufferPointer { yb in
                    let gp = gb.baseAddress!, xp = xb.baseAddress!, yp = yb.baseAddress!
                    ctx.parallelRanges(gb.count, minChunk: 4096) { r in
                        switch self {
                        case .linear: for i in r { gp[i] = gp[i] * 1 }
                        case .relu: for i in r { gp[i] = gp[i] * (xp[i] > 0 ? 1 : 0) }
                        case .scaledReLU(let s):
                            let k = T(s)
                            for i in r { gp[i] = gp[i] * (xp[i] > 0 ? k : 0) }
                        case .leakyReLU(let a):
                            let k = T(a)
                            for i in r { gp[i] = gp[i] * (xp[i] > 0 ? 1 : k) }
                        default: for i in r { gp[i] = gp[i] * derivative(x: xp[i], y: yp[i]) }
                        }
                    }
                }
            }
        }
    }
}
