import LoomCore

public enum KMeansDistance: String, Equatable, Sendable, CaseIterable {
    case euclidean, manhattan, cosine
}

public enum KMeansOutput: String, Equatable, Sendable, CaseIterable {
    case probabilities, features
}

/// IR of a `kmeans` layer (docs/ir.md).
public struct KMeansSpec: Equatable, Sendable {
    public var clusters: Int
    public var dim: Int?
    public var distance: KMeansDistance
    public var temperature: Double
    public var output: KMeansOutput
    public init(clusters: Int, dim: Int? = nil, distance: KMeansDistance = .euclidean, temperature: Double = 1,
                output: KMeansOutput = .probabilities) {
        self.clusters = clusters; self.dim = dim; self.distance = distance
        self.temperature = temperature; self.output = output
    }
}

/// Distances between a point x and a center c of D values, and their gradients.
///
/// - euclidean (squared): `δ_j = x_j − c_j`; `d = fma-chain Σ δ_j·δ_j` from +0.
///   `∂d/∂x_j = 2·δ_j`, `∂d/∂c_j = −(2·δ_j)`.
/// - manhattan: `d = Σ |x_j − c_j|` from +0 (j ascending). `∂d/∂x_j = sign(δ_j)` with the
///   subgradient 0 at δ_j = 0; `∂d/∂c_j = −sign(δ_j)`.
/// - cosine: `nx = sqrt(fma-chain Σ x·x)`, `nc = sqrt(fma-chain Σ c·c)`, `dot = fma-chain Σ x·c`;
///   `a = max(nx, ε)`, `b = max(nc, ε)` with ε = T(1e-8); `s = dot/(a·b)`; `d = 1 − s`.
///   `∂d/∂x_j = (s·x_j)/(a·a) − c_j/(a·b)` (the first term only when nx > ε: a is then
///   constant), `∂d/∂c_j = (s·c_j)/(b·b) − x_j/(a·b)` (first term only when nc > ε).
enum KMeansDistanceKernel {
    @inline(__always)
    static func norm<T: LoomFloat>(_ v: UnsafePointer<T>, _ n: Int) -> T {
        var acc: T = 0
        for j in 0..<n { acc = acc.addingProduct(v[j], v[j]) }
        return acc.squareRoot()
    }

    /// d(x, c); `nx` is the norm of x (cosine only).
    @inline(__always)
    static func distance<T: LoomFloat>(_ kind: KMeansDistance, _ x: UnsafePointer<T>, _ c: UnsafePointer<T>, _ n: Int,
                                       nx: T) -> T {
        switch kind {
        case .euclidean:
            var acc: T = 0
            for j in 0..<n { let d = x[j] - c[j]; acc = acc.addingProduct(d, d) }
            return acc
        case .manhattan:
            var acc: T = 0
            for j in 0..<n { acc += (x[j] - c[j]).magnitude }
            return acc
        case .cosine:
            let eps = T(1e-8)
            var dot: T = 0
            for j in 0..<n { dot = dot.addingProduct(x[j], c[j]) }
            let a = T.maximum(nx, eps), b = T.maximum(norm(c, n), eps)
            return 1 - dot / (a * b)
        }
    }

    /// Calls `body(j, ∂d/∂x_j, ∂d/∂c_j)` for j ascending.
    @inline(__always)
    static func gradients<T: LoomFloat>(_ kind: KMeansDistance, _ x: UnsafePointer<T>, _ c: UnsafePointer<T>, _ n: Int,
                                        nx: T, _ body: (Int, T, T) -> Void) {
        switch kind {
        case .euclidean:
            for j in 0..<n { let g = 2 * (x[j] - c[j]); body(j, g, -g) }
        case .manhattan:
            for j in 0..<n {
                let d = x[j] - c[j]
                let g: T = d > 0 ? 1 : (d < 0 ? -1 : 0)
                body(j, g, -g)
            }
        case .cosine:
            let eps = T(1e-8)
            var dot: T = 0
            for j in 0..<n { dot = dot.addingProduct(x[j], c[j]) }
            let nc = norm(c, n)
            let a = T.maximum(nx, eps), b = T.maximum(nc, eps)
            let ab = a * b, aa = a * a, bb = b * b
            let s = dot / ab
            for j in 0..<n {
                let gx = nx > eps ? (s * x[j]) / aa - c[j] / ab : -(c[j] / ab)
                let gc = nc > eps ? (s * c[j]) / bb - x[j] / ab : -(x[j] / ab)
                body(j, gx, gc)
            }
        }
    }
}

/// A differentiable clustering layer with K learnable centers `centers` [K, dim].
///
/// Shapes: x `[rows…, dim]` → `[rows…, K]` (probabilities) or `[rows…, dim]` (features).
/// Forward per row: `d_k` = distance(x, c_k) (KMeansDistanceKernel), `ℓ_k = (−d_k)/T(τ)`,
/// `p = softmax(ℓ)` (the standard softmax's order); probabilities: `y = p`; features:
/// `y_j = fma-chain over k of p_k·c_k[j]` from +0.
/// Backward per row: features `dp_k = fma-chain Σ_j dy_j·c_k[j]` (probabilities: dp = dy);
/// `dℓ` = softmax backward; `g_k = (−dℓ_k)/T(τ)`; `dx_j = fma-chain over k of g_k·∂d_k/∂x_j`.
/// Centers (rows in order, for each k and j): features first `dc = fma(p_k, dy_j, dc)`, then
/// `dc = fma(g_k, ∂d_k/∂c_j, dc)`. The centers are an ordinary parameter: the optimizer
/// updates them, backward only accumulates their gradient.
public final class KMeansLayer<T: LoomFloat>: Layer<T> {
    public let spec: KMeansSpec
    public let dim: Int
    public let centersIndex: Int

