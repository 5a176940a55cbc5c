import Loom
import LoomCore
import LoomGPU
import LoomNN

/// `loom bench --mode gpu-gemm`: the fixed-order product kernel on the GPU, on random operands
/// resident in device memory, timed with CUDA events (median of the repeats after a warm-up), and
/// its bits compared with the CPU's canonical product.
enum GPUGemmBench {
    static func run<T: LoomFloat>(_: T.Type, sizes: [Int], repeats: Int, host: CPUContext) throws {
        let device = try CUDADevice(index: 0)
        for n in sizes {
            for tile in [nil] + GemmKernel.Tile.candidates.map(Optional.some) {
                try one(T.self, n: n, tile: tile, repeats: repeats, device: device, host: host)
            }
        }
    }

    /// One size with one tile (nil: the device's own choice, printed as "auto").
    static func one<T: LoomFloat>(_: T.Type, n: Int, tile: GemmKernel.Tile?, repeats: Int, device: CUDADevice, host: CPUContext) throws {
        let a: Tensor<T> = Init.uniform([n, n], bound: 1, seed: 11, name: "gpu-bench-a")
        let b: Tensor<T> = Init.uniform([n, n], bound: 1, seed: 12, name: "gpu-bench-b")
        var spec: GemmKernel? = nil
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                var dummy = [T](repeating: 0, count: 1)
                dummy.withUnsafeMutableBufferPointer { cp in
                    spec = GemmKernel(GemmProblem(m: n, n: n, k: n, a: ap.baseAddress!, rsA: n, csA: 1, b: bp.baseAddress!, rsB: n, csB: 1,
                                                  c: cp.baseAddress!, ldc: n, accumulate: false), element: T.dtype == .f64 ? .f64 : .f32,
                                      multiprocessors: device.multiprocessors, tile: tile)
                }
            }
        }
        guard let spec, spec.sharedBytes <= GemmKernel.sharedLimit else { return }
        let da = try device.upload(a.data), db = try device.upload(b.data)
        let dc = try device.upload([T](repeating: T(Double.nan), count: n * n))  // poisoned: every element must be written
        defer { device.free(da); device.free(db); device.free(dc) }
        let times = try device.timeGemm(spec, a: da, b: db, c: dc, repeats: repeats).sorted()
        let median = times[times.count / 2]
        let gpu = try device.copyOut(dc, count: n * n, as: T.self)
        var cpu = [T](repeating: 0, count: n * n)
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                cpu.withUnsafeMutableBufferPointer { cp in
                    Gemm.run(host, GemmProblem(m: n, n: n, k: n, a: ap.baseAddress!, rsA: n, csA: 1, b: bp.baseAddress!, rsB: n, csB: 1,
                                               c: cp.baseAddress!, ldc: n, accumulate: false))
                }
            }
        }
        let mismatches = zip(gpu, cpu).reduce(0) { $0 + ($1.0.bits64 == $1.1.bits64 ? 0 : 1) }
        let tflops = 2 * Double(n) * Double(n) * Double(n) / (median * 1e-3) / 1e12
        out("gpu_gemm \(T.dtype.name) n=\(n) device=\"\(device.name)\" tile=\(tile == nil ? "auto:" : "")\(spec.tile.name) ms=\(median) tflops=\(tflops) mismatches_vs_cpu=\(mismatches)")
        if mismatches > 0 { throw LoomError(.device, "gpu-gemm", "\(mismatches) of \(n * n) elements differ from the CPU's bits at n=\(n)") }
    }
}
