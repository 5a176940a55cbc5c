import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// The rest of the softmax family's kernels on the CPU (`CUDAEmulator`) against the CPU layer's
/// training forward and backward: hierarchical, gumbel (with its training noise), sparsemax,
/// entmax (α = 1.5, 2 and 1.3: DetMath's pow), adaptive and mixture; and DetMath's pow itself.
final class SoftmaxFamilyEmulationTests: XCTestCase {
    func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    func testFamilyEqualsTheLayer() throws {
        let rows = 5
        let variants: [(SoftmaxVariant, Int)] = [(.hierarchical(levels: [2, 2, 2]), 8), (.gumbel(temperature: 0.7), 5), (.sparsemax, 6),
                                                 (.entmax(alpha: 1.5), 6), (.entmax(alpha: 2), 6), (.entmax(alpha: 1.3), 6),
                                                 (.adaptive(headSize: 3, clusters: [2, 2]), 9), (.mixture(components: 2), 10)]
        for (variant, n) in variants {
            let spec = NetworkSpec(name: "s", dtype: .f32, seed: 9, inputShape: [n], layers: [.softmax(variant)])
            let net = try Network<Float>(spec)
            let l = net.root.layers[0] as! SoftmaxLayer<Float>
            var x: [Float] = Init.uniform([rows, n], bound: 3, seed: 10, name: "x").data
            x[2] = x[1]  // a tie for the sparsemax sort
            let pass = net.trainingPass(context: SerialContext(), step: 3)
            let y = try net.forward(Tensor(uncheckedShape: [rows, n], data: x), pass: pass)
            let outW = y.shape.last!
            let dy: [Float] = Init.uniform([rows, outW], bound: 1, seed: 11, name: "dy").data
            let dx = net.backward(Tensor(uncheckedShape: [rows, outW], data: dy), pass: pass)
            var table: [Int64] = [0]
            let call: String
            switch variant {
            case .hierarchical(let levels):
                table = levels.map { Int64($0) }
                call = """
                    loom_hierarchical_forward(y, aux, scratch, x, (const long long*)table, 3, \(rows), \(n), 14); __syncthreads();
                    loom_hierarchical_backward(dx, scratch, dy, y, aux, (const long long*)table, 3, \(rows), \(n), 14);
                    """
            case .gumbel(let t):
                let noise = l.gumbelNoise(count: rows * n, seed: spec.seed, step: 3)
                x = zip(x, noise).map { $0 + $1 }
                let temp = "__int_as_float(0x\(String(Float(t).bitPattern, radix: 16))u)"
                call = """
                    loom_softmax_forward(y, x, nullptr, \(rows), \(n), 1, \(temp)); __syncthreads();
                    loom_softmax_backward(dx, dy, y, \(rows), \(n), 1, \(temp));
                    """
            case .sparsemax:
                call = """
                    loom_sparsemax_forward(y, scratch, x, \(rows), \(n)); __syncthreads();
                    loom_sparsemax_backward(dx, dy, y, \(rows), \(n));
                    """
            case .entmax(let alpha):
                func f(_ v: Double) -> String { "__int_as_float(0x\(String(Float(v).bitPattern, radix: 16))u)" }
                let mode = alpha == 2 ? 0 : (alpha == 1.5 ? 1 : 2)
                call = """
                    loom_entmax_forward(y, x, \(rows), \(n), \(mode), \(f(alpha - 1)), \(f(1 / (alpha - 1))), \(f(DetMath.pow(Double(n), 1 - alpha)))); __syncthreads();
                    loom_entmax_backward(dx, dy, y, \(rows), \(n), \(mode), \(f(2 - alpha)));
                    """
            case .adaptive(let head, let clusters):
                table = clusters.map { Int64($0) }
                call = """
                    loom_adaptive_forward(y, aux, x, (const long long*)table, 2, \(head), \(rows), \(n), \(outW)); __syncthreads();
                    loom_adaptive_backward(dx, scratch, dy, aux, (const long long*)table, 2, \(head), \(rows), \(n), \(outW), 7);
                    """
            case .mixture(let k):
                call = """
                    loom_mixture_forward(y, aux, x, \(rows), \(k), \(outW)); __syncthreads();
                    loom_mixture_backward(dx, scratch, dy, aux, \(rows), \(k), \(outW));
                    """
            default: return XCTFail("unexpected variant")
            }
            let source = LayerKernels.source(.f32) + "\nextern \"C\" void chain(float* y, float* dx, float* aux, float* scratch, "
                + "const float* x, const float* dy, const void* table) {\n" + call + "\n}\n"
            let out = try CUDAEmulator.run(source, [CUDAEmulator.Job(kernel: "chain", grid: (1, 1), threads: 4, arguments: [
                .output(bytes: rows * outW * 4), .output(bytes: rows * n * 4), .output(bytes: rows * 16 * 4), .output(bytes: rows * 16 * 4),
                .input(CUDAEmulator.bytes(x)), .input(CUDAEmulator.bytes(dy)), .input(CUDAEmulator.bytes(table))])]).first ?? []
            guard out.count == 4 else { return XCTFail("\(variant.name): the emulated chain returned \(out.count) outputs") }
            XCTAssertEqual(bits(CUDAEmulator.values(out[0], as: Float.self)), bits(y.data), "\(variant.name) forward")
            XCTAssertEqual(bits(CUDAEmulator.values(out[1], as: Float.self)), bits(dx.data), "\(variant.name) backward")
        }
    }