    public init(path: String, name: String, id: Int, inputShape: [Int], spec: KMeansSpec, params: ParameterStore<T>, seed: UInt64) {
        self.spec = spec
        let d = inputShape.last ?? 1
        dim = d
        centersIndex = params.register(name + ".centers", shape: [spec.clusters, d], Init.uniform([spec.clusters, d], bound: 1, seed: seed, name: name + ".centers"))
        var out = inputShape
        out[out.count - 1] = spec.output == .probabilities ? spec.clusters : d
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: out)
    }

    public override var typeName: String { "kmeans" }
    public override var summary: String { "K=\(spec.clusters) \(spec.distance.rawValue) τ=\(spec.temperature) → \(spec.output.rawValue)" }
    public override var parameterIndices: [Int] { [centersIndex] }
    /// The `[rows, clusters]` probabilities saved for backward and the same again in backward.
    public override var workspaceElementsPerSample: Int? { Limits.product([2, spec.clusters] + inputShape.dropLast()) }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let k = spec.clusters, n = dim, kind = spec.distance, tau = T(spec.temperature)
        let features = spec.output == .features
        let outW = features ? n : k
        let rows = x.count / n
        let c = pass.params.values[centersIndex].data
        var p = [T](repeating: 0, count: rows * k)
        let y: [T] = c.withUnsafeBufferPointer { cp in
            p.withUnsafeMutableBufferPointer { pp in
                Elementwise.rows(pass.context, rows: rows, inWidth: n, outWidth: outW, x.data) { row, xi, yo in
                    let nx = kind == .cosine ? KMeansDistanceKernel.norm(xi, n) : 0
                    var l = [T](repeating: 0, count: k)
                    for j in 0..<k { l[j] = -KMeansDistanceKernel.distance(kind, xi, cp.baseAddress! + j * n, n, nx: nx) / tau }
                    let pr = pp.baseAddress! + row * k
                    l.withUnsafeBufferPointer { SoftmaxKernel.forward($0.baseAddress!, pr, n: k, temperature: nil, mask: nil) }
                    if features {
                        for j in 0..<n {
                            var acc: T = 0
                            for q in 0..<k { acc = acc.addingProduct(pr[q], cp[q * n + j]) }
                            yo[j] = acc
                        }
                    } else {
                        for q in 0..<k { yo[q] = pr[q] }
                    }
                }
            }
        }
        var shape = x.shape
        shape[shape.count - 1] = outW
        pass.save(id, [x, Tensor(uncheckedShape: [rows, k], data: p)])
        return Tensor(uncheckedShape: shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let x = pass.saved[id][0], p = pass.saved[id][1].data
        let k = spec.clusters, n = dim, kind = spec.distance, tau = T(spec.temperature)
        let features = spec.output == .features
        let outW = features ? n : k
        let rows = x.count / n
        let c = pass.params.values[centersIndex].data
        var g = [T](repeating: 0, count: rows * k)
        var nxs = [T](repeating: 0, count: rows)
        let dx: [T] = c.withUnsafeBufferPointer { cp in
            p.withUnsafeBufferPointer { pp in
                x.data.withUnsafeBufferPointer { xp in
                    g.withUnsafeMutableBufferPointer { gp in
                        nxs.withUnsafeMutableBufferPointer { np in
                            Elementwise.rows(pass.context, rows: rows, inWidth: outW, outWidth: n, dy.data) { row, dyi, dxo in
                                let pr = pp.baseAddress! + row * k, xi = xp.baseAddress! + row * n
                                var dp = [T](repeating: 0, count: k)
                                for q in 0..<k {
                                    if features {
                                        var acc: T = 0
                                        for j in 0..<n { acc = acc.addingProduct(dyi[j], cp[q * n + j]) }
                                        dp[q] = acc
                                    } else {
                                        dp[q] = dyi[q]
                                    }
                                }
                                let gr = gp.baseAddress! + row * k
                                dp.withUnsafeBufferPointer { SoftmaxKernel.backward($0.baseAddress!, pr, gr, n: k, temperature: nil) }
                                for q in 0..<k { gr[q] = -gr[q] / tau }
                                let nx = kind == .cosine ? KMeansDistanceKernel.norm(xi, n) : 0
                                np[row] = nx
                                for j in 0..<n { dxo[j] = 0 }
                                for q in 0..<k {
                                    KMeansDistanceKernel.gradients(kind, xi, cp.baseAddress! + q * n, n, nx: nx) { j, gx, _ in
                                        dxo[j] = dxo[j].addingProduct(gr[q], gx)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Center gradients: parallel over clusters, rows in order inside each.
        let ci = centersIndex
        c.withUnsafeBufferPointer { cp in
            p.withUnsafeBufferPointer { pp in
                x.data.withUnsafeBufferPointer { xp in
                    dy.data.withUnsafeBufferPointer { dyp in
                        pass.params.grads[ci].data.withUnsafeMutableBufferPointer { dcp in
                            pass.context.parallelRanges(k, minChunk: 1) { range in
                                for q in range {
                                    let cq = cp.baseAddress! + q * n, dc = dcp.baseAddress! + q * n
                                    for r in 0..<rows {
                                        if features {
                                            let pk = pp[r * k + q]
                                            for j in 0..<n { dc[j] = dc[j].addingProduct(pk, dyp[r * n + j]) }
                                        }
                                        let gk = g[r * k + q]
                                        KMeansDistanceKernel.gradients(kind, xp.baseAddress! + r * n, cq, n, nx: nxs[r]) { j, _, gc in
                                            dc[j] = dc[j].addingProduct(gk, gc)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: x.shape, data: dx)
    }
}
