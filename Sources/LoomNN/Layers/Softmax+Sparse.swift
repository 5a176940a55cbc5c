import LoomCore

/// Sparsemax (Martins & Astudillo 2016): the Euclidean projection of x onto the simplex,
/// `y_i = max(x_i − τ, 0)`.
///
/// Canonical order per row of n: `z` = x sorted in descending order; one cumulative sum
/// `c_k = c_{k−1} + z_k` (c₀ = +0, k = 1…n); the support size `k*` is the last k with
/// `1 + T(k)·z_k > c_k` (product rounded, then the sum); `τ = (c_{k*} − 1) / T(k*)`;
/// `y_i = max(x_i − τ, 0)`. The outputs sum to 1 up to rounding.
/// Backward: S = {i : y_i > 0}; `v = (Σ_{i∈S} dy_i) / T(|S|)` (index order);
/// `dx_i = dy_i − v` on S, `+0` elsewhere.
enum Sparsemax {
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func threshold<T: LoomFloat>(_ x: UnsafePointer<T>, n: Int) -> T {
        var z = [T](repeating: 0, count: n)
        for i in 0..<n { z[i] = x[i] }
        z.sort { $0 > $1 }
        var c: T = 0, cStar: T = 0
        var kStar = 1
        for k in 1...n {
            c += z[k - 1]
            if 1 + T(k) * z[k - 1] > c { kStar = k; cStar = c }
        }
        return (cStar - 1) / T(kStar)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, n: Int) {
        let tau = threshold(x, n: n)
        for i in 0..<n {
            let d = x[i] - tau
            y[i] = d > 0 ? d : 0
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: LoomFloat>(_ dy: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, n: Int) {
        var s: T = 0
        var count = 0
        for i in 0..<n where y[i] > 0 { s += dy[i]; count += 1 }
        let v = count > 0 ? s / T(count) : 0
        for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] - v : 0 }
    }
}

/// α-entmax (Peters, Niculae & Martins 2019) for α ∈ (1, 2]: `y_i = [(α−1)·x_i − τ]₊^{1/(α−1)}`
/// with τ such that Σ y = 1, found by bisection with a fixed number of steps (`iterations`).
///
/// Canonical order per row of n, with `a = T(α − 1)` and `e = T(1/(α − 1))` (Double, rounded once):
/// `z_i = x_i·a`; `m = max z`; `lo = m − 1`; `d = (m − T(n^(1−α))) − lo` (n^(1−α) by DetMath.pow
/// in Double); then `iterations` times: `d = d/2`; `t = lo + d`; `p_i = P(z_i − t)`;
/// `f = (Σ p_i) − 1` (index order); if `f ≥ 0` then `lo = t`. Finally `y_i = p_i / Σ p` with the
/// p of the last step. `P(u) = 0` for u ≤ 0, else `u` (e = 1, α = 2), `u·u` (e = 2, α = 1.5) or
/// `pow(u, e)` (DetMath.pow).
/// Backward (the paper's formula): `s_i = y_i^{2−α}` on the support (y_i > 0; `1` when α = 2,
/// `sqrt(y_i)` when α = 1.5, else pow), 0 elsewhere; `q = (fma-chain Σ s·dy) / (Σ s)`;
/// `dx_i = s_i·(dy_i − q)`.
enum Entmax {
    static let iterations = 60

    @inline(__always)
    static func power<T: LoomFloat>(_ u: T, _ e: T, _ alpha: Double) -> T {
        if u <= 0 { return 0 }
        if alpha == 2 { return u }
        if alpha == 1.5 { return u * u }
        return T.detPow(u, e)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, n: Int, alpha: Double) {
        let a = T(alpha - 1), e = T(1 / (alpha - 1))
        var m = -T.infinity
        for i in 0..<n { m = T.maximum(m, x[i] * a) }
        var lo = m - 1
        var d = (m - T(DetMath.pow(Double(n), 1 - alpha))) - lo
        var sum: T = 0
        for _ in 0..<iterations {
            d = d / 2
            let t = lo + d
            sum = 0
            for i in 0..<n {
                let p = power(x[i] * a - t, e, alpha)
                y[i] = p
                sum += p
            }
            if sum - 1 >= 0 { lo = t }
        }
        for i in 0..<n { y[i] = y[i] / sum }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: LoomFloat>(_ dy: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
                                       n: Int, alpha: Double) {
        let b = T(2 - alpha)
        var sdy: T = 0, ss: T = 0
        for i in 0..<n {
            let s = gate(y[i], b, alpha)
            sdy = sdy.addingProduct(s, dy[i])
            ss += s
        }
        let q = sdy / ss
        for i in 0..<n { dx[i] = gate(y[i], b, alpha) * (dy[i] - q) }
    }

    @inline(__always)
    static func gate<T: LoomFloat>(_ y: T, _ b: T, _ alpha: Double) -> T {
        if !(y > 0) { return 0 }
        if alpha == 2 { return 1 }
        if alpha == 1.5 { return y.squareRoot() }
        return T.detPow(y, b)
    }
}
