import LoomCore

/// Compares every `DetMathCUDA` function (and `maximum`/`minimum`, `pow`, and the f16/bf16 round trips of
/// rounded execution) on the GPU with the CPU, bit for bit (NaNs count as equal, as in every determinism check): `loom bench --mode gpu-math`.
///
/// Inputs: for Float, `count` bit patterns spread evenly over all 2^32 (every exponent, both
/// signs, subnormals, infinities, NaNs); for Double, `count` values: half spread over all 2^64
/// bit patterns, half uniform in [−50, 50] (where the functions' branches are).
public enum DetMathCheck {
    public struct Result: Sendable {
        public var function: String
        public var element: String
        public var count: Int
        public var mismatches: Int
        public var firstMismatch: String?
    }

    public static func run(device: CUDADevice, host: ComputeContext, count: Int) throws(LoomError) -> [Result] {
        var out = [Result]()
        let fs: [ScalarUnary] = [.exp, .expm1, .log, .log1p, .tanh, .sigmoid, .softplus, .erf]
        let xf: [Float] = (0..<count).map { i in Float(bitPattern: UInt32(truncatingIfNeeded: (UInt64(i) &* 0x1_0000_0000) / UInt64(count) &+ UInt64(i % 7))) }
        var xd = [Double]()
        let rng = Philox(seed: 99), stream = StreamID.of("detmath-check")
        for i in 0..<count {
            if i % 2 == 0 {
                xd.append(Double(bitPattern: (UInt64(i) &* (UInt64.max / UInt64(count))) &+ UInt64(i % 11)))
            } else {
                xd.append(rng.uniformDouble(stream: stream, index: UInt64(i)) * 100 - 50)
            }
        }
        for f in fs {
            let e = ScalarExpr.call(f, .name("x"))
            out.append(try compare(f.rawValue, e, xf, xf, device: device, host: host))
            out.append(try compare(f.rawValue, e, xd, xd, device: device, host: host))
        }
        // maximum and minimum (Swift's rules for NaN, signaling NaN and ±0) against a second
        // operand: the inputs reversed, then a signaling NaN, then ±0.
        for (name, op) in [("maximum", ScalarBinary.maximum), ("minimum", .minimum)] {
            let e = ScalarExpr.binary(op, .name("x"), .name("z"))
            var zf = Array(xf.reversed()), zd = Array(xd.reversed())
            for i in stride(from: 0, to: count, by: 5) { zf[i] = Float(bitPattern: 0x7F80_0001); zd[i] = Double(bitPattern: 0x7FF0_0000_0000_0001) }
            for i in stride(from: 1, to: count, by: 5) { zf[i] = i % 2 == 0 ? 0 : -0.0; zd[i] = i % 2 == 0 ? 0 : -0.0 }
            out.append(try compare(name, e, xf, zf, device: device, host: host))
            out.append(try compare(name, e, xd, zd, device: device, host: host))
        }
        // pow (binary, not a formula node): bases from the same sweeps, exponents uniform in [−8, 8]
        // with every eighth an integer (negative bases, exact powers of two).
        let yd: [Double] = (0..<count).map { i in
            let u = rng.uniformDouble(stream: StreamID.of("detmath-check-pow"), index: UInt64(i)) * 16 - 8
            return i % 8 == 0 ? u.rounded(.towardZero) : u
        }
        out.append(try comparePow(xf, yd.map { Float($0) }, device: device, host: host))
        out.append(try comparePow(xd, yd, device: device, host: host))
        // Rounded execution's round trips (`RoundingKernels`) over the same Float sweep.
        for dt in [DType.f16, .bf16] {
            let kernel = KernelHandle(source: roundCheckSource(dt), name: "loom_round_check")
            out.append(try compare("round \(dt.name)", kernel, xf, xf, device: device, host: host) { r, y in
                for i in r { y[i] = DType.roundTrip(xf[i], through: dt) }
            })
        }
        return out
    }

    /// `det_pow` (Double) or `det_f_pow` (Float) on the GPU against `DetMath.pow`.
    static func comparePow<T: LoomFloat>(_ xs: [T], _ ys: [T], device: CUDADevice, host: ComputeContext) throws(LoomError) -> Result {
        let kernel = KernelHandle(source: powCheckSource(T.self == Double.self ? .f64 : .f32), name: "loom_pow_check")
        return try compare("pow", kernel, xs, ys, device: device, host: host) { r, out in
            for i in r { out[i] = T.detPow(xs[i], ys[i]) }
        }
    }

