import LoomCore

/// Rotary position embedding tables and rotations (docs/numerics.md, "Attention").
///
/// For head dimension D and pair i (0 ≤ i < D/2): `θ_i = DetMath.pow(base, Double(−2i)/Double(D))`,
/// angle `a = Double(p)·θ_i` (one Double multiplication), `c = T(DetMath.cos(a))`,
/// `s = T(DetMath.sin(a))`. Pair members: `half` (i, i + D/2), `interleaved` (2i, 2i + 1).
/// Rotation of (x1, x2): `x1' = fma(x1, c, −(x2·s))`, `x2' = fma(x2, c, x1·s)`.
/// Inverse (backward, the transpose): `g1' = fma(g1, c, g2·s)`, `g2' = fma(g2, c, −(g1·s))`.
struct RoPETable<T: LoomFloat> {
    let half: Int
    let interleaved: Bool
    let first: Int
    var cos: [T]
    var sin: [T]

    /// Tables for positions `positions` (row r of the table is position first + r).
    init(_ spec: RoPESpec, headDim: Int, positions: Range<Int>) {
        half = headDim / 2
        interleaved = spec.layout == .interleaved
        first = positions.lowerBound
        var theta = [Double](repeating: 0, count: half)
        for i in 0..<half { theta[i] = DetMath.pow(spec.base, Double(-2 * i) / Double(headDim)) }
        cos = [T](repeating: 0, count: positions.count * half)
        sin = cos
        for (r, p) in positions.enumerated() {
            for i in 0..<half {
                let a = Double(p) * theta[i]
                cos[r * half + i] = T(DetMath.cos(a))
                sin[r * half + i] = T(DetMath.sin(a))
            }
        }
    }

    @inline(__always) func pair(_ i: Int) -> (Int, Int) { interleaved ? (2 * i, 2 * i + 1) : (i, i + half) }

    /// Rotates `heads` heads of `headDim` values at `row` (position `p`), in place; `inverse`
    /// applies the transpose (for gradients).
    @_specialize(where T == Float) @_specialize(where T == Double)
    func rotate(_ row: UnsafeMutablePointer<T>, heads: Int, headDim: Int, position p: Int, inverse: Bool) {
        let t = (p - first) * half
        for h in 0..<heads {
            let base = row + h * headDim
            for i in 0..<half {
                let (a, b) = pair(i)
                let c = cos[t + i], s = sin[t + i]
                let x1 = base[a], x2 = base[b]
                if inverse {
                    base[a] = (x2 * s).addingProduct(x1, c)
                    base[b] = (-(x1 * s)).addingProduct(x2, c)
                } else {
                    base[a] = (-(x2 * s)).addingProduct(x1, c)
                    base[b] = (x1 * s).addingProduct(x2, c)
                }
            }
        }
    }
}

/// The attention of one (batch row, head): see `AttentionLayer` for the canonical order.
enum AttentionKernel {
    /// Queries `q + t·qs` (t < n, head slice already offset), keys `k + j·ks` and values
    /// `v + j·ks`; query t sees keys `0..<limits[t]`. Writes `out + t·os` (D values) and, when
    /// given, the probabilities `probs + t·ps` (zeros past the limit). `scratch` holds ≥ max limit
    /// (n · max limit with `products`: the two reductions as `ctx`'s matrix products, see
    /// `forwardProducts`; the exponentials go through `ctx` either way).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forward<T: LoomFloat>(q: UnsafePointer<T>, qs: Int, n: Int, k: UnsafePointer<T>, v: UnsafePointer<T>, ks: Int,
                                      headDim d: Int, scale: T, limits: UnsafePointer<Int>,
                                      out: UnsafeMutablePointer<T>, os: Int, probs: UnsafeMutablePointer<T>?, ps: Int,
                                      scratch: UnsafeMutablePointer<T>, context ctx: ComputeContext, products: Bool) {
        if products {
            forwardProducts(ctx, q: q, qs: qs, n: n, k: k, v: v, ks: ks, headDim: d, scale: scale, limits: limits,
                            out: out, os: os, probs: probs, ps: ps, scores: scratch)
            return
        }
        for t in 0..<n {
            let qt = q + t * qs
            let l = limits[t]
            var m = -T.infinity
            for j in 0..<l {
                let kj = k + j * ks
                var acc: T = 0
                for i in 0..<d { acc = acc.addingProduct(qt[i], kj[i]) }
                let sc = acc * scale
                scratch[j] = sc
                m = T.maximum(m, sc)
            }
            var sum: T = 0
            for j in 0..<l { scratch[j] = scratch[j] - m }
            DetFunction.exp.map(ctx, scratch, scratch, count: l)
            for j in 0..<l { sum += scratch[j] }
            for j in 0..<l { scratch[j] = scratch[j] / sum }
            if let pp = probs {
                let pr = pp + t * ps
                for j in 0..<l { pr[j] = scratch[j] }
                for j in l..<Swift.max(l, ps) { pr[j] = 0 }
            }
            let ot = out + t * os
            for i in 0..<d { ot[i] = 0 }
            for j in 0..<l {
                let p = scratch[j], vj = v + j * ks
                for i in 0..<d { ot[i] = ot[i].addingProduct(p, vj[i]) }
            }
        }
    }
}

