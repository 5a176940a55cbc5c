import LoomCore

// The rest of the softmax family: hierarchical, gumbel, sparsemax, entmax, adaptive, mixture.
// Definitions and canonical orders: docs/numerics.md ("Softmax family"); kernels here and in
// Softmax+Sparse.swift. Every variant acts on the last axis, one row at a time; rows run in
// parallel (independent outputs). Forward saves [y, aux] where aux is a per-row scratch the
// backward reads (see each kernel).

extension SoftmaxLayer {
    /// The output shape of a variant on `input` (adaptive and mixture change the width).
    static func outputShape(_ v: SoftmaxVariant, input: [Int]) -> [Int] {
        guard let f = input.last else { return input }
        var out = input
        switch v {
        case .adaptive(let h, let clusters):
            out[out.count - 1] = h + clusters.reduce(0, +)
        case .mixture(let k):
            out[out.count - 1] = k > 0 ? (f - k) / k : 0
        default: break
        }
        return out
    }

    var familySummary: String {
        switch variant {
        case .hierarchical(let l): return "hierarchical " + l.map { "\($0)" }.joined(separator: "×")
        case .gumbel(let t): return "gumbel τ=\(t)"
        case .sparsemax: return "sparsemax"
        case .entmax(let a): return "entmax α=\(a)"
        case .adaptive(let h, let c): return "adaptive head \(h), tails " + c.map { "\($0)" }.joined(separator: ",")
        case .mixture(let k): return "mixture of \(k)"
        default: return variant.name
        }
    }

