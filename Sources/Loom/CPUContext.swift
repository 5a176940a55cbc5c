#if canImport(Glibc)
import Glibc
#endif
import LoomCore
import CLoomKernels

/// The native compute context: `threads` chunks run on the process's persistent worker pool
/// (`loom_parallel_for`, Sources/CLoomKernels/pool.c), matrix products use the C SIMD kernels
/// (AVX-512 / AVX2+FMA / portable, chosen at run time). Every result equals `SerialContext`'s bit
/// for bit, whatever the thread count.
public final class CPUContext: ComputeContext {
    public let threads: Int

    /// `threads` = nil: all cores.
    public init(threads: Int? = nil) {
        self.threads = Swift.max(1, threads ?? CPUContext.coreCount)
    }

    /// Makes the C allocator keep freed blocks for reuse instead of returning them to the kernel
    /// (glibc: large blocks from the heap up to 32 MiB, the heap trimmed only above 512 MiB free), so
    /// that a loop which allocates the same large buffers every step stops paying for fresh zeroed
    /// pages. A process-wide setting for programs that run networks (the `loom` tool sets it);
    /// it changes where memory comes from, never a value. No effect outside glibc.
    public static func keepFreedMemory() { loom_keep_freed_memory() }

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
            var task = b
            withUnsafeMutablePointer(to: &task) { p in
                loom_parallel_for(Int64(count), Int32(clamping: threads), { raw, i in
                    raw!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
                }, p)
            }
        }
    }

    public func ggufDotTile(type: UInt32, weights: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, cols: Int, tokens: Int,
                            codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Int32>,
                            into y: UnsafeMutablePointer<Float>, ldy: Int) -> Bool {
        loom_gguf_dot_tile(type, weights, Int64(rowBytes), Int64(rows.lowerBound), Int64(rows.upperBound), Int64(cols),
                           Int64(tokens), codes, scales, sums, y, Int64(ldy)) != 0
    }

    public func quantizeQ8(_ x: UnsafePointer<Float>, count: Int, codes: UnsafeMutablePointer<Int8>,
                           scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>) -> Bool {
        loom_q8_quantize(x, Int64(count), codes, scales, sums)
        return true
    }

    /// DetMath's tables, handed to the C kernels (one copy of the data: LoomCore's).
    private static let tables: [String: [Double]] = Dictionary(uniqueKeysWithValues: DetMath.tables.map { ($0.name, $0.values) })
    private static let expTable = tables["det_exp_table"]!, erfSmall = tables["det_erf_small"]!, erfTable = tables["det_erf_table"]!

    public func detMap(_ f: DetFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        // Lanes outside the vector ranges run the Swift definition itself.
        let scalar: loom_scalar_f32
        switch f {
        case .exp: scalar = { DetMath.exp($0) }
        case .sigmoid: scalar = { DetMath.sigmoid($0) }
        case .tanh: scalar = { DetMath.tanh($0) }
        case .erf: scalar = { DetMath.erf($0) }
        }
        return CPUContext.expTable.withUnsafeBufferPointer { e in
            CPUContext.erfSmall.withUnsafeBufferPointer { s in
                CPUContext.erfTable.withUnsafeBufferPointer { t in
                    var tables = loom_det_tables(exp: e.baseAddress, erf_small: s.baseAddress, erf: t.baseAddress)
                    return loom_det_map_f32(f.rawValue, x, y, Int64(count), &tables, scalar) != 0
                }
            }
        }
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