extension AttentionKernel {
    /// `forward` with its two reductions as matrix products (`T.gemmKernel`, single-threaded):
    /// `S = Q·Kᵀ` over the keys `0..<L` (L = the largest limit; each score is its own fma chain
    /// from +0, and scores past a query's limit are ignored), then `O = P·V` with `p = +0` past the
    /// limit. The bits equal `forward`'s when every key and value is finite: `fma(+0, v, acc) = acc`
    /// for finite v, and a chain started at +0 is never −0. `scores` holds n·L values.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func forwardProducts<T: LoomFloat>(_ ctx: ComputeContext, q: UnsafePointer<T>, qs: Int, n: Int, k: UnsafePointer<T>,
                                              v: UnsafePointer<T>, ks: Int, headDim d: Int, scale: T, limits: UnsafePointer<Int>,
                                              out: UnsafeMutablePointer<T>, os: Int, probs: UnsafeMutablePointer<T>?, ps: Int,
                                              scores s: UnsafeMutablePointer<T>) {
        var ll = 0
        for t in 0..<n { ll = Swift.max(ll, limits[t]) }
        T.gemmKernel(ctx, GemmProblem(m: n, n: ll, k: d, a: q, rsA: qs, csA: 1, b: k, rsB: 1, csB: ks, c: s, ldc: ll, accumulate: false))
        for t in 0..<n {
            let row = s + t * ll, l = limits[t]
            var m = -T.infinity
            for j in 0..<l { row[j] = row[j] * scale; m = T.maximum(m, row[j]) }
            var sum: T = 0
            for j in 0..<l { row[j] = row[j] - m }
            DetFunction.exp.map(ctx, row, row, count: l)
            for j in 0..<l { sum += row[j] }
            for j in 0..<l { row[j] = row[j] / sum }
            for j in l..<ll { row[j] = 0 }
            if let pp = probs {
                let pr = pp + t * ps
                for j in 0..<ll { pr[j] = row[j] }
                for j in ll..<Swift.max(ll, ps) { pr[j] = 0 }
            }
        }
        T.gemmKernel(ctx, GemmProblem(m: n, n: d, k: ll, a: s, rsA: ll, csA: 1, b: v, rsB: ks, csB: 1, c: out, ldc: os, accumulate: false))
    }

    /// `backward` with its reductions as matrix products (same conditions as `forwardProducts`:
    /// q, k, v and dO finite; masked scores and probabilities are +0 and leave every chain as it is).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backwardProducts<T: LoomFloat>(_ ctx: ComputeContext, q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>,
                                               p: UnsafePointer<T>, dO: UnsafePointer<T>, limits: UnsafePointer<Int>, n: Int,
                                               qw: Int, kvw: Int, g: Int, group: Int, headDim d: Int, scale: T,
                                               dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>,
                                               ds: UnsafeMutablePointer<T>) {
        let kv0 = g * d
        for hh in 0..<group {
            let hq = (g * group + hh) * d
            let ph = p + hh * n * n, dsh = ds + hh * n * n
            // dP = dO·Vᵀ, then dS = (p·(dP − c))·scale with c = Σ_j dP·p (a 1×1 product), +0 past the limit.
            T.gemmKernel(ctx, GemmProblem(m: n, n: n, k: d, a: dO + hq, rsA: qw, csA: 1, b: v + kv0, rsB: 1, csB: kvw,
                                          c: dsh, ldc: n, accumulate: false))
            for t in 0..<n {
                let l = limits[t], row = dsh + t * n, pt = ph + t * n
                var c: T = 0
                withUnsafeMutablePointer(to: &c) { cp in
                    T.gemmKernel(ctx, GemmProblem(m: 1, n: 1, k: l, a: UnsafePointer(row), rsA: l, csA: 1, b: pt, rsB: 1, csB: 1,
                                                  c: cp, ldc: 1, accumulate: true))
                }
                for j in 0..<l { row[j] = (pt[j] * (row[j] - c)) * scale }
                for j in l..<n { row[j] = 0 }
            }
            // dQ = dS·K.
            T.gemmKernel(ctx, GemmProblem(m: n, n: d, k: n, a: dsh, rsA: n, csA: 1, b: k + kv0, rsB: kvw, csB: 1,
                                          c: dq + hq, ldc: qw, accumulate: false))
        }
        // dK = Σ over heads of dSᵀ·Q, dV = Σ over heads of Pᵀ·dO (heads ascending, then queries).
        for hh in 0..<group {
            let hq = (g * group + hh) * d
            T.gemmKernel(ctx, GemmProblem(m: n, n: d, k: n, a: ds + hh * n * n, rsA: 1, csA: n, b: q + hq, rsB: qw, csB: 1,
                                          c: dk + kv0, ldc: kvw, accumulate: hh > 0))
            T.gemmKernel(ctx, GemmProblem(m: n, n: d, k: n, a: p + hh * n * n, rsA: 1, csA: n, b: dO + hq, rsB: qw, csB: 1,
                                          c: dv + kv0, ldc: kvw, accumulate: hh > 0))
        }
    }

    /// Backward of one (batch row, kv head g): the `group` query heads `g·group …` of that kv head.
    /// Pointers are at the batch row (q, dO, dq: `[n, qw]`; k, v, dk, dv: `[n, kvw]`); `p` at the
    /// probabilities of head `g·group` (`[group, n, n]`). `ds` holds group·n·n values.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func backward<T: LoomFloat>(q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>, p: UnsafePointer<T>,
                                       dO: UnsafePointer<T>, limits: UnsafePointer<Int>, n: Int, qw: Int, kvw: Int,
                                       g: Int, group: Int, headDim d: Int, scale: T,
                                       dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>,
                                       ds: UnsafeMutablePointer<T>) {
        let kv0 = g * d
        for hh in 0..<group {
            let hq = (g * group + hh) * d
            for t in 0..<n {
                let l = limits[t]
                let dot = dO + t * qw + hq
                let pt = p + (hh * n + t) * n
                let dst = ds + (hh * n + t) * n
                var c: T = 0
                for j in 0..<l {
                    let vj = v + j * kvw + kv0
                    var acc: T = 0
                    for i in 0..<d { acc = acc.addingProduct(dot[i], vj[i]) }
                    dst[j] = acc
                    c = c.addingProduct(acc, pt[j])
                }
                for j in 0..<l { dst[j] = (pt[j] * (dst[j] - c)) * scale }
                let dqt = dq + t * qw + hq
                for i in 0..<d { dqt[i] = 0 }
                for j in 0..<l {
                    let s = dst[j], kj = k + j * kvw + kv0
                    for i in 0..<d { dqt[i] = dqt[i].addingProduct(s, kj[i]) }
                }
            }
        }
        for j in 0..<n {
            let dkj = dk + j * kvw + kv0, dvj = dv + j * kvw + kv0
            for i in 0..<d { dkj[i] = 0; dvj[i] = 0 }
            for hh in 0..<group {
                let hq = (g * group + hh) * d
                for t in 0..<n where j < limits[t] {
                    let s = ds[(hh * n + t) * n + j], pr = p[(hh * n + t) * n + j]
                    let qt = q + t * qw + hq, dot = dO + t * qw + hq
                    for i in 0..<d {
                        dkj[i] = dkj[i].addingProduct(s, qt[i])
                        dvj[i] = dvj[i].addingProduct(pr, dot[i])
                    }
                }
            }
        }
    }
}

