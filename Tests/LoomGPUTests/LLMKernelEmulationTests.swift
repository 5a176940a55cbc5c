import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// The LLM path's kernels on the CPU (`CUDAEmulator`), bit for bit against the Swift definitions:
/// the 8-bit activation blocks and every GGUF integer dot type (`GGUFQ8Activations`, `GGUFDot`),
/// and attention — RoPE, the KV-cache append, prefill then decode, and the training backward —
/// against the CPU layer.
final class LLMKernelEmulationTests: XCTestCase {
    func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }
    func floats(_ b: [UInt8]) -> [Float] { CUDAEmulator.values(b, as: Float.self) }

    /// Random blocks of `type` with finite f16 scales of both signs (the other bytes random).
    func blocks(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        let rng = Philox(seed: seed), stream = StreamID.of("gguf-blocks")
        var i: UInt64 = 0
        func next() -> UInt32 { i += 1; return rng.uint32(stream: stream, index: i) }
        let halves: [Int]
        switch type {
        case .q8_0, .q4_0, .q5_0: halves = [0]
        case .q6_K: halves = [208]
        default: halves = [0, 2]
        }
        var out = [UInt8]()
        for _ in 0..<(rows * cols / type.blockSize) {
            var block = (0..<type.typeSize).map { _ in UInt8(truncatingIfNeeded: next()) }
            for o in halves {
                let h = UInt16(0x1C00 + next() % 0x1800) | (next() % 2 == 0 ? 0 : 0x8000)
                block[o] = UInt8(h & 0xFF); block[o + 1] = UInt8(h >> 8)
            }
            out += block
        }
        return out
    }

    func testActivationBlocksAndEveryDotTypeEqualTheCPU() throws {
        let rows = 3, cols = 1280, outF = 5, nb = cols / 32
        // Row 0 ordinary, row 1 with a zero block and a tiny one, row 2 with a NaN block.
        var x: [Float] = Init.uniform([rows, cols], bound: 3, seed: 9, name: "x").data
        for i in 0..<32 { x[cols + 64 + i] = 0; x[cols + 96 + i] = 1e-44 }
        x[2 * cols + 200] = .nan
        let a = GGUFQ8Activations(x)
        let source = QuantizedKernels.source  // one module: the quantizer and every dot kernel
        var jobs = [CUDAEmulator.Job(kernel: "loom_q8_quantize", grid: (2, 1), threads: 32, arguments: [
            .output(bytes: rows * cols), .output(bytes: rows * nb * 4), .output(bytes: rows * nb * 4), .input(CUDAEmulator.bytes(x)),
            .int(rows * nb)])]
        var expected = [[Float]]()
        let start: [Float] = Init.uniform([rows, outF], bound: 1, seed: 10, name: "y0").data
        for (ti, t) in QuantizedKernels.types.enumerated() {
            let w = blocks(t, rows: outF, cols: cols, seed: UInt64(20 + ti))
            let rowBytes = cols / t.blockSize * t.typeSize
            var y = [Float](repeating: 0, count: rows * outF)
            w.withUnsafeBytes { wp in
                a.codes.withUnsafeBufferPointer { q in a.scales.withUnsafeBufferPointer { s in a.sums.withUnsafeBufferPointer { m in
                    for r in 0..<rows {
                        for o in 0..<outF {
                            let acc = GGUFDot.row(t, wp.baseAddress! + o * rowBytes, cols: cols, q.baseAddress! + r * cols,
                                                  s.baseAddress! + r * nb, m.baseAddress! + r * nb)
                            y[r * outF + o] = acc
                        }
                    }
                } } }
            }
            let args: [CUDAEmulator.Argument] = [.input(w), .int(rowBytes), .int(rows), .int(outF), .int(cols),
                                                 .input(CUDAEmulator.bytes(a.codes)), .input(CUDAEmulator.bytes(a.scales)),
                                                 .input(CUDAEmulator.bytes(a.sums))]
            // Into +0 (a projection without bias) and onto a start value (after the bias).
            jobs.append(CUDAEmulator.Job(kernel: QuantizedKernels.dotKernel(t), grid: (2, 1), threads: 256,
                                         arguments: [.output(bytes: rows * outF * 4)] + args + [.int(0)]))
            jobs.append(CUDAEmulator.Job(kernel: QuantizedKernels.dotKernel(t), grid: (2, 1), threads: 256,
                                         arguments: [.readWrite(CUDAEmulator.bytes(start))] + args + [.int(1)]))
            expected.append(y.map { 0 + $0 })
            expected.append(zip(start, y).map { $0 + $1 })
        }
        let out = try CUDAEmulator.run(source, jobs)
        guard out.count == jobs.count else { return XCTFail("\(out.count) results for \(jobs.count) jobs") }
        XCTAssertEqual(CUDAEmulator.values(out[0][0], as: Int8.self), a.codes, "activation codes")
        XCTAssertEqual(floats(out[0][1]).map(\.bitPattern), a.scales.map(\.bitPattern), "activation scales (NaN block included)")
        XCTAssertEqual(CUDAEmulator.values(out[0][2], as: Int32.self), a.sums, "activation sums")
        XCTAssertTrue(a.scales.contains { $0.isNaN } && a.scales.contains(0), "the edge blocks are exercised")
        for (j, e) in expected.enumerated() {
            let t = QuantizedKernels.types[j / 2]
            XCTAssertEqual(bits(floats(out[j + 1][0])), bits(e), "\(t.name) dot (\(j % 2 == 0 ? "into +0" : "accumulating"))")
        }
        XCTAssertTrue(expected[0][0].isFinite && expected[0][2 * outF].isNaN, "finite rows and the NaN row both checked")
    }

    /// `y[r, o] = fma chain over i of x[r, i]·w[o, i]` from +0 (Projection's order).
    func project(_ x: [Float], rows: Int, inF: Int, _ w: [Float], outF: Int, onto start: [Float]? = nil) -> [Float] {
        var y = start ?? [Float](repeating: 0, count: rows * outF)
        for r in 0..<rows { for o in 0..<outF { for i in 0..<inF { y[r * outF + o] = y[r * outF + o].addingProduct(x[r * inF + i], w[o * inF + i]) } } }
        return y
    }

    func chain(_ body: String, threads: Int, _ args: [CUDAEmulator.Argument], signature: String) throws -> [[UInt8]] {
        let source = LayerKernels.source(.f32) + "\nextern \"C\" void chain(\(signature)) {\n\(body)\n}\n"
        return try CUDAEmulator.run(source, [CUDAEmulator.Job(kernel: "chain", grid: (1, 1), threads: threads, arguments: args)]).first ?? []
    }

    func attentionNetwork(positions: Int) throws -> (Network<Float>, AttentionLayer<Float>) {
        let spec = NetworkSpec(name: "a", dtype: .f32, seed: 3, inputShape: [positions, 12], layers: [
            .multiHeadAttention(AttentionSpec(numHeads: 4, numKVHeads: 2, headDim: 4, causal: true, bias: false,
                                              rope: RoPESpec(layout: .interleaved, base: 10000)))])
        let net = try Network<Float>(spec)
        return (net, net.root.layers[0] as! AttentionLayer<Float>)
    }

    func testAttentionPrefillThenDecodeEqualsTheCPUCache() throws {
        let (net, l) = try attentionNetwork(positions: 4)
        let w = net.params.values
        let x1: Tensor<Float> = Init.uniform([2, 4, 12], bound: 2, seed: 5, name: "x1")
        let x2: Tensor<Float> = Init.uniform([2, 2, 12], bound: 2, seed: 6, name: "x2")
        let cache = try KVCache<Float>(batch: 2, capacity: 6)
        let y1 = try net.forward(x1, cache: cache), y2 = try net.forward(x2, cache: cache)
        func qkv(_ x: Tensor<Float>) -> [[Float]] {
            let rows = x.count / 12
            return [project(x.data, rows: rows, inF: 12, w[l.qW].data, outF: 16), project(x.data, rows: rows, inF: 12, w[l.kW].data, outF: 8),
                    project(x.data, rows: rows, inF: 12, w[l.vW].data, outF: 8)]
        }
        let a1 = qkv(x1), a2 = qkv(x2)
        let t1 = l.rotaryTable(positions: 0..<4)!, t2 = l.rotaryTable(positions: 4..<6)!
        let scale = "__int_as_float(0x\(String(l.scale.bitPattern, radix: 16))u)"
        let out = try chain("""
            loom_rope(q1, c1, s1, 8, 4, 4, 4, 1, 0); loom_rope(k1, c1, s1, 8, 4, 2, 4, 1, 0); __syncthreads();
            loom_kv_append(K, V, k1, v1, 2, 4, 6, 0, 8); __syncthreads();
            loom_attention_forward(o1, sc, nullptr, q1, K, V, nullptr, 2, 4, 4, 2, 4, 48, 0, 1, 4, \(scale)); __syncthreads();
            loom_rope(q2, c2, s2, 4, 2, 4, 4, 1, 0); loom_rope(k2, c2, s2, 4, 2, 2, 4, 1, 0); __syncthreads();
            loom_kv_append(K, V, k2, v2, 2, 2, 6, 4, 8); __syncthreads();
            loom_attention_forward(o2, sc, nullptr, q2, K, V, nullptr, 2, 2, 4, 2, 4, 48, 4, 1, 6, \(scale));
            """, threads: 64,
            [.output(bytes: 8 * 16 * 4), .output(bytes: 4 * 16 * 4), .output(bytes: 2 * 6 * 8 * 4), .output(bytes: 2 * 6 * 8 * 4),
             .output(bytes: 128 * 4)] + (a1 + a2).map { .input(CUDAEmulator.bytes($0)) }
                + [t1.cos, t1.sin, t2.cos, t2.sin].map { .input(CUDAEmulator.bytes($0)) },
            signature: "float* o1, float* o2, float* K, float* V, float* sc, float* q1, float* k1, float* v1, float* q2, float* k2, float* v2, "
                + "const float* c1, const float* s1, const float* c2, const float* s2")
        guard out.count == 5 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        XCTAssertEqual(bits(project(floats(out[0]), rows: 8, inF: 16, w[l.oW].data, outF: 12)), bits(y1.data), "prefill")
        XCTAssertEqual(bits(project(floats(out[1]), rows: 4, inF: 16, w[l.oW].data, outF: 12)), bits(y2.data), "decode through the cache")
        XCTAssertNotEqual(bits(Array(y1.data[0..<12])), bits(Array(y1.data[12..<24])), "positions differ")
    }

    func testAttentionTrainingBackwardEqualsTheLayer() throws {
        let (net, l) = try attentionNetwork(positions: 5)
        let w = net.params.values
        let x: Tensor<Float> = Init.uniform([2, 5, 12], bound: 2, seed: 7, name: "x")
        let dy: Tensor<Float> = Init.uniform([2, 5, 12], bound: 1, seed: 8, name: "dy")
        let pass = net.trainingPass(context: SerialContext(), step: 0)
        let y = try net.forward(x, pass: pass)
        let dx = net.backward(dy, pass: pass)
        let rows = 10
        let q = project(x.data, rows: rows, inF: 12, w[l.qW].data, outF: 16), k = project(x.data, rows: rows, inF: 12, w[l.kW].data, outF: 8)
        let v = project(x.data, rows: rows, inF: 12, w[l.vW].data, outF: 8)
        // dO = dy·Wo (a chain over the output features from +0).
        var dO = [Float](repeating: 0, count: rows * 16)
        for r in 0..<rows { for i in 0..<16 { for o in 0..<12 { dO[r * 16 + i] = dO[r * 16 + i].addingProduct(dy.data[r * 12 + o], w[l.oW].data[o * 16 + i]) } } }
        let t = l.rotaryTable(positions: 0..<5)!
        let scale = "__int_as_float(0x\(String(l.scale.bitPattern, radix: 16))u)"
        let out = try chain("""
            loom_rope(q, c, s, 10, 5, 4, 4, 1, 0); loom_rope(k, c, s, 10, 5, 2, 4, 1, 0); __syncthreads();
            loom_attention_forward(o, sc, p, q, k, v, nullptr, 2, 5, 4, 2, 4, 40, 0, 1, 5, \(scale)); __syncthreads();
            loom_attention_backward_queries(dq, ds, q, k, v, p, dO, 2, 5, 4, 2, 4, 1, \(scale)); __syncthreads();
            loom_attention_backward_keys(dk, dv, q, p, ds, dO, 2, 5, 4, 2, 4, 1, \(scale)); __syncthreads();
            loom_rope(dq, c, s, 10, 5, 4, 4, 1, 1); loom_rope(dk, c, s, 10, 5, 2, 4, 1, 1);
            """, threads: 64,
            [.output(bytes: rows * 16 * 4), .output(bytes: rows * 16 * 4), .output(bytes: rows * 8 * 4), .output(bytes: rows * 8 * 4),
             .output(bytes: 2 * 4 * 25 * 4), .output(bytes: 2 * 4 * 25 * 4), .output(bytes: 40 * 5 * 4)]
                + [q, k, v, dO, t.cos, t.sin].map { .input(CUDAEmulator.bytes($0)) },
            signature: "float* o, float* dq, float* dk, float* dv, float* p, float* ds, float* sc, float* q, float* k, float* v, const float* dO, "
                + "const float* c, const float* s")
        guard out.count == 7 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        let o = floats(out[0]), dq = floats(out[1]), dk = floats(out[2]), dv = floats(out[3])
        XCTAssertEqual(bits(project(o, rows: rows, inF: 16, w[l.oW].data, outF: 12)), bits(y.data), "forward")
        // Parameter gradients: dW[o, i] = fma chain over rows of g[r, o]·input[r, i].
        func weightGrad(_ g: [Float], _ outF: Int, _ input: [Float], _ inF: Int) -> [Float] {
            var d = [Float](repeating: 0, count: outF * inF)
            for o2 in 0..<outF { for i in 0..<inF { for r in 0..<rows { d[o2 * inF + i] = d[o2 * inF + i].addingProduct(g[r * outF + o2], input[r * inF + i]) } } }
            return d
        }
        let grads = net.params.grads
        XCTAssertEqual(bits(weightGrad(dy.data, 12, o, 16)), bits(grads[l.oW].data), "dWo")
        XCTAssertEqual(bits(weightGrad(dq, 16, x.data, 12)), bits(grads[l.qW].data), "dWq")
        XCTAssertEqual(bits(weightGrad(dk, 8, x.data, 12)), bits(grads[l.kW].data), "dWk")
        XCTAssertEqual(bits(weightGrad(dv, 8, x.data, 12)), bits(grads[l.vW].data), "dWv")
        // dx: one chain over the q, then k, then v projection's outputs.
        var d = [Float](repeating: 0, count: rows * 12)
        for (g, width, wi) in [(dq, 16, l.qW), (dk, 8, l.kW), (dv, 8, l.vW)] {
            for r in 0..<rows { for i in 0..<12 { for o2 in 0..<width { d[r * 12 + i] = d[r * 12 + i].addingProduct(g[r * width + o2], w[wi].data[o2 * 12 + i]) } } }
        }
        XCTAssertEqual(bits(d), bits(dx.data), "dx")
    }
}
