import XCTest
import Glibc
import LoomCore
import LoomGPU
import LoomNN
import Loom

/// The CUDA backend without a GPU (CI): the generated kernel sources, their compilation with NVRTC
/// (the PyPI wheel that scripts/test installs; LOOM_NVRTC points at it), and the errors when no
/// driver is present. docs/gpu.md.
final class GemmKernelTests: XCTestCase {
    func kernel(m: Int, n: Int, k: Int, transposeB: Bool = false, accumulate: Bool = false, f64: Bool = false,
                tile: GemmKernel.Tile? = nil) -> GemmKernel {
        var a = [Float](repeating: 0, count: 1), b = a, c = a
        return a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            GemmKernel(GemmProblem(m: m, n: n, k: k, a: UnsafePointer(ap.baseAddress!), rsA: k, csA: 1, b: UnsafePointer(bp.baseAddress!),
                                   rsB: transposeB ? 1 : n, csB: transposeB ? k : 1, c: cp.baseAddress!, ldc: n, accumulate: accumulate),
                       element: f64 ? .f64 : .f32, tile: tile)
        } } }
    }

    /// The chain is the canonical one: a correctly rounded fma per k, from +0 or from C.
    func testSourceIsTheCanonicalChain() {
        let s = kernel(m: 257, n: 131, k: 77).source
        XCTAssertTrue(s.contains("acc[i][j] = __fmaf_rn(a[i], b[j], acc[i][j]);"))
        XCTAssertEqual(kernel(m: 257, n: 131, k: 77).arguments, [257, 131, 77, 77, 1, 131, 1, 131])
        XCTAssertEqual(s, kernel(m: 3, n: 900, k: 5).source, "one module serves every shape of a class")
        XCTAssertNotEqual(s, kernel(m: 257, n: 131, k: 77, transposeB: true).source)
        XCTAssertTrue(s.contains("constexpr long long CSA = 1;") && s.contains("constexpr long long CSB = 1;"))
        XCTAssertTrue(s.contains("acc[i][j] = (float)0;"), "starts from +0 without accumulate")
        XCTAssertFalse(s.contains("__fmul_rn") || s.contains("fmaf(") || s.contains("__expf"))
        XCTAssertTrue(s.contains("for (int kk = 0; kk < K - k0; ++kk) step(buf, kk);"), "the last tile stops at K: no zero padding in a chain")
        let acc = kernel(m: 8, n: 8, k: 8, accumulate: true, f64: true).source
        XCTAssertTrue(acc.contains("__fma_rn(a[i], b[j], acc[i][j])") && acc.contains("double"))
        XCTAssertTrue(acc.contains("C[r * LDC + c] : (double)0"), "accumulate starts from C")
    }

    func testTilesGridAndSpans() {
        let small = kernel(m: 257, n: 131, k: 77)
        XCTAssertEqual(small.tile, .small)
        XCTAssertEqual(small.grid.x, 3)
        XCTAssertEqual(small.grid.y, 5)
        XCTAssertEqual(small.spans.a, 257 * 77)
        XCTAssertEqual(small.spans.b, 77 * 131)
        XCTAssertEqual(small.spans.c, 257 * 131)
        let t = kernel(m: 4, n: 3, k: 5, transposeB: true)
        XCTAssertEqual(t.spans.b, (5 - 1) * 1 + (3 - 1) * 5 + 1)
        XCTAssertTrue(t.source.contains("const int kk = (e / (8 * BN)) * 8 + e % 8, c = (e / 8) % BN;"), "B with k contiguous is loaded along k")
        // The first preferred tile that fills at least 90% of a wave on 132 multiprocessors.
        XCTAssertEqual(kernel(m: 1024, n: 1024, k: 1024).tile, .tall2)
        XCTAssertTrue(kernel(m: 1024, n: 1024, k: 1024).source.contains("__launch_bounds__(256, 2)"), "two blocks per multiprocessor")
        XCTAssertEqual(kernel(m: 2048, n: 1024, k: 512).tile, .large16)
        XCTAssertEqual(kernel(m: 2048, n: 2048, k: 8).tile, .huge)
        XCTAssertEqual(kernel(m: 2048, n: 2048, k: 8, f64: true).tile, .large, "f64 tiles of 256×128×8 or 128×128×16 need over 48 KiB")
        XCTAssertEqual(kernel(m: 300, n: 300, k: 8).tile, .small)
        // Few outputs and a long k (a convolution's weight gradient over a batch): small blocks, long k tiles.
        XCTAssertEqual(kernel(m: 32, n: 144, k: 16384).tile, .longK)
        XCTAssertEqual(kernel(m: 32, n: 144, k: 16384, f64: true).tile, .longK)
        XCTAssertLessThanOrEqual(kernel(m: 32, n: 144, k: 16384, f64: true).sharedBytes, GemmKernel.sharedLimit)
        XCTAssertEqual(kernel(m: 32, n: 144, k: 100).tile, .small)
        XCTAssertTrue(kernel(m: 32, n: 144, k: 16384).source.contains("b[j] = Bs[buf][kk][tx * TN + j];"), "one output per thread: scalar reads")
        XCTAssertEqual(GemmKernel.Tile.medium.threads, 256)
        for t in GemmKernel.Tile.candidates {
            XCTAssertEqual((t.bm * t.tk) % t.threads, 0, "A tile loads evenly")
            XCTAssertEqual((t.bn * t.tk) % t.threads, 0, "B tile loads evenly")
            XCTAssertTrue((t.tm % 4 == 0 && t.tn % 4 == 0) || (t.tm == 1 && t.tn == 1),
                          "a thread's rows and columns are read as 16-byte vectors, or it owns one output")
            XCTAssertEqual(t.tk % 8, 0, "k-major loads take 8 values of k per row")
        }
        XCTAssertLessThanOrEqual(kernel(m: 4096, n: 4096, k: 8, f64: true).sharedBytes, GemmKernel.sharedLimit)
        let large = kernel(m: 4096, n: 4096, k: 4096)
        XCTAssertEqual(large.tile, .huge)
        XCTAssertEqual(large.tile.threads, 256)
        XCTAssertEqual(GemmKernel.Tile.small.threads, 256)
    }

    /// Every kind of generated kernel compiles with NVRTC into a CUBIN (an ELF file) for Hopper
    /// and Ampere. Required when LOOM_REQUIRE_NVRTC=1 (scripts/test); skipped elsewhere without NVRTC.
    func testEveryKernelCompilesWithNVRTC() throws {
        let nvrtc: NVRTC
        do { nvrtc = try NVRTC() } catch {
            if ProcessInfoLite.env("LOOM_REQUIRE_NVRTC") == "1" { XCTFail("NVRTC is required here: \(error)") }
            throw XCTSkip("no NVRTC on this machine: \(error)")
        }
        let kernels = [kernel(m: 257, n: 131, k: 77), kernel(m: 1, n: 1, k: 1), kernel(m: 5, n: 7, k: 0),
                       kernel(m: 64, n: 300, k: 33, transposeB: true), kernel(m: 2048, n: 1024, k: 512),
                       kernel(m: 100, n: 100, k: 100, accumulate: true), kernel(m: 1024, n: 1024, k: 9, f64: true),
                       kernel(m: 4096, n: 4096, k: 64), kernel(m: 4096, n: 2048, k: 64, f64: true)]
        // Every tile the benchmark measures, in both element types where it fits in shared memory.
        let tiles = GemmKernel.Tile.candidates.flatMap { t in [false, true].map { kernel(m: 512, n: 512, k: 64, f64: $0, tile: t) } }
            .filter { $0.sharedBytes <= GemmKernel.sharedLimit }
        for arch in ["sm_90", "sm_80"] {
            for k in kernels + (arch == "sm_90" ? tiles : []) {
                let cubin = try nvrtc.compile(k.source, name: GemmKernel.functionName, arch: arch)
                XCTAssertEqual(Array(cubin.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "\(arch) \(k.m)×\(k.n)×\(k.k): not an ELF CUBIN")
            }
        }
        XCTAssertThrowsError(try nvrtc.compile("extern \"C\" __global__ void broken( {", name: "broken", arch: "sm_90")) { e in
            XCTAssertTrue((e as? LoomError)?.message.contains("did not compile") ?? false, "\(e)")
        }
    }

    /// Without an NVIDIA driver (CI), asking for the GPU is a device error that says what to do,
    /// and the CPU still works.
    func testNoDriverIsAClearError() throws {
        if ProcessInfoLite.fileExists("/usr/local/nvidia/lib64/libcuda.so.1") || ProcessInfoLite.fileExists("/usr/lib/x86_64-linux-gnu/libcuda.so.1") {
            throw XCTSkip("this machine has an NVIDIA driver")
        }
        XCTAssertThrowsError(try Device.cuda(index: 0).context()) { e in
            guard let le = e as? LoomError else { return XCTFail("\(e)") }
            XCTAssertEqual(le.kind, .device)
            XCTAssertTrue(le.message.contains("no NVIDIA driver") && le.message.contains("CPU"), le.message)
        }
        XCTAssertNoThrow(try Device.cpu.context(threads: 1))
    }

    /// A trainer on the CPU stays there: attaching the resident GPU path says why not and leaves
    /// the trainer as it was.
    func testResidentTrainingNeedsAGPUContext() throws {
        let spec = NetworkSpec(name: "r", dtype: .f32, seed: 1, inputShape: [3], layers: [.dense(units: 2, activation: .relu, bias: true)])
        let trainer = Trainer(network: try Network<Float>(spec), spec: TrainingSpec(), context: try Device.cpu.context(threads: 1))
        let why = try XCTUnwrap(trainer.attachResidentGPU())
        XCTAssertEqual(why.kind, .device)
        XCTAssertTrue(why.message.contains("CPU"), why.message)
        XCTAssertNil(trainer.accelerator)
        XCTAssertNoThrow(try trainer.synchronize())
    }

    func testDeviceParsing() throws {
        XCTAssertEqual(try Device(parsing: "cpu"), .cpu)
        XCTAssertEqual(try Device(parsing: "cuda"), .cuda(index: 0))
        XCTAssertEqual(try Device(parsing: "cuda:3"), .cuda(index: 3))
        for bad in ["gpu", "cuda:", "cuda:-1", "CUDA"] {
            XCTAssertThrowsError(try Device(parsing: bad), bad)
        }
    }
}

/// Environment and file checks without Foundation.
enum ProcessInfoLite {
    static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