    /// `loom_pow_check(n, x, y, out)`: `out[i] = det_pow(x[i], y[i])` (`det_f_pow` in f32).
    public static func powCheckSource(_ element: GemmKernel.Element) -> String {
        let t = element == .f64 ? "double" : "float", f = element == .f64 ? "det_pow" : "det_f_pow"
        return DetMathCUDA.source + """

            extern "C" __global__ void loom_pow_check(long long n, const \(t)* x, const \(t)* y, \(t)* out) {
                for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
                    out[i] = \(f)(x[i], y[i]);
            }

            """
    }

    /// `loom_round_check(n, x, z, out)`: `out[i] = DType.roundTrip(x[i], through: dt)` (f16 or bf16).
    public static func roundCheckSource(_ dt: DType) -> String {
        LayerKernels.source(.f32) + """

            extern "C" __global__ void loom_round_check(long long n, const float* x, const float* z, float* out) {
                GRID_LOOP(i, n) out[i] = loom_round_trip(x[i], \(RoundingKernels.code(dt)));
            }

            """
    }

    /// `e` of `x` (and `z`) on the GPU and by `ScalarExpr.evaluate` on the host.
    static func compare<T: LoomFloat>(_ name: String, _ e: ScalarExpr, _ xs: [T], _ zs: [T], device: CUDADevice,
                                      host: ComputeContext) throws(LoomError) -> Result {
        let program = ScalarProgram(inputs: ["x", "z"], statements: [.init("y", e)], outputs: ["y"])
        let kernel = KernelHandle(source: FormulaKernel(program, element: T.self == Double.self ? .f64 : .f32).source,
                                  name: FormulaKernel.functionName)
        return try compare(name, kernel, xs, zs, device: device, host: host) { r, out in
            var env = ScalarEnvironment<T>()
            for i in r { env.set("x", xs[i]); env.set("z", zs[i]); out[i] = e.evaluate(env) }
        }
    }

    /// `kernel` (arguments: n, x, z, out) on the GPU against `cpu` (filling `out` over a range of
    /// indices, on the host's threads), bit for bit.
    static func compare<T: LoomFloat>(_ name: String, _ kernel: KernelHandle, _ xs: [T], _ zs: [T], device: CUDADevice,
                                      host: ComputeContext,
                                      cpu: (Range<Int>, UnsafeMutablePointer<T>) -> Void) throws(LoomError) -> Result {
        let bytes = xs.count * MemoryLayout<T>.stride
        let x = try CUDABuffer(device, bytes: bytes), z = try CUDABuffer(device, bytes: bytes), y = try CUDABuffer(device, bytes: bytes)
        try xs.withUnsafeBufferPointer { (b) throws(LoomError) in try device.copyIn(b, to: x.pointer) }
        try zs.withUnsafeBufferPointer { (b) throws(LoomError) in try device.copyIn(b, to: z.pointer) }
        try device.launch(kernel, over: xs.count, [.int(xs.count), .pointer(x.pointer), .pointer(z.pointer), .pointer(y.pointer)])
        let gpu = try device.copyOut(y.pointer, count: xs.count, as: T.self)
        var cpuValues = [T](repeating: 0, count: xs.count)
        cpuValues.withUnsafeMutableBufferPointer { c in
            let cp = c.baseAddress!
            host.parallelRanges(xs.count, minChunk: 4096) { r in cpu(r, cp) }
        }
        var bad = 0, first: String? = nil
        for i in 0..<xs.count where gpu[i].bits64 != cpuValues[i].bits64 && !(gpu[i].isNaN && cpuValues[i].isNaN) {
            bad += 1
            if first == nil { first = "x = \(xs[i]) (0x\(Hex.string(xs[i].bits64, digits: 16))), z = \(zs[i]): gpu \(gpu[i]), cpu \(cpuValues[i])" }
        }
        return Result(function: name, element: T.dtype.name, count: xs.count, mismatches: bad, firstMismatch: first)
    }
}
