import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LoomCore
import CLoomKernels

/// The native compute context: `threads` chunks run on Dispatch's pool, matrix products use the
/// C SIMD kernels (AVX-512 / AVX2+FMA / portable, chosen at run time). Every result equals
/// `SerialContext`'s bit for bit, whatever the thread count.
public final class CPUContext: ComputeContext {
    public let threads: Int

    /// `threads` = nil: all cores.
    public init(threads: Int? = nil) {
        self.threads = Swift.max(1, threads ?? CPUContext.coreCount)
    }

    public static var coreCount: Int {
        #if canImport(Glibc) || canImport(Darwin)
        return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }

    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threads == 1 {
            var i = 0
            while i < count { body(i); i += 1 }
            return
        }
        withoutActuallyEscaping(body) { b in
            DispatchQueue.concurrentPerform(iterations: count) { i in b(i) }
        }
    }

    public func ggufDotRows(type: UInt32, weights: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, cols: Int,
                            codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Int32>,
                            into y: UnsafeMutablePointer<Float>) -> Bool {
        loom_gguf_dot_rows(type, weights, Int64(rowBytes), Int64(rows.lowerBound), Int64(rows.upperBound), Int64(cols),
                           codes, scales, sums, y) != 0
    }

    public func sgemm(_ p: GemmProblem<Float>) {
        loom_sgemm(Int64(p.m), Int64(p.n), Int64(p.k), p.a, Int64(p.rsA), Int64(p.csA),
                   p.b, Int64(p.rsB), Int64(p.csB), p.c, Int64(p.ldc), p.accumulate ? 1 : 0)
    }

    public func dgemm(_ p: GemmProblem<Double>) {
        loom_dgemm(Int64(p.m), Int64(p.n), Int64(p.k), p.a, Int64(p.rsA), Int64(p.csA),
                   p.b, Int64(p.rsB), Int64(p.csB), p.c, Int64(p.ldc), p.accumulate ? 1 : 0)
    }
}
