import LoomCore

/// Classic k-means (Lloyd) and the silhouette score, deterministic and parallel over points.
///
/// Points are `n` rows of `dim` values, row-major. Distances are squared Euclidean,
/// `fma-chain Σ (x_j − c_j)²` from +0 (j ascending); the silhouette uses its square root.
public enum Clustering {
    public enum Initialization: Sendable {
        /// k-means++ (Arthur & Vassilvitskii 2007): the first center is point ⌊u₀·n⌋; center c is
        /// the first point i whose running sum of D² (index order) exceeds `u_c·ΣD²`
        /// (u_c = Philox(seed).uniformDouble(stream "kmeans++:restart", c)); D² is the squared
        /// distance to the nearest chosen center.
        case plusPlus
        /// The first k entries of `Philox(seed).permutation(n, stream "kmeans-random:restart")`.
        case random
    }

    public struct Result<T: LoomFloat> {
        /// [k, dim], row-major.
        public var centers: [T]
        public var labels: [Int]
        /// Σ over points (index order) of the squared distance to their center.
        public var inertia: T
        /// Lloyd iterations of the best run.
        public var iterations: Int
    }

    /// k-means by Lloyd's algorithm: each iteration assigns every point to its nearest center
    /// (ties to the lowest index; parallel over points), then sets each center to the mean of its
    /// points (`(Σ in point order) / T(count)`; an empty cluster keeps its center), until no label
    /// changes or `maxIterations`. `restarts` runs (restart r uses streams numbered r) keep the
    /// first one with the lowest inertia. The result depends only on the inputs, never on threads.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func kMeans<T: LoomFloat>(_ points: [T], dim: Int, k: Int, seed: UInt64,
                                            initialization: Initialization = .plusPlus, maxIterations: Int = 300,
                                            restarts: Int = 1, context: ComputeContext = SerialContext())
        throws(LoomError) -> Result<T> {
        guard dim > 0 else { throw LoomError(.invalidArgument, "dim", "must be positive, got \(dim)") }
        guard points.count % dim == 0 else {
            throw LoomError(.invalidArgument, "points", "\(points.count) values are not a whole number of \(dim)-dimensional points")
        }
        let n = points.count / dim
        guard k >= 1, k <= n else { throw LoomError(.invalidArgument, "k", "must be in 1…\(n) (the number of points), got \(k)") }
        guard maxIterations >= 1 else { throw LoomError(.invalidArgument, "maxIterations", "must be at least 1") }
        guard restarts >= 1 else { throw LoomError(.invalidArgument, "restarts", "must be at least 1") }
        for v in points where !v.isFinite { throw LoomError(.nonFinite, "points", "contain NaN or infinity") }
        var best: Result<T>? = nil
        for r in 0..<restarts {
            let res = lloyd(points, n: n, dim: dim, k: k,
                            centers: initialCenters(points, n: n, dim: dim, k: k, seed: seed, restart: UInt64(r),
                                                    initialization: initialization, context: context),
                            maxIterations: maxIterations, context: context)
            if best == nil || res.inertia < best!.inertia { best = res }
        }
        return best!
    }

    @inline(__always)
    static func sqDist<T: LoomFloat>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int) -> T {
        var acc: T = 0
        for j in 0..<n { let d = a[j] - b[j]; acc = acc.addingProduct(d, d) }
        return acc
    }

    static func initialCenters<T: LoomFloat>(_ points: [T], n: Int, dim: Int, k: Int, seed: UInt64, restart: UInt64,
                                             initialization: Initialization, context: ComputeContext) -> [T] {
        let rng = Philox(seed: seed)
        var chosen = [Int]()
        switch initialization {
        case .random:
            chosen = Array(rng.permutation(n, stream: StreamID.of("kmeans-random", restart)).prefix(k))
        case .plusPlus:
            let stream = StreamID.of("kmeans++", restart)
            chosen.append(Swift.min(Int(rng.uniformDouble(stream: stream, index: 0) * Double(n)), n - 1))
            var d2 = [T](repeating: T.infinity, count: n)
            points.withUnsafeBufferPointer { pp in
                while chosen.count < k {
                    let c = chosen[chosen.count - 1]
                    d2.withUnsafeMutableBufferPointer { dp in
                        context.parallelRanges(n, minChunk: 256) { range in
                            for i in range { dp[i] = T.minimum(dp[i], sqDist(pp.baseAddress! + i * dim, pp.baseAddress! + c * dim, dim)) }
                        }
                    }
                    var total: T = 0
                    for v in d2 { total += v }
                    let u = T(rng.uniformDouble(stream: stream, index: UInt64(chosen.count))) * total
                    var pick = -1, run: T = 0
                    for i in 0..<n { run += d2[i]; if run > u { pick = i; break } }
                    if pick < 0 || !(total > 0) {
                        // All remaining points coincide with centers: take the first point not chosen.
                        pick = (0..<n).first { !chosen.contains($0) } ?? 0
                    }
                    chosen.append(pick)
                }
            }
        }
        var centers = [T](repeating: 0, count: k * dim)
        for (q, i) in chosen.enumerated() { for j in 0..<dim { centers[q * dim + j] = points[i * dim + j] } }
        return centers
    }

    /// Nearest center of every point (parallel over points) and the squared distances.
    static func assign<T: LoomFloat>(_ points: [T], n: Int, dim: Int, k: Int, centers: [T], context: ComputeContext)
        -> (labels: [Int], d2: [T]) {
        var labels = [Int](repeating: 0, count: n)
        var d2 = [T](repeating: 0, count: n)
        points.withUnsafeBufferPointer { pp in
            centers.withUnsafeBufferPointer { cp in
                labels.withUnsafeMutableBufferPointer { lp in
                    d2.withUnsafeMutableBufferPointer { dp in
                        context.parallelRanges(n, minChunk: 64) { range in
                            for i in range {
                                var bestQ = 0, bestD = T.infinity
                                for q in 0..<k {
                                    let d = sqDist(pp.baseAddress! + i * dim, cp.baseAddress! + q * dim, dim)
                                    if d < bestD { bestD = d; bestQ = q }
                                }
                                lp[i] = bestQ; dp[i] = bestD
                            }
                        }
                    }
                }
            }
        }
        return (labels, d2)
    }

    static func lloyd<T: LoomFloat>(_ points: [T], n: Int, dim: Int, k: Int, centers start: [T], maxIterations: Int,
                                    context: ComputeContext) -> Result<T> {
        var centers = start
        var (labels, d2) = assign(points, n: n, dim: dim, k: k, centers: centers, context: context)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            let old = centers
            labels.withUnsafeBufferPointer { lp in
                points.withUnsafeBufferPointer { pp in
                    centers.withUnsafeMutableBufferPointer { cp in
                        context.parallelRanges(k, minChunk: 1) { range in
                            for q in range {
                                var sum = [T](repeating: 0, count: dim)
                                var count = 0
                                for i in 0..<n where lp[i] == q {
                                    count += 1
                                    for j in 0..<dim { sum[j] += pp[i * dim + j] }
                                }
                                if count > 0 { for j in 0..<dim { cp[q * dim + j] = sum[j] / T(count) } }
                            }
                        }
                    }
                }
            }
            let next = assign(points, n: n, dim: dim, k: k, centers: centers, context: context)
            let changed = next.labels != labels
            labels = next.labels; d2 = next.d2
            if !changed || old == centers { break }
        }
        var inertia: T = 0
        for v in d2 { inertia += v }
        return Result(centers: centers, labels: labels, inertia: inertia, iterations: iterations)
    }

    /// The mean silhouette coefficient (Rousseeuw 1987) of a labelling, as scikit-learn's
    /// `silhouette_score` with the Euclidean metric. For point i: `a` = mean distance to the other
    /// points of its cluster, `b` = the smallest mean distance to the points of another cluster
    /// (sums in point order, divided by the count), `s = (b − a)/max(a, b)`, and 0 for a point
    /// alone in its cluster. Result: `(Σ s_i in point order)/n`. Parallel over points.
    /// Needs 2 ≤ number of distinct labels ≤ n − 1.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func silhouetteScore<T: LoomFloat>(_ points: [T], dim: Int, labels: [Int],
                                                     context: ComputeContext = SerialContext()) throws(LoomError) -> T {
        guard dim > 0, points.count % dim == 0 else {
            throw LoomError(.invalidArgument, "points", "\(points.count) values are not a whole number of \(dim)-dimensional points")
        }
        let n = points.count / dim
        guard labels.count == n else { throw LoomError(.invalidArgument, "labels", "has \(labels.count) entries for \(n) points") }
        var distinct = [Int]()
        for l in labels.sorted() where distinct.last != l { distinct.append(l) }
        guard distinct.count >= 2, distinct.count <= n - 1 else {
            throw LoomError(.invalidArgument, "labels", "the silhouette needs 2…\(n - 1) distinct labels, got \(distinct.count)")
        }
        let lab = labels.map { l -> Int in
            var lo = 0, hi = distinct.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if distinct[mid] < l { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        let m = distinct.count
        var counts = [Int](repeating: 0, count: m)
        for l in lab { counts[l] += 1 }
        var s = [T](repeating: 0, count: n)
        points.withUnsafeBufferPointer { pp in
            s.withUnsafeMutableBufferPointer { sp in
                context.parallelRanges(n, minChunk: 16) { range in
                    var sums = [T](repeating: 0, count: m)
                    for i in range {
                        for q in 0..<m { sums[q] = 0 }
                        for j in 0..<n where j != i {
                            sums[lab[j]] += sqDist(pp.baseAddress! + i * dim, pp.baseAddress! + j * dim, dim).squareRoot()
                        }
                        let own = lab[i]
                        if counts[own] == 1 { sp[i] = 0; continue }
                        let a = sums[own] / T(counts[own] - 1)
                        var b = T.infinity
                        for q in 0..<m where q != own { b = T.minimum(b, sums[q] / T(counts[q])) }
                        sp[i] = (b - a) / T.maximum(a, b)
                    }
                }
            }
        }
        var total: T = 0
        for v in s { total += v }
        return total / T(n)
    }
}
