import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// The kmeans kernels on the CPU (`CUDAEmulator`) against the CPU layer's forward, input gradient
/// and center gradient: every distance, both outputs.
final class KMeansEmulationTests: XCTestCase {
    func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    func testKMeansEqualsTheLayer() throws {
        let rows = 5, n = 4, k = 3
        for (distance, code) in [(KMeansDistance.euclidean, 0), (.manhattan, 1), (.cosine, 2)] {
            for output in [KMeansOutput.probabilities, .features] {
                let spec = NetworkSpec(name: "k", dtype: .f32, seed: 12, inputShape: [n], layers: [
                    .kmeans(KMeansSpec(clusters: k, distance: distance, temperature: 0.5, output: output))])
                let net = try Network<Float>(spec)
                let l = net.root.layers[0] as! KMeansLayer<Float>
                var x: [Float] = Init.uniform([rows, n], bound: 2, seed: 13, name: "x").data
                x[3] = net.params.values[l.centersIndex].data[3]  // a zero difference (manhattan's subgradient)
                let pass = net.trainingPass(context: SerialContext(), step: 0)
                let y = try net.forward(Tensor(uncheckedShape: [rows, n], data: x), pass: pass)
                let outW = y.shape.last!
                let dy: [Float] = Init.uniform([rows, outW], bound: 1, seed: 14, name: "dy").data
                let dx = net.backward(Tensor(uncheckedShape: [rows, outW], data: dy), pass: pass)
                let features = output == .features ? 1 : 0
                let tau = "__int_as_float(0x\(String(Float(0.5).bitPattern, radix: 16))u)"
                let source = LayerKernels.source(.f32) + """

                    extern "C" void chain(float* y, float* dx, float* dc, float* p, float* logits, float* g, float* nxs, float* scratch,
                                          const float* x, const float* c, const float* dy) {
                        loom_kmeans_forward(y, p, logits, x, c, \(rows), \(n), \(k), \(code), \(features), \(tau)); __syncthreads();
                        loom_kmeans_backward(dx, g, nxs, scratch, dy, p, x, c, \(rows), \(n), \(k), \(code), \(features), \(tau)); __syncthreads();
                        loom_kmeans_center_grads(dc, p, g, nxs, x, c, dy, \(rows), \(n), \(k), \(code), \(features));
                    }

                    """
                let out = try CUDAEmulator.run(source, [CUDAEmulator.Job(kernel: "chain", grid: (1, 1), threads: 4, arguments: [
                    .output(bytes: rows * outW * 4), .output(bytes: rows * n * 4), .output(bytes: k * n * 4), .output(bytes: rows * k * 4),
                    .output(bytes: rows * k * 4), .output(bytes: rows * k * 4), .output(bytes: rows * 4), .output(bytes: rows * k * 4),
                    .input(CUDAEmulator.bytes(x)), .input(CUDAEmulator.bytes(net.params.values[l.centersIndex].data)),
                    .input(CUDAEmulator.bytes(dy))])]).first ?? []
                guard out.count == 8 else { return XCTFail("\(distance) \(output): the emulated chain returned \(out.count) outputs") }
                XCTAssertEqual(bits(CUDAEmulator.values(out[0], as: Float.self)), bits(y.data), "\(distance) \(output) forward")
                XCTAssertEqual(bits(CUDAEmulator.values(out[1], as: Float.self)), bits(dx.data), "\(distance) \(output) dx")
                XCTAssertEqual(bits(CUDAEmulator.values(out[2], as: Float.self)), bits(net.params.grads[l.centersIndex].data),
                               "\(distance) \(output) centers' gradient")
            }
        }
    }
}
