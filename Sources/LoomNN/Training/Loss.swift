import LoomCore

/// Loss functions. Each returns the mean loss and dL/d(output) for the mean.
///
/// Canonical orders (docs/numerics.md):
/// - `mse`: `L = (Σ_i (y_i − t_i)²) / N` with the sum an fma chain in index order;
///   `g_i = (2·(y_i − t_i)) / N`.
/// - `crossEntropy` (softmax fused, per row of C logits): `m = max x`; `s = Σ exp(x_j − m)` in
///   order; `lse = m + log s`; class target c: `ℓ = lse − x_c`; probability targets p:
///   `ℓ = Σ_j p_j·(lse − x_j)` (fma chain); `L = (Σ_rows ℓ) / R`;
///   `g_j = (exp(x_j − m)/s − p_j) / R`.
/// - `bce` (sigmoid fused, per element): `ℓ = max(x,0) − x·t + log1p(exp(−|x|))`;
///   `L = (Σ ℓ) / N`; `g = (sigmoid(x) − t) / N`.
public enum LossKind: String, Sendable, CaseIterable {
    case mse
    case crossEntropy = "cross_entropy"
    case bce
}

public enum Loss {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func compute<T: LoomFloat>(_ kind: LossKind, output y: Tensor<T>, target t: Tensor<T>,
                                             path: String = "target") throws(LoomError) -> (loss: T, grad: Tensor<T>) {
        let classTargets = try validate(kind, target: t, output: y.shape, path: path)
        switch kind {
        case .mse:
            let n = T(y.count)
            var s: T = 0
            var g = [T](repeating: 0, count: y.count)
            for i in 0..<y.count {
                let d = y.data[i] - t.data[i]
                s = s.addingProduct(d, d)
                g[i] = (2 * d) / n
            }
            return (s / n, Tensor(uncheckedShape: y.shape, data: g))
        case .crossEntropy:
            let c = y.lastDim, rows = y.rows
            let rT = T(rows)
            var total: T = 0
            var g = [T](repeating: 0, count: y.count)
            for r in 0..<rows {
                let base = r * c
                var m = -T.infinity
                for j in 0..<c { m = T.maximum(m, y.data[base + j]) }
                var s: T = 0
                for j in 0..<c { let e = T.detExp(y.data[base + j] - m); g[base + j] = e; s += e }
                let lse = m + T.detLog(s)
                var l: T = 0
                if classTargets {
                    let cls = Int(t.data[r])
                    l = lse - y.data[base + cls]
                    for j in 0..<c { g[base + j] = (g[base + j] / s - (j == cls ? 1 : 0)) / rT }
                } else {
                    for j in 0..<c {
                        let p = t.data[base + j]
                        l = l.addingProduct(p, lse - y.data[base + j])
                        g[base + j] = (g[base + j] / s - p) / rT
                    }
                }
                total += l
            }
            return (total / rT, Tensor(uncheckedShape: y.shape, data: g))
        case .bce:
            let n = T(y.count)
            var s: T = 0
            var g = [T](repeating: 0, count: y.count)
            for i in 0..<y.count {
                let x = y.data[i], tv = t.data[i]
                let l = (Swift.max(x, 0) - x * tv) + T.detLog1p(T.detExp(-Swift.abs(x)))
                s += l
                g[i] = (T.detSigmoid(x) - tv) / n
            }
            return (s / n, Tensor(uncheckedShape: y.shape, data: g))
        }
    }

    /// Checks a target against an output shape, with exactly the errors `compute` gives (so a
    /// learner can refuse a bad target when it is given, not when its sample's output exists).
    /// Returns whether the target is class indices (cross-entropy, one per row).
    public static func validate<T: LoomFloat>(_ kind: LossKind, target t: Tensor<T>, output shape: [Int],
                                              path: String = "target") throws(LoomError) -> Bool {
        let count = shape.reduce(1, *)
        switch kind {
        case .mse, .bce:
            guard t.count == count else {
                throw LoomError(.shapeMismatch, path, "\(kind.rawValue) needs targets shaped like the output \(Tensor<T>.describe(shape)), got \(Tensor<T>.describe(t.shape))")
            }
            return false
        case .crossEntropy:
            let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
            let classTargets = t.count == rows && !(t.count == count && c == 1)
            guard classTargets || t.count == count else {
                throw LoomError(.shapeMismatch, path, "cross_entropy needs one class index per row (\(rows)) or probability rows shaped like the output \(Tensor<T>.describe(shape)), got \(Tensor<T>.describe(t.shape))")
            }
            if classTargets {
                for r in 0..<rows {
                    let tv = t.data[r]
                    guard tv.isFinite, tv == tv.rounded(.towardZero), tv >= 0, tv < T(c) else {
                        throw LoomError(.invalidInput, "\(path)[\(r)]", "class index \(tv.double) is not an integer in 0..<\(c)")
                    }
                }
            }
            return classTargets
        }
    }

    /// Index of the largest value in each row (the first one on ties).
    public static func argmax<T: LoomFloat>(_ y: Tensor<T>) -> [Int] {
        let c = y.lastDim
        var out = [Int]()
        for r in 0..<y.rows {
            var best = 0
            for j in 1..<Swift.max(c, 1) where y.data[r * c + j] > y.data[r * c + best] { best = j }
            out.append(best)
        }
        return out
    }
}

/// Gradient clipping, as PyTorch's `clip_grad_value_` and `clip_grad_norm_`.
public enum GradientClip: Equatable, Sendable {
    /// Clamp every gradient element to [−v, v].
    case value(Double)
    /// Scale all gradients by `max_norm / (‖g‖₂ + 1e-6)` when that factor is < 1, where
    /// `‖g‖₂ = sqrt(Σ over parameters in registry order of (fma-chain Σ g²))` in Double.
    case norm(Double)

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func apply<T: LoomFloat>(_ params: ParameterStore<T>) {
        switch self {
        case .value(let v):
            let hi = T(v), lo = -T(v)
            for i in 0..<params.count {
                params.grads[i].data.withUnsafeMutableBufferPointer { g in
                    for j in 0..<g.count { g[j] = T.minimum(T.maximum(g[j], lo), hi) }
                }
            }
        case .norm(let maxNorm):
            var sums = [Double]()
            for i in 0..<params.count {
                var s = 0.0
                for g in params.grads[i].data { let d = g.double; s = s.addingProduct(d, d) }
                sums.append(s)
            }
            if let coef = GradientClip.normScale(maxNorm: maxNorm, sumsOfSquares: sums) {
                let c = T(coef)
                for i in 0..<params.count {
                    params.grads[i].data.withUnsafeMutableBufferPointer { g in
                        for j in 0..<g.count { g[j] = g[j] * c }
                    }
                }
            }
        }
    }
}
