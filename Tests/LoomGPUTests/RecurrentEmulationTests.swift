import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// The recurrent cells' kernels on the CPU (`CUDAEmulator`), driven as `RecurrentOp` drives them —
/// the projections written out as fma chains between the kernel launches — against the CPU layer's
/// forward, backward and parameter gradients: rnn and gru returning every step, lstm the last.
final class RecurrentEmulationTests: XCTestCase {
    func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }
    func floats(_ b: [UInt8]) -> [Float] { CUDAEmulator.values(b, as: Float.self) }

    func testCellsEqualTheLayer() throws {
        for (cell, code, seq) in [(RecurrentCell.rnn, 0, true), (.lstm, 1, false), (.gru, 2, true)] {
            let (nb, ns, ni, nh) = (2, 3, 4, 5), gh = cell.gates * nh, rows = nb * ns
            let spec = NetworkSpec(name: "r", dtype: .f32, seed: 6, inputShape: [ns, ni], layers: [
                .recurrent(RecurrentSpec(cell: cell, hiddenSize: nh, returnSequences: seq, bias: true))])
            let net = try Network<Float>(spec)
            let l = net.root.layers[0] as! RecurrentLayer<Float>
            let x: Tensor<Float> = Init.uniform([nb, ns, ni], bound: 2, seed: 7, name: "x")
            let pass = net.trainingPass(context: SerialContext(), step: 0)
            let y = try net.forward(x, pass: pass)
            let dy: Tensor<Float> = Init.uniform(y.shape, bound: 1, seed: 8, name: "dy")
            let dx = net.backward(dy, pass: pass)
            let p = net.params.values
            let body = """
                const long long nb = \(nb), ns = \(ns), ni = \(ni), nh = \(nh), gh = \(gh), rows = nb * ns, cell = \(code), seq = \(seq ? 1 : 0);
                const bool lead = threadIdx.x == 0;
                if (lead) for (long long r = 0; r < rows; r++) for (long long g = 0; g < gh; g++) {
                    float acc = bih[g];
                    for (long long i = 0; i < ni; i++) acc = __fmaf_rn(x[r * ni + i], wih[g * ni + i], acc);
                    xp[r * gh + g] = acc;
                }
                __syncthreads();
                for (long long t = 0; t < ns; t++) {
                    if (lead) for (long long b = 0; b < nb; b++) for (long long g = 0; g < gh; g++) {
                        float acc = bhh[g];
                        for (long long j = 0; j < nh; j++) acc = __fmaf_rn(h[b * nh + j], whh[g * nh + j], acc);
                        hp[b * gh + g] = acc;
                    }
                    __syncthreads();
                    loom_recurrent_step(h, cell == 1 ? c : nullptr, hPrev, hs, cell == 0 ? nullptr : gates, cell == 0 ? nullptr : e1,
                                        cell == 1 ? e2 : nullptr, xp, hp, cell, nb, ns, nh, t);
                    __syncthreads();
                }
                if (lead && !seq) for (long long i = 0; i < nb * nh; i++) carried[i] = carried[i] + dy[i];
                __syncthreads();
                float* dh = cell == 2 ? dhp : dxp;
                for (long long t = ns - 1; t >= 0; t--) {
                    loom_recurrent_step_backward(dxp, dh, carried, carriedC, dy, hs, hPrev, gates, e1, e2, c0, cell, seq, nb, ns, nh, t);
                    __syncthreads();
                    if (lead) for (long long b = 0; b < nb; b++) for (long long j = 0; j < nh; j++) {
                        float acc = cell == 2 ? carried[b * nh + j] : 0.0f;
                        for (long long g = 0; g < gh; g++) acc = __fmaf_rn(dh[(b * ns + t) * gh + g], whh[g * nh + j], acc);
                        carried[b * nh + j] = acc;
                    }
                    __syncthreads();
                }
                if (lead) {
                    for (long long g = 0; g < gh; g++) {
                        for (long long i = 0; i < ni; i++) { float a = 0; for (long long r = 0; r < rows; r++) a = __fmaf_rn(dxp[r * gh + g], x[r * ni + i], a); dwih[g * ni + i] = a; }
                        for (long long j = 0; j < nh; j++) { float a = 0; for (long long r = 0; r < rows; r++) a = __fmaf_rn(dh[r * gh + g], hPrev[r * nh + j], a); dwhh[g * nh + j] = a; }
                        float s1 = 0, s2 = 0;
                        for (long long r = 0; r < rows; r++) { s1 = s1 + dxp[r * gh + g]; s2 = s2 + dh[r * gh + g]; }
                        dbih[g] = s1; dbhh[g] = s2;
                    }
                    for (long long r = 0; r < rows; r++) for (long long i = 0; i < ni; i++) {
                        float a = 0; for (long long g = 0; g < gh; g++) a = __fmaf_rn(dxp[r * gh + g], wih[g * ni + i], a); dxo[r * ni + i] = a;
                    }
                }
                """
            let sizes = [rows * gh, nb * gh, nb * nh, nb * nh, rows * nh, rows * nh, rows * gh, rows * nh, rows * nh, nb * nh, nb * nh, nb * nh,
                         rows * gh, rows * gh, gh * ni, gh * nh, gh, gh, rows * ni]
            let names = ["xp", "hp", "h", "c", "hPrev", "hs", "gates", "e1", "e2", "c0", "carried", "carriedC", "dxp", "dhp",
                         "dwih", "dwhh", "dbih", "dbhh", "dxo"]
            let source = LayerKernels.source(.f32) + "\nextern \"C\" void chain(" + names.map { "float* \($0)" }.joined(separator: ", ")
                + ", const float* x, const float* wih, const float* whh, const float* bih, const float* bhh, const float* dy) {\n" + body + "\n}\n"
            let args: [CUDAEmulator.Argument] = sizes.map { .output(bytes: $0 * 4) }
                + [x.data, p[l.weightIH].data, p[l.weightHH].data, p[l.biasIH!].data, p[l.biasHH!].data, dy.data].map { .input(CUDAEmulator.bytes($0)) }
            let out = try CUDAEmulator.run(source, [CUDAEmulator.Job(kernel: "chain", grid: (1, 1), threads: 64, arguments: args)]).first ?? []
            guard out.count == names.count else { return XCTFail("\(cell): the emulated chain returned \(out.count) outputs") }
            let o = { (name: String) in self.floats(out[names.firstIndex(of: name)!]) }
            XCTAssertEqual(bits(seq ? o("hs") : o("h")), bits(y.data), "\(cell) forward")
            XCTAssertEqual(bits(o("dxo")), bits(dx.data), "\(cell) dx")
            let g = net.params.grads
            XCTAssertEqual(bits(o("dwih")), bits(g[l.weightIH].data), "\(cell) dW_ih")
            XCTAssertEqual(bits(o("dwhh")), bits(g[l.weightHH].data), "\(cell) dW_hh")
            XCTAssertEqual(bits(o("dbih")), bits(g[l.biasIH!].data), "\(cell) db_ih")
            XCTAssertEqual(bits(o("dbhh")), bits(g[l.biasHH!].data), "\(cell) db_hh")
            XCTAssertTrue(g[l.weightHH].data.contains { $0 != 0 }, "\(cell): the recurrent weights get a gradient")
        }
    }
}
