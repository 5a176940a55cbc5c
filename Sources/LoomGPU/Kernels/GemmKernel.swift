import LoomCore

/// The CUDA C source of the canonical matrix product (`ReferenceGemm`) for one problem shape:
/// every output element is `acc = accumulate ? C : +0`, then `acc = fma(A[i,k], B[k,j], acc)` for
/// k = 0, 1, …, K−1 — the same chain, one correctly rounded fma per step, so the bits equal the
/// CPU's for any tiling and launch configuration. Tiles split rows and columns only; the k loop
/// of the last tile stops at K (no zero padding enters a chain: `fma(+0, +0, −0)` would be +0).
///
/// Sizes and strides are arguments, so one compiled module serves every shape of its class
/// (element type, accumulate, tile, which operand dimensions are contiguous): a network needs a
/// handful of compilations, not one per shape.
public struct GemmKernel: Hashable, Sendable {
    public enum Element: String, Sendable { case f32 = "float", f64 = "double" }

    /// A block of `bm`×`bn` outputs, `tm`×`tn` per thread, `tk` steps of k per shared-memory tile;
    /// `minBlocks` blocks per multiprocessor asked of the compiler (`__launch_bounds__`: it then keeps
    /// each thread within 65536 / (threads · minBlocks) registers).
    public struct Tile: Hashable, Sendable {
        public var bm: Int, bn: Int, tm: Int, tn: Int, tk: Int, minBlocks: Int
        public init(bm: Int, bn: Int, tm: Int, tn: Int, tk: Int, minBlocks: Int = 1) {
            self.bm = bm; self.bn = bn; self.tm = tm; self.tn = tn; self.tk = tk; self.minBlocks = minBlocks
        }
        public var threads: Int { (bm / tm) * (bn / tn) }
        /// "128x128x8", with "/2" when two blocks per multiprocessor are asked for.
        public var name: String { "\(bm)x\(bn)x\(tk)" + (minBlocks > 1 ? "/\(minBlocks)" : "") }
        public static let huge = Tile(bm: 256, bn: 128, tm: 16, tn: 8, tk: 8)
        public static let large16 = Tile(bm: 128, bn: 128, tm: 8, tn: 8, tk: 16)
        public static let large = Tile(bm: 128, bn: 128, tm: 8, tn: 8, tk: 8)
        public static let wide = Tile(bm: 64, bn: 128, tm: 4, tn: 8, tk: 16)
        /// 115 registers a thread, so two blocks share a multiprocessor: the best mid-size tile
        /// (1024²: 24.0 TFLOP/s against 20.7 for `wide`; H200, 2026-12-02).
        public static let tall2 = Tile(bm: 128, bn: 64, tm: 8, tn: 4, tk: 16, minBlocks: 2)
        public static let medium = Tile(bm: 128, bn: 64, tm: 8, tn: 4, tk: 8)
        public static let small = Tile(bm: 64, bn: 64, tm: 4, tn: 4, tk: 16)
        /// For products with few outputs and a long k (weight gradients summed over a whole batch
        /// of positions): small blocks, so more of them run, and long k tiles, so each chain waits
        /// for memory less often (docs/gpu.md): one output per thread (8×32 per block), read from
        /// shared memory one value at a time; 48 KiB of shared memory in f64.
        public static let longK = Tile(bm: 8, bn: 32, tm: 1, tn: 1, tk: 64)
        /// In order of preference (measured on an H200, docs/gpu.md): the first whose shared memory
        /// fits (48 KiB) and that fills at least 90% of one wave (a block per multiprocessor).
        public static let all: [Tile] = [.huge, .large16, .large, .tall2, .medium, .small]
        /// Tiles the benchmark measures.
        /// When no tile of `all` fills a wave: `longK` for k ≥ `longKMinimum`, else `small`.
        public static let longKMinimum = 512
        public static let candidates: [Tile] = all + [.longK,
            Tile(bm: 64, bn: 64, tm: 4, tn: 4, tk: 8), Tile(bm: 64, bn: 64, tm: 4, tn: 4, tk: 32),
            Tile(bm: 128, bn: 256, tm: 8, tn: 16, tk: 8), .wide, Tile(bm: 64, bn: 128, tm: 4, tn: 8, tk: 16, minBlocks: 2),
            Tile(bm: 128, bn: 128, tm: 8, tn: 8, tk: 8, minBlocks: 2)]
    }