    /// DetMath's pow on the device (`det_pow`, `det_f_pow`) against `DetMath.pow`: special values,
    /// exact powers of two (normal and subnormal), negative bases with integer exponents, and a
    /// spread of ordinary pairs, in Double and Float.
    func testPowEqualsDetMath() throws {
        var xs: [Double] = [0, -0.0, 1, -1, 2, -2, 0.5, 0x1p-1074, 0x1p-1030, 3, -3, 10, .infinity, -.infinity, .nan, 1e-300, 1e300, 0.999, 1.001]
        var ys: [Double] = [0, -0.0, 1, -1, 2, -2, 3, -3, 0.5, -0.5, 1.5, 1 / 0.3, 0.7, 1e3, -1e3, .infinity, -.infinity, .nan, 0x1p53, 1075]
        let rng = Philox(seed: 21), stream = StreamID.of("pow")
        for i in 0..<40 { xs.append(rng.uniformDouble(stream: stream, index: UInt64(i)) * 20) }
        for i in 0..<20 { ys.append(rng.uniformDouble(stream: stream, index: UInt64(100 + i)) * 8 - 4) }
        let pairs = xs.flatMap { x in ys.map { (x, $0) } }
        let source = DetMathCUDA.source + """

            extern "C" __global__ void pow_all(double* out, float* outF, const double* x, const double* y, long long n) {
                for (long long i = threadIdx.x; i < n; i += blockDim.x) {
                    out[i] = det_pow(x[i], y[i]);
                    outF[i] = det_f_pow((float)x[i], (float)y[i]);
                }
            }

            """
        let out = try CUDAEmulator.run(source, [CUDAEmulator.Job(kernel: "pow_all", grid: (1, 1), threads: 8, arguments: [
            .output(bytes: pairs.count * 8), .output(bytes: pairs.count * 4), .input(CUDAEmulator.bytes(pairs.map { $0.0 })),
            .input(CUDAEmulator.bytes(pairs.map { $0.1 })), .int(pairs.count)])]).first ?? []
        guard out.count == 2 else { return XCTFail("the emulated kernel returned \(out.count) outputs") }
        let d = CUDAEmulator.values(out[0], as: Double.self), f = CUDAEmulator.values(out[1], as: Float.self)
        var bad = [String]()
        for (i, (x, y)) in pairs.enumerated() {
            let e = DetMath.pow(x, y), ef = DetMath.pow(Float(x), Float(y))
            if d[i].bitPattern != e.bitPattern && !(d[i].isNaN && e.isNaN) { bad.append("pow(\(x), \(y)) = \(d[i]), Swift \(e)") }
            if f[i].bitPattern != ef.bitPattern && !(f[i].isNaN && ef.isNaN) { bad.append("Float pow(\(x), \(y)) = \(f[i]), Swift \(ef)") }
        }
        XCTAssertEqual(bad.count, 0, bad.prefix(5).joined(separator: "; "))
        XCTAssertGreaterThan(pairs.count, 1000)
    }
}
