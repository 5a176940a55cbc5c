/// The canonical matrix product, the one definition every backend reproduces.
///
/// For every output element independently:
/// ```
/// acc = accumulate ? C[i,j] : +0.0
/// for k in 0..<K (increasing):  acc = fma(A[i,k], B[k,j], acc)   // fused, one rounding
/// C[i,j] = acc
/// ```
/// Parallel and SIMD versions split or vectorise across `i` and `j` only, so results do not
/// depend on the thread count, the tiling or the rows that share a batch.
public enum ReferenceGemm {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func run<T: LoomFloat>(_ p: GemmProblem<T>) {
        if p.m == 0 || p.n == 0 { return }
        for i in 0..<p.m {
            let crow = p.c + i * p.ldc
            if !p.accumulate { for j in 0..<p.n { crow[j] = 0 } }
            if p.k == 0 { continue }
            for k in 0..<p.k {
                let a = p.a[i * p.rsA + k * p.csA]
                let brow = p.b + k * p.rsB
                if p.csB == 1 {
                    for j in 0..<p.n { crow[j] = crow[j].addingProduct(a, brow[j]) }
                } else {
                    for j in 0..<p.n { crow[j] = crow[j].addingProduct(a, brow[j * p.csB]) }
                }
            }
        }
    }
}

public enum Gemm {
    /// Runs `p` on `context`, split across its threads by rows (or by columns when there are
    /// few rows). Every split gives the bits of `ReferenceGemm.run(p)`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func run<T: LoomFloat>(_ context: ComputeContext, _ p: GemmProblem<T>) {
        if p.m == 0 || p.n == 0 { return }
        let work = p.m * p.n * Swift.max(p.k, 1)
        let threads = context.threads
        if threads == 1 || work < 32_768 || context.takesWholeGemm {
            T.gemmKernel(context, p)
            return
        }
        if p.m >= 4 * threads {
            context.parallelRanges(p.m, minChunk: 4) { r in
                var q = p
                q.m = r.count
                q.a = p.a + r.lowerBound * p.rsA
                q.c = p.c + r.lowerBound * p.ldc
                T.gemmKernel(context, q)
            }
        } else {
            // Few rows (e.g. one sample): split columns in blocks of 64.
            let blocks = (p.n + 63) / 64
            context.parallelRanges(blocks) { r in
                var q = p
                let j0 = r.lowerBound * 64
                let j1 = Swift.min(p.n, r.upperBound * 64)
                q.n = j1 - j0
                q.b = p.b + j0 * p.csB
                q.c = p.c + j0
                T.gemmKernel(context, q)
            }
        }
    }
}