/// Sizes of one attention call: batch rows, positions n, heads, heads per kv head, head size,
/// the distance between batch rows of the keys/values (n·KV·D, or capacity·KV·D for a cache).
struct AttentionGeometry<T: LoomFloat> {
    let batch: Int, n: Int, heads: Int, group: Int, headDim: Int, batchStride: Int, scale: T
    var kvHeads: Int { heads / group }
    var qw: Int { heads * headDim }
    var kvw: Int { kvHeads * headDim }
}

extension AttentionKernel {
    /// Forward of every (batch row, head), split across threads by (row, head).
    /// Not inlined: called from deeply nested closures, where Embedded Swift would otherwise
    /// leave `parallelRanges` unspecialised; the context is read from
    /// `pass` (an existential parameter here is turned generic by the optimiser, with the same effect).
    @inline(never) @_specialize(where T == Float) @_specialize(where T == Double)
    static func forwardAll<T: LoomFloat>(_ pass: Pass<T>, _ geo: AttentionGeometry<T>, q: UnsafePointer<T>, k: UnsafePointer<T>,
                                         v: UnsafePointer<T>, limits: UnsafePointer<Int>, out: UnsafeMutablePointer<T>,
                                         probs: UnsafeMutablePointer<T>?, maxLimit: Int) {
        let n = geo.n, h = geo.heads, d = geo.headDim, qw = geo.qw
        let ctx = pass.context
        // Matrix products when every query, key and value that is read is finite (the same bits; see
        // forwardProducts): per batch row the positions below maxLimit (a KV cache's unused tail is
        // never read, and checking it cost more than the attention of a decode step).
        let read = maxLimit * geo.kvw
        var fast = allFinite(q, geo.batch * n * qw)
        var b = 0
        while fast && b < geo.batch {
            fast = allFinite(k + b * geo.batchStride, read) && allFinite(v + b * geo.batchStride, read)
            b += 1
        }
        ctx.parallelRanges(geo.batch * h, minChunk: 1) { r in
            let scratch = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, fast ? n * maxLimit : maxLimit))
            defer { scratch.deallocate() }
            for job in r {
                let bi = job / h, hi = job % h, g = hi / geo.group
                forward(q: q + bi * n * qw + hi * d, qs: qw, n: n,
                        k: k + bi * geo.batchStride + g * d, v: v + bi * geo.batchStride + g * d, ks: geo.kvw,
                        headDim: d, scale: geo.scale, limits: limits + bi * n,
                        out: out + bi * n * qw + hi * d, os: qw,
                        probs: probs.map { $0 + job * n * n }, ps: n, scratch: scratch, context: ctx, products: fast)
            }
        }
    }

    /// Backward of every (batch row, kv head), split across threads by (row, kv head).
    /// Not inlined: called from deeply nested closures, where Embedded Swift would otherwise
    /// leave `parallelRanges` unspecialised; the context is read from
    /// `pass` (an existential parameter here is turned generic by the optimiser, with the same effect).
    @inline(never) @_specialize(where T == Float) @_specialize(where T == Double)
    static func backwardAll<T: LoomFloat>(_ pass: Pass<T>, _ geo: AttentionGeometry<T>, q: UnsafePointer<T>, k: UnsafePointer<T>,
                                          v: UnsafePointer<T>, p: UnsafePointer<T>, dO: UnsafePointer<T>, limits: UnsafePointer<Int>,
                                          dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>) {
        let n = geo.n, kv = geo.kvHeads, qw = geo.qw, kvw = geo.kvw, group = geo.group
        let ctx = pass.context
        let fast = allFinite(q, geo.batch * n * qw) && allFinite(k, geo.batch * n * kvw) && allFinite(v, geo.batch * n * kvw)
            && allFinite(dO, geo.batch * n * qw)
        ctx.parallelRanges(geo.batch * kv, minChunk: 1) { r in
            let ds = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, group * n * n))
            defer { ds.deallocate() }
            for job in r {
                let bi = job / kv, g = job % kv
                if fast {
                    backwardProducts(ctx, q: q + bi * n * qw, k: k + bi * n * kvw, v: v + bi * n * kvw,
                                     p: p + (bi * geo.heads + g * group) * n * n, dO: dO + bi * n * qw, limits: limits + bi * n,
                                     n: n, qw: qw, kvw: kvw, g: g, group: group, headDim: geo.headDim, scale: geo.scale,
                                     dq: dq + bi * n * qw, dk: dk + bi * n * kvw, dv: dv + bi * n * kvw, ds: ds)
                    continue
                }
                backward(q: q + bi * n * qw, k: k + bi * n * kvw, v: v + bi * n * kvw, p: p + (bi * geo.heads + g * group) * n * n,
                         dO: dO + bi * n * qw, limits: limits + bi * n, n: n, qw: qw, kvw: kvw, g: g, group: group,
                         headDim: geo.headDim, scale: geo.scale,
                         dq: dq + bi * n * qw, dk: dk + bi * n * kvw, dv: dv + bi * n * kvw, ds: ds)
            }
        }
    }
}

extension AttentionKernel {
    @inline(__always) static func allFinite<T: LoomFloat>(_ p: UnsafePointer<T>, _ count: Int) -> Bool {
        for i in 0..<count where !p[i].isFinite { return false }
        return true
    }
}