    public var element: Element
    public var m: Int, n: Int, k: Int
    public var rsA: Int, csA: Int, rsB: Int, csB: Int, ldc: Int
    public var accumulate: Bool
    public var tile: Tile

    public static let functionName = "loom_gemm"

    /// The kernel's arguments after A, B and C, in order (each 64-bit).
    public var arguments: [Int] { [m, n, k, rsA, csA, rsB, csB, ldc] }

    /// Every argument of a launch on device buffers `a`, `b`, `c`.
    public func launchArguments(a: CUdeviceptr, b: CUdeviceptr, c: CUdeviceptr) -> [KernelArgument] {
        [.pointer(a), .pointer(b), .pointer(c)] + arguments.map { .int($0) }
    }

    /// The kernel for `p` on a GPU with `multiprocessors` (H100/H200: 132); `tile` overrides the
    /// choice (benchmarks). The tile never changes a result.
    public init<T>(_ p: GemmProblem<T>, element: Element, multiprocessors: Int = 132, tile: Tile? = nil) {
        self.init(Shape(m: p.m, n: p.n, k: p.k, rsA: p.rsA, csA: p.csA, rsB: p.rsB, csB: p.csB, ldc: p.ldc, accumulate: p.accumulate),
                  element: element, multiprocessors: multiprocessors, tile: tile)
    }

    /// The sizes, strides and start value of a product (a `GemmProblem` without its pointers).
    public struct Shape: Sendable {
        public var m: Int, n: Int, k: Int, rsA: Int, csA: Int, rsB: Int, csB: Int, ldc: Int, accumulate: Bool
        public init(m: Int, n: Int, k: Int, rsA: Int, csA: Int, rsB: Int, csB: Int, ldc: Int, accumulate: Bool) {
            self.m = m; self.n = n; self.k = k; self.rsA = rsA; self.csA = csA; self.rsB = rsB; self.csB = csB
            self.ldc = ldc; self.accumulate = accumulate
        }
    }

    public init(_ p: Shape, element: Element, multiprocessors: Int = 132, tile: Tile? = nil) {
        self.element = element
        m = p.m; n = p.n; k = p.k
        rsA = p.rsA; csA = p.csA; rsB = p.rsB; csB = p.csB; ldc = p.ldc
        accumulate = p.accumulate
        let (m, n) = (p.m, p.n)
        let fits = { (t: Tile) in GemmKernel.sharedBytes(t, element) <= GemmKernel.sharedLimit }
        self.tile = tile ?? Tile.all.first { 10 * GemmKernel.blocks(m, n, $0) >= 9 * multiprocessors && fits($0) }
            ?? (p.k >= Tile.longKMinimum ? .longK : .small)
    }

    /// What the source depends on (sizes and strides are arguments): kernels of one class share
    /// one compiled function.
    public struct Class: Hashable, Sendable {
        public var element: Element, tile: Tile, accumulate: Bool, aContiguous: Bool, bContiguous: Bool
    }
    public var kernelClass: Class { Class(element: element, tile: tile, accumulate: accumulate, aContiguous: csA == 1, bContiguous: csB == 1) }

    /// The static shared memory a kernel may use.
    public static let sharedLimit = 48 * 1024

    static func blocks(_ m: Int, _ n: Int, _ t: Tile) -> Int { ((n + t.bn - 1) / t.bn) * ((m + t.bm - 1) / t.bm) }

    /// Static shared memory of the kernel (two A and two B tiles); at most 48 KiB compiles.
    public var sharedBytes: Int { GemmKernel.sharedBytes(tile, element) }

    static func sharedBytes(_ t: Tile, _ e: Element) -> Int {
        2 * (t.tk * (t.bm + 4) + t.tk * (t.bn + 4)) * (e == .f64 ? 8 : 4)
    }

