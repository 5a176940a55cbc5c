import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// The rest of the softmax family's kernels on the CPU (`CUDAEmulator`) against the CPU layer's
/// training forward and backward: hierarchical, gumbel (with its training noise), sparsemax,
/// entmax (α = 1.5 and 2), adaptive and mixture.
final class SoftmaxFamilyEmulationTests: XCTestCase {
    func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    func testFamilyEqualsTheLayer() throws {
        let rows = 5
        let variants: [(SoftmaxVariant, Int)] = [(.hierarchical(levels: [2, 2, 2]), 8), (.gumbel(temperature: 0.7), 5), (.sparsemax, 6),
                                                 (.entmax(alpha: 1.5), 6), (.entmax(alpha: 2), 6),
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
                let a = "__int_as_float(0x\(String(Float(alpha - 1).bitPattern, radix: 16))u)"
                let p = "__int_as_float(0x\(String(Float(DetMath.pow(Double(n), 1 - alpha)).bitPattern, radix: 16))u)"
                let sq = alpha == 1.5 ? 1 : 0
                call = """
                    loom_entmax_forward(y, x, \(rows), \(n), \(sq), \(a), \(p)); __syncthreads();
                    loom_entmax_backward(dx, dy, y, \(rows), \(n), \(sq));
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
}
