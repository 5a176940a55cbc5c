import Glibc
import LoomCore

/// One NVIDIA GPU through the driver API: its primary context, device memory, and the kernels
/// Loom generates (compiled by NVRTC for its architecture, loaded once per source).
public final class CUDADevice {
    let driver: CUDADriver
    public let nvrtc: NVRTC
    public let index: Int
    public let name: String
    /// Compute capability, e.g. (9, 0).
    public let capability: (Int, Int)
    public let memoryBytes: Int
    public let multiprocessors: Int
    let context: OpaquePointer
    /// Loaded modules by source, and their functions by name.
    private var modules: [String: OpaquePointer] = [:]
    private var functions: [String: [String: OpaquePointer]] = [:]
    /// Product kernels by class (so a product never rebuilds or hashes its source once loaded).
    private var gemmFunctions: [GemmKernel.Class: OpaquePointer] = [:]

    /// The product kernel of `spec`'s class.
    func gemmFunction(_ spec: GemmKernel) throws(LoomError) -> OpaquePointer {
        if let f = gemmFunctions[spec.kernelClass] { return f }
        let f = try function(spec.source, GemmKernel.functionName)
        gemmFunctions[spec.kernelClass] = f
        return f
    }
    private var lock = pthread_mutex_t()
    /// Scratch device buffers reused by `gemm` (grown on demand).
    private var scratch: [CUdeviceptr] = [0, 0, 0]
    private var scratchBytes: [Int] = [0, 0, 0]

    /// The driver's version (e.g. 13000 for CUDA 13.0).
    public var driverVersion: Int { Int(driver.version) }
    /// NVRTC's target for this device ("sm_90").
    public var arch: String { "sm_\(capability.0)\(capability.1)" }

