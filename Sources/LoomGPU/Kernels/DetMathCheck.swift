import LoomCore

/// Compares every `DetMathCUDA` function on the GPU with `DetMath` on the CPU, bit for bit (NaNs
/// count as equal, as in every determinism check): `loom bench --mode gpu-math`.
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
            out.append(try compare(f, xf, device: device, host: host))
            out.append(try compare(f, xd, device: device, host: host))
        }
        return out
    }

    static func compare<T: LoomFloat>(_ f: ScalarUnary, _ xs: [T], device: CUDADevice, host: ComputeContext) throws(LoomError) -> Result {
        let program = ScalarProgram(inputs: ["x"], statements: [.init("y", .call(f, .name("x")))], outputs: ["y"])
        let kernel = KernelHandle(source: FormulaKernel(program, element: T.self == Double.self ? .f64 : .f32).source,
                                  name: FormulaKernel.functionName)
        let bytes = xs.count * MemoryLayout<T>.stride
        let x = try CUDABuffer(device, bytes: bytes), y = try CUDABuffer(device, bytes: bytes)
        try xs.withUnsafeBufferPointer { (b) throws(LoomError) in try device.copyIn(b, to: x.pointer) }
        try device.launch(kernel, over: xs.count, [.int(xs.count), .pointer(x.pointer), .pointer(y.pointer)])
        let gpu = try device.copyOut(y.pointer, count: xs.count, as: T.self)
        var cpu = [T](repeating: 0, count: xs.count)
        cpu.withUnsafeMutableBufferPointer { c in
            let cp = c.baseAddress!
            host.parallelRanges(xs.count, minChunk: 4096) { r in
                var env = ScalarEnvironment<T>()
                for i in r { env.set("x", xs[i]); cp[i] = ScalarExpr.call(f, .name("x")).evaluate(env) }
            }
        }
        var bad = 0, first: String? = nil
        for i in 0..<xs.count where gpu[i].bits64 != cpu[i].bits64 && !(gpu[i].isNaN && cpu[i].isNaN) {
            bad += 1
            if first == nil { first = "x = \(xs[i]) (0x\(Hex.string(xs[i].bits64, digits: 16))): gpu \(gpu[i]), cpu \(cpu[i])" }
        }
        return Result(function: f.rawValue, element: T.dtype.name, count: xs.count, mismatches: bad, firstMismatch: first)
    }
}