    /// Blocks in x (columns) and y (rows).
    public var grid: (x: Int, y: Int) { ((n + tile.bn - 1) / tile.bn, (m + tile.bm - 1) / tile.bm) }

    /// Elements of A, B and C the kernel reads or writes (from each base pointer).
    public var spans: (a: Int, b: Int, c: Int) {
        func span(_ rows: Int, _ rs: Int, _ cols: Int, _ cs: Int) -> Int {
            rows == 0 || cols == 0 ? 0 : (rows - 1) * rs + (cols - 1) * cs + 1
        }
        return (span(m, rsA, k, csA), span(k, rsB, n, csB), span(m, ldc, n, 1))
    }

    public var source: String {
        let t = element.rawValue
        let fma = element == .f32 ? "__fmaf_rn" : "__fma_rn"
        let tl = tile, tx = tl.bn / tl.tn, ty = tl.bm / tl.tm, threads = tl.threads
        // Shared-memory reads as 16-byte vectors.
        let (vt, width) = element == .f32 ? ("float4", 4) : ("double2", 2)
        func unpack(_ into: String, _ g: String) -> String {
            (element == .f32 ? ["x", "y", "z", "w"] : ["x", "y"]).enumerated()
                .map { "\(into)[\(g) + \($0.offset)] = v.\($0.element);" }.joined(separator: " ")
        }
        // A thread's rows (columns) are read as vectors when they are a multiple of the vector width.
        let vectorA = tl.tm % width == 0, vectorB = tl.tn % width == 0
        // Shared-memory loads: consecutive threads walk the contiguous dimension when there is one.
        // Along k, a warp takes 8 values of each of 4 rows (columns): whole 32-byte sectors from
        // global memory, and 32 distinct banks when stored k-major with the padded row stride.
        let aIndex = csA == 1 ? "const int kk = (e / (8 * BM)) * 8 + e % 8, r = (e / 8) % BM;" : "const int r = e % BM, kk = e / BM;"
        let bIndex = csB == 1 ? "const int c = e % BN, kk = e / BN;" : "const int kk = (e / (8 * BN)) * 8 + e % 8, c = (e / 8) % BN;"
        return """
        // Generated by Loom (GemmKernel): the canonical fixed-order matrix product (sizes and strides
        // are arguments; A is \(csA == 1 ? "contiguous in k" : "strided in k"), B \(csB == 1 ? "contiguous in n" : "strided in n")).
        // acc = \(accumulate ? "C" : "+0"); acc = \(fma)(A[i,k], B[k,j], acc) for k = 0 ..< K.
        extern "C" __global__ void __launch_bounds__(\(threads)\(tl.minBlocks > 1 ? ", \(tl.minBlocks)" : ""))
        \(GemmKernel.functionName)(const \(t)* __restrict__ A, const \(t)* __restrict__ B, \(t)* __restrict__ C,
                  const long long M_, const long long N_, const long long K_, const long long RSA, const long long CSA_,
                  const long long RSB, const long long CSB_, const long long LDC) {
            const int M = (int)M_, N = (int)N_, K = (int)K_;
            \(csA == 1 ? "constexpr long long CSA = 1;" : "const long long CSA = CSA_;")
            \(csB == 1 ? "constexpr long long CSB = 1;" : "const long long CSB = CSB_;")
            constexpr int BM = \(tl.bm), BN = \(tl.bn), TM = \(tl.tm), TN = \(tl.tn), TK = \(tl.tk);
            constexpr int TX = \(tx), TY = \(ty), THREADS = \(threads);
            // Two shared-memory tiles: the next tile's values travel global → registers while this
            // one is used, then registers → the other buffer; one barrier per tile.
            // Rows padded by 4: the k-fastest stores hit distinct banks, and rows stay 16-byte aligned.
            __shared__ __align__(16) \(t) As[2][TK][BM + 4];
            __shared__ __align__(16) \(t) Bs[2][TK][BN + 4];
            // A thread's outputs: rows ty·TM + i (contiguous: read as vectors, broadcast in a warp);
            // columns in groups of V, group g at g·TX·V + tx·V (each vector load conflict-free).
            constexpr int V = \(width);
            #define ROW(i) (row0 + ty * TM + (i))
            \(vectorB ? "#define COL(j) (col0 + ((j) / V) * (TX * V) + tx * V + ((j) % V))" : "#define COL(j) (col0 + tx * TN + (j))")
            constexpr int LA = (BM * TK) / THREADS, LB = (BN * TK) / THREADS;
            const int tid = threadIdx.x, tx = tid % TX, ty = tid / TX;
            const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
            \(t) acc[TM][TN], ra[LA], rb[LB];
            #pragma unroll
            for (int i = 0; i < TM; ++i) {
                #pragma unroll
                for (int j = 0; j < TN; ++j) {
                    const int r = ROW(i), c = COL(j);
                    acc[i][j] = \(accumulate ? "(r < M && c < N) ? C[r * LDC + c] : (\(t))0" : "(\(t))0");
                }
            }
            // The tile at k0 into registers (values past M, N or K are never used by a chain).
            auto load = [&](const int k0) {
                #pragma unroll
                for (int q = 0; q < LA; ++q) {
                    const int e = tid + THREADS * q;
                    \(aIndex)
                    const int gr = row0 + r, gk = k0 + kk;
                    ra[q] = (gr < M && gk < K) ? A[gr * RSA + gk * CSA] : (\(t))0;
                }
                #pragma unroll
                for (int q = 0; q < LB; ++q) {
                    const int e = tid + THREADS * q;
                    \(bIndex)
                    const int gk = k0 + kk, gc = col0 + c;
                    rb[q] = (gk < K && gc < N) ? B[gk * RSB + gc * CSB] : (\(t))0;
                }
            };
            auto store = [&](const int buf) {
                #pragma unroll
                for (int q = 0; q < LA; ++q) {
                    const int e = tid + THREADS * q;
                    \(aIndex)
                    As[buf][kk][r] = ra[q];
                }
                #pragma unroll
                for (int q = 0; q < LB; ++q) {
                    const int e = tid + THREADS * q;
                    \(bIndex)
                    Bs[buf][kk][c] = rb[q];
                }
            };
            // One step of every chain this thread owns (k = k0 + kk).
            auto step = [&](const int buf, const int kk) {
                \(t) a[TM], b[TN];
                \(vectorA ? """
                #pragma unroll
                for (int g = 0; g < TM; g += V) {
                    const \(vt) v = *reinterpret_cast<const \(vt)*>(&As[buf][kk][ty * TM + g]);
                    \(unpack("a", "g"))
                }
                """ : "for (int i = 0; i < TM; ++i) a[i] = As[buf][kk][ty * TM + i];")
                \(vectorB ? """
                #pragma unroll
                for (int g = 0; g < TN; g += V) {
                    const \(vt) v = *reinterpret_cast<const \(vt)*>(&Bs[buf][kk][(g / V) * (TX * V) + tx * V]);
                    \(unpack("b", "g"))
                }
                """ : "for (int j = 0; j < TN; ++j) b[j] = Bs[buf][kk][tx * TN + j];")
                #pragma unroll
                for (int i = 0; i < TM; ++i) {
                    #pragma unroll
                    for (int j = 0; j < TN; ++j) acc[i][j] = \(fma)(a[i], b[j], acc[i][j]);
                }
            };
            if (K > 0) { load(0); store(0); }
            __syncthreads();
            int buf = 0;
            for (int k0 = 0; k0 < K; k0 += TK) {
                const bool more = k0 + TK < K;
                if (more) load(k0 + TK);
                if (K - k0 >= TK) {
                    #pragma unroll
                    for (int kk = 0; kk < TK; ++kk) step(buf, kk);
                } else {
                    for (int kk = 0; kk < K - k0; ++kk) step(buf, kk);
                }
                if (more) store(buf ^ 1);
                __syncthreads();
                buf ^= 1;
            }
            #pragma unroll
            for (int i = 0; i < TM; ++i) {
                #pragma unroll
                for (int j = 0; j < TN; ++j) {
                    const int r = ROW(i), c = COL(j);
                    if (r < M && c < N) C[r * LDC + c] = acc[i][j];
                }
            }
        }

        """
    }
}