    /// GPU `index` (0 = the first). Errors say which part is missing and what to do.
    public init(index: Int = 0) throws(LoomError) {
        driver = try CUDADriver()
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard count > 0 else {
            throw LoomError(.device, "cuda", "the NVIDIA driver is installed but sees no GPU: check that one is attached (nvidia-smi), or use the CPU")
        }
        guard index >= 0 && index < Int(count) else {
            throw LoomError(.device, "cuda", "GPU \(index) does not exist: this machine has \(count) (0..<\(count))")
        }
        nvrtc = try NVRTC()
        var dev: Int32 = 0
        try driver.check(driver.cuDeviceGet(&dev, Int32(index)), "cuDeviceGet")
        var buf = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&buf, 256, dev), "cuDeviceGetName")
        var major: Int32 = 0, minor: Int32 = 0
        try driver.check(driver.cuDeviceGetAttribute(&major, 75, dev), "cuDeviceGetAttribute")  // COMPUTE_CAPABILITY_MAJOR
        try driver.check(driver.cuDeviceGetAttribute(&minor, 76, dev), "cuDeviceGetAttribute")  // COMPUTE_CAPABILITY_MINOR
        var mem = 0, sms: Int32 = 0
        try driver.check(driver.cuDeviceTotalMem(&mem, dev), "cuDeviceTotalMem")
        try driver.check(driver.cuDeviceGetAttribute(&sms, 16, dev), "cuDeviceGetAttribute")  // MULTIPROCESSOR_COUNT
        var ctx: OpaquePointer? = nil
        try driver.check(driver.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain")
        guard let ctx else { throw LoomError(.device, "cuDevicePrimaryCtxRetain", "returned no context") }
        self.index = index
        name = String(cString: buf)
        capability = (Int(major), Int(minor))
        memoryBytes = mem
        multiprocessors = Int(sms)
        context = ctx
        pthread_mutex_init(&lock, nil)
    }

    /// Makes the context current on the calling thread and runs `body` under the device lock.
    func withContext<R>(_ body: () throws(LoomError) -> R) throws(LoomError) -> R {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        return try body()
    }

    /// The kernel `function` of `source`; each source is compiled and loaded once (a source may
    /// hold several kernels).
    func function(_ source: String, _ function: String) throws(LoomError) -> OpaquePointer {
        if let f = functions[source]?[function] { return f }
        let module: OpaquePointer
        if let m = modules[source] {
            module = m
        } else {
            let cubin = try nvrtc.compile(source, name: function, arch: arch)
            var m: OpaquePointer? = nil
            let loaded = cubin.withUnsafeBytes { driver.cuModuleLoadData(&m, $0.baseAddress) }
            try driver.check(loaded, "cuModuleLoadData")
            guard let m else { throw LoomError(.device, "cuModuleLoadData", "returned no module") }
            modules[source] = m
            module = m
        }
        var f: OpaquePointer? = nil
        try driver.check(driver.cuModuleGetFunction(&f, module, function), "cuModuleGetFunction(\(function))")
        guard let f else { throw LoomError(.device, "cuModuleGetFunction", "returned no function") }
        functions[source, default: [:]][function] = f
        return f
    }

    /// A device buffer of at least `bytes` in scratch slot `slot`.
    private func scratchBuffer(_ slot: Int, _ bytes: Int) throws(LoomError) -> CUdeviceptr {
        if scratchBytes[slot] >= bytes && scratch[slot] != 0 { return scratch[slot] }
        if scratch[slot] != 0 { _ = driver.cuMemFree(scratch[slot]); scratch[slot] = 0; scratchBytes[slot] = 0 }
        var p: CUdeviceptr = 0
        try driver.check(driver.cuMemAlloc(&p, Swift.max(bytes, 16)), "cuMemAlloc")
        scratch[slot] = p
        scratchBytes[slot] = bytes
        return p
    }

    /// The canonical product `p` on this GPU: operands copied in, C copied back. Bit-identical to
    /// `ReferenceGemm.run(p)`.
    public func gemm<T: LoomFloat>(_ p: GemmProblem<T>) throws(LoomError) {
        guard p.m > 0 && p.n > 0 else { return }
        guard p.rsA >= 0, p.csA >= 0, p.rsB >= 0, p.csB >= 0, p.ldc >= p.n || p.m == 1 else {
            throw LoomError(.device, "gemm", "negative or overlapping strides are not supported on the GPU")
        }
        let spec = GemmKernel(p, element: T.dtype == .f64 ? .f64 : .f32, multiprocessors: multiprocessors)
        let (sa, sb, sc) = spec.spans
        let size = MemoryLayout<T>.stride
        try withContext { () throws(LoomError) in
            let f = try gemmFunction(spec)
            let a = try scratchBuffer(0, sa * size), b = try scratchBuffer(1, sb * size), c = try scratchBuffer(2, sc * size)
            if sa > 0 { try driver.check(driver.cuMemcpyHtoD(a, UnsafeRawPointer(p.a), sa * size), "cuMemcpyHtoD") }
            if sb > 0 { try driver.check(driver.cuMemcpyHtoD(b, UnsafeRawPointer(p.b), sb * size), "cuMemcpyHtoD") }
            if p.accumulate { try driver.check(driver.cuMemcpyHtoD(c, UnsafeRawPointer(p.c), sc * size), "cuMemcpyHtoD") }
            try launchHeld(f, blocks: spec.grid, threads: spec.tile.threads, spec.launchArguments(a: a, b: b, c: c))
            try driver.check(driver.cuCtxSynchronize(), "kernel \(GemmKernel.functionName)")
            // Only C's rows of n values are written back (ldc may leave gaps owned by others).
            if p.ldc == p.n {
                try driver.check(driver.cuMemcpyDtoH(UnsafeMutableRawPointer(p.c), c, sc * size), "cuMemcpyDtoH")
            } else {
                for i in 0..<p.m {
                    try driver.check(driver.cuMemcpyDtoH(UnsafeMutableRawPointer(p.c + i * p.ldc), c + CUdeviceptr(i * p.ldc * size), p.n * size), "cuMemcpyDtoH")
                }
            }
        }
    }

    // MARK: - Device buffers and timing (benchmarks)

    /// A device buffer holding `values`.
    public func upload<T>(_ values: [T]) throws(LoomError) -> CUdeviceptr {
        let p = try allocate(Swift.max(values.count * MemoryLayout<T>.stride, 16))
        try values.withUnsafeBufferPointer { (b) throws(LoomError) in try copyIn(b, to: p) }
        return p
    }

    public func free(_ p: CUdeviceptr) {
        _ = try? withContext { () throws(LoomError) in _ = driver.cuMemFree(p) }
    }

    /// Runs the product kernel of `spec` on device buffers `repeats` times and returns each launch's
    /// time in milliseconds (CUDA events), after one warm-up launch.
    public func timeGemm(_ spec: GemmKernel, a: CUdeviceptr, b: CUdeviceptr, c: CUdeviceptr, repeats: Int) throws(LoomError) -> [Double] {
        try withContext { () throws(LoomError) in
            let f = try gemmFunction(spec)
            let args = spec.launchArguments(a: a, b: b, c: c)
            try launchHeld(f, blocks: spec.grid, threads: spec.tile.threads, args)
            try driver.check(driver.cuCtxSynchronize(), "warm-up")
            var start: OpaquePointer? = nil, stop: OpaquePointer? = nil
            try driver.check(driver.cuEventCreate(&start, 0), "cuEventCreate")
            try driver.check(driver.cuEventCreate(&stop, 0), "cuEventCreate")
            var times = [Double]()
            for _ in 0..<repeats {
                try driver.check(driver.cuEventRecord(start, nil), "cuEventRecord")
                try launchHeld(f, blocks: spec.grid, threads: spec.tile.threads, args)
                try driver.check(driver.cuEventRecord(stop, nil), "cuEventRecord")
                try driver.check(driver.cuEventSynchronize(stop), "cuEventSynchronize")
                var ms: Float = 0
                try driver.check(driver.cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime")
                times.append(Double(ms))
            }
            return times
        }
    }
}