    /// Width of the per-row scratch saved for backward.
    var auxWidth: Int {
        let f = inputShape.last ?? 0
        switch variant {
        case .hierarchical(let levels):
            var n = 1, total = 0
            for g in levels { n *= g; total += n }
            return total
        case .adaptive, .mixture: return f
        default: return 0
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    func familyForward(_ x: Tensor<T>, _ pass: Pass<T>) -> Tensor<T>? {
        let v = variant
        switch v {
        case .standard, .temperature, .masked, .grid: return nil
        default: break
        }
        let f = inputShape.last ?? 0
        let outW = outputShape.last ?? 0
        let rows = f == 0 ? 0 : x.count / f
        let aw = auxWidth
        var aux = [T](repeating: 0, count: rows * aw)
        var xin = x.data
        if case .gumbel = v, pass.dropout {
            GumbelNoise.add(&xin, seed: pass.seed, stream: noiseStream(step: pass.step), context: pass.context)
        }
        let y = aux.withUnsafeMutableBufferPointer { ap in
            Elementwise.rows(pass.context, rows: rows, inWidth: f, outWidth: outW, xin) { row, xi, yo in
                let a = ap.baseAddress! + row * aw
                switch v {
                case .hierarchical(let levels): HierarchicalSoftmax.forward(xi, yo, a, levels: levels)
                case .gumbel(let t): SoftmaxKernel.forward(xi, yo, n: f, temperature: T(t), mask: nil)
                case .sparsemax: Sparsemax.forward(xi, yo, n: f)
                case .entmax(let alpha): Entmax.forward(xi, yo, n: f, alpha: alpha)
                case .adaptive(let h, let c): AdaptiveSoftmax.forward(xi, yo, a, head: h, clusters: c)
                case .mixture(let k): MixtureSoftmax.forward(xi, yo, a, components: k, width: outW)
                default: break
                }
            }
        }
        var shape = x.shape
        shape[shape.count - 1] = outW
        let out = Tensor(uncheckedShape: shape, data: y)
        pass.save(id, [out, Tensor(uncheckedShape: [rows, aw], data: aux)])
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    func familyBackward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T>? {
        let v = variant
        switch v {
        case .standard, .temperature, .masked, .grid: return nil
        default: break
        }
        let f = inputShape.last ?? 0
        let outW = outputShape.last ?? 0
        let rows = outW == 0 ? 0 : dy.count / outW
        let aw = auxWidth
        let y = pass.saved[id][0].data, aux = pass.saved[id][1].data
        let dx = y.withUnsafeBufferPointer { yp in
            aux.withUnsafeBufferPointer { ap in
                Elementwise.rows(pass.context, rows: rows, inWidth: outW, outWidth: f, dy.data) { row, dyi, dxo in
                    let yr = yp.baseAddress! + row * outW, a = ap.baseAddress! + row * aw
                    switch v {
                    case .hierarchical(let levels): HierarchicalSoftmax.backward(dyi, yr, a, dxo, levels: levels)
                    case .gumbel(let t): SoftmaxKernel.backward(dyi, yr, dxo, n: f, temperature: T(t))
                    case .sparsemax: Sparsemax.backward(dyi, yr, dxo, n: f)
                    case .entmax(let alpha): Entmax.backward(dyi, yr, dxo, n: f, alpha: alpha)
                    case .adaptive(let h, let c): AdaptiveSoftmax.backward(dyi, a, dxo, head: h, clusters: c)
                    case .mixture(let k): MixtureSoftmax.backward(dyi, a, dxo, components: k, width: outW)
                    default: break
                    }
                }
            }
        }
        var shape = dy.shape
        shape[shape.count - 1] = f
        return Tensor(uncheckedShape: shape, data: dx)
    }
}

extension SoftmaxLayer {
    /// The gumbel variant's Philox stream for the training pass at `step`.
    public func noiseStream(step: UInt64) -> UInt64 { StreamID.of("gumbel:" + name, step) }

    /// The gumbel variant's training noise for `count` inputs of the pass with `seed` and `step`:
    /// `T(GumbelNoise.sample(…))` for element i of the layer's stream (what `GumbelNoise.add` adds).
    public func gumbelNoise(count: Int, seed: UInt64, step: UInt64) -> [T] {
        let stream = noiseStream(step: step)
        return (0..<count).map { T(GumbelNoise.sample(seed: seed, stream: stream, index: $0)) }
    }
}

/// Gumbel noise for `gumbel` softmax in training passes: element e of the pass's input gets
/// `g = −log(−log u)` with `u = (⌊u₀·2⁵²⌋ + 0.5)·2⁻⁵²` ∈ (0, 1), `u₀ = Philox(seed).uniformDouble(stream, e)`,
/// computed in Double with DetMath.log and rounded once to T; then `x + T(g)`.
public enum GumbelNoise {
    public static func sample(seed: UInt64, stream: UInt64, index: Int) -> Double {
        let u0 = Philox(seed: seed).uniformDouble(stream: stream, index: UInt64(index))
        let u = ((u0 * 4_503_599_627_370_496.0).rounded(.down) + 0.5) * (1.0 / 4_503_599_627_370_496.0)
        return -DetMath.log(-DetMath.log(u))
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func add<T: LoomFloat>(_ x: inout [T], seed: UInt64, stream: UInt64, context: ComputeContext) {
        x.withUnsafeMutableBufferPointer { xp in
            context.parallelRanges(xp.count, minChunk: 1024) { r in
                for i in r { xp[i] = xp[i] + T(sample(seed: seed, stream: stream, index: i)) }
            }
        }
    }
}

/// Hierarchical softmax over a tree with `levels` = [g₁, …, g_L] (Π gₗ = n). Leaf i has the
/// mixed-radix path (i₁, …, i_L), i₁ most significant; the level-ℓ node of i is u = i / Sₗ with
/// Sₗ = n / (g₁·…·gₗ) leaves under it. Its summary logit is the mean of its leaves,
/// `sᵤ = (x[u·Sₗ] + … + x[u·Sₗ + Sₗ − 1]) / T(Sₗ)` (in index order; Sₗ = 1 at the last level: x
/// itself). Siblings (gₗ consecutive nodes) get a standard softmax `q = softmax(s)`, and
/// `y_i = ((q₁(i)·q₂(i))·…)·q_L(i)`. aux = every level's q, level 1 first.
/// Backward: `aᵤ = fma-chain Σ_{i under u} dy_i·y_i`; per sibling group `t = Σ aᵥ`;
/// `dsᵤ = aᵤ − qᵤ·t`; `dx_i = ds₁(i)/T(S₁) + ds₂(i)/T(S₂) + …` (levels in order).
enum HierarchicalSoftmax {
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ q: UnsafeMutablePointer<T>,
                                      levels: [Int]) {
        var n = 1
        for g in levels { n *= g }
        var nodes = 1, off = 0
        var s = [T](repeating: 0, count: n)
        for (l, g) in levels.enumerated() {
            nodes *= g
            let size = n / nodes
            for u in 0..<nodes {
                var acc = x[u * size]
                if size > 1 {
                    for i in 1..<size { acc += x[u * size + i] }
                    acc = acc / T(size)
                }
                s[u] = acc
            }
            s.withUnsafeBufferPointer { sp in
                for p in 0..<(nodes / g) {
                    SoftmaxKernel.forward(sp.baseAddress! + p * g, q + off + p * g, n: g, temperature: nil, mask: nil)
                }
            }
            for i in 0..<n {
                let qi = q[off + i / size]
                y[i] = l == 0 ? qi : y[i] * qi
            }
            off += nodes
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: LoomFloat>(_ dy: UnsafePointer<T>, _ y: UnsafePointer<T>, _ q: UnsafePointer<T>,
                                       _ dx: UnsafeMutablePointer<T>, levels: [Int]) {
        var n = 1
        for g in levels { n *= g }
        var nodes = 1, off = 0
        var ds = [T](repeating: 0, count: n)
        for (l, g) in levels.enumerated() {
            nodes *= g
            let size = n / nodes
            for u in 0..<nodes {
                var a: T = 0
                for i in (u * size)..<(u * size + size) { a = a.addingProduct(dy[i], y[i]) }
                ds[u] = a
            }
            for p in 0..<(nodes / g) {
                var t: T = 0
                for j in 0..<g { t += ds[p * g + j] }
                for j in 0..<g { ds[p * g + j] = ds[p * g + j] - q[off + p * g + j] * t }
            }
            let div = T(size)
            for i in 0..<n {
                let d = size > 1 ? ds[i / size] / div : ds[i]
                dx[i] = l == 0 ? d : dx[i] + d
            }
            off += nodes
        }
    }
}

/// Adaptive softmax. Input `[head logits (h), cluster logits (C), tail 1 logits (n₁), …, tail C
/// logits (n_C)]` (width h + C + Σn); output `[head words (h), tail 1 words (n₁), …]` (width
/// h + Σn). `q = softmax(first h + C inputs)`; `r_c = softmax(tail c's logits)`; head word j:
/// `y = q_j`; word k of tail c: `y = q_{h+c}·r_c[k]`. aux = [q, r₁, …, r_C] (width = input width).
/// Backward: `dq_j = dy_j` (j < h), `dq_{h+c} = fma-chain Σ_k dy·r_c[k]`; head `dx` = softmax
/// backward of dq through q; tail c: `dr = dy·q_{h+c}`, `dx` = softmax backward of dr through r_c.
enum AdaptiveSoftmax {
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>,
                                      head: Int, clusters: [Int]) {
        let hw = head + clusters.count
        SoftmaxKernel.forward(x, a, n: hw, temperature: nil, mask: nil)
        for j in 0..<head { y[j] = a[j] }
        var inOff = hw, outOff = head
        for (c, nc) in clusters.enumerated() {
            SoftmaxKernel.forward(x + inOff, a + inOff, n: nc, temperature: nil, mask: nil)
            let pc = a[head + c]
            for k in 0..<nc { y[outOff + k] = pc * a[inOff + k] }
            inOff += nc; outOff += nc
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: LoomFloat>(_ dy: UnsafePointer<T>, _ a: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
                                       head: Int, clusters: [Int]) {
        let hw = head + clusters.count
        var dq = [T](repeating: 0, count: hw)
        for j in 0..<head { dq[j] = dy[j] }
        var inOff = hw, outOff = head
        var dr = [T](repeating: 0, count: clusters.max() ?? 0)
        for (c, nc) in clusters.enumerated() {
            var acc: T = 0
            for k in 0..<nc { acc = acc.addingProduct(dy[outOff + k], a[inOff + k]) }
            dq[head + c] = acc
            let pc = a[head + c]
            for k in 0..<nc { dr[k] = dy[outOff + k] * pc }
            dr.withUnsafeBufferPointer { SoftmaxKernel.backward($0.baseAddress!, a + inOff, dx + inOff, n: nc, temperature: nil) }
            inOff += nc; outOff += nc
        }
        dq.withUnsafeBufferPointer { SoftmaxKernel.backward($0.baseAddress!, a, dx, n: hw, temperature: nil) }
    }
}

/// Mixture of K softmaxes over V words. Input `[logits of component 0 (V), …, component K−1 (V),
/// prior logits (K)]` (width K·V + K); output V. `π = softmax(prior)`, `s_k = softmax(logits_k)`,
/// `y_v = fma(π_{K−1}, s_{K−1}[v], … fma(π₀, s₀[v], +0))` (k ascending). aux = [s₀ … s_{K−1}, π].
/// Backward: `dπ_k = fma-chain Σ_v dy_v·s_k[v]`; `ds_k = π_k·dy` then softmax backward through
/// s_k; prior `dx` = softmax backward of dπ through π.
enum MixtureSoftmax {
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>,
                                      components k: Int, width v: Int) {
        let pi = a + k * v
        SoftmaxKernel.forward(x + k * v, pi, n: k, temperature: nil, mask: nil)
        for c in 0..<k { SoftmaxKernel.forward(x + c * v, a + c * v, n: v, temperature: nil, mask: nil) }
        for j in 0..<v {
            var acc: T = 0
            for c in 0..<k { acc = acc.addingProduct(pi[c], a[c * v + j]) }
            y[j] = acc
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: LoomFloat>(_ dy: UnsafePointer<T>, _ a: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
                                       components k: Int, width v: Int) {
        let pi = a + k * v
        var dpi = [T](repeating: 0, count: k)
        var ds = [T](repeating: 0, count: v)
        for c in 0..<k {
            var acc: T = 0
            for j in 0..<v { acc = acc.addingProduct(dy[j], a[c * v + j]) }
            dpi[c] = acc
            for j in 0..<v { ds[j] = pi[c] * dy[j] }
            ds.withUnsafeBufferPointer { SoftmaxKernel.backward($0.baseAddress!, a + c * v, dx + c * v, n: v, temperature: nil) }
        }
        dpi.withUnsafeBufferPointer { SoftmaxKernel.backward($0.baseAddress!, pi, dx + k * v, n: k, temperature: nil) }
    }
}
