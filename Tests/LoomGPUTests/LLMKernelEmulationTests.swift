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

    // 4 heads of 16 values over 2 kv heads: q is 64 wide, k and v 32.
    static let (heads, kvHeads, headDim, qw, kvw) = (4, 2, 16, 64, 32)

    func attentionNetwork(positions: Int) throws -> (Network<Float>, AttentionLayer<Float>) {
        let spec = NetworkSpec(name: "a", dtype: .f32, seed: 3, inputShape: [positions, 12], layers: [
            .multiHeadAttention(AttentionSpec(numHeads: Self.heads, numKVHeads: Self.kvHeads, headDim: Self.headDim, causal: true,
                                              bias: false, rope: RoPESpec(layout: .interleaved, base: 10000)))])
        let net = try Network<Float>(spec)
        return (net, net.root.layers[0] as! AttentionLayer<Float>)
    }

    func qkv(_ x: [Float], _ net: Network<Float>, _ l: AttentionLayer<Float>) -> [[Float]] {
        let rows = x.count / 12, w = net.params.values
        return [project(x, rows: rows, inF: 12, w[l.qW].data, outF: Self.qw), project(x, rows: rows, inF: 12, w[l.kW].data, outF: Self.kvw),
                project(x, rows: rows, inF: 12, w[l.vW].data, outF: Self.kvw)]
    }

    /// Prefill of 11 positions (scores in shared memory) then 6 more (scores in device memory)
    /// through the cache: every unrolled and tail path (head size 16, up to 17 keys).
    func testAttentionPrefillThenDecodeEqualsTheCPUCache() throws {
        let (n1, n2, cap) = (11, 6, 17)
        let (h, kv, d, qw, kvw) = (Self.heads, Self.kvHeads, Self.headDim, Self.qw, Self.kvw)
        let (net, l) = try attentionNetwork(positions: n1)
        let x1: Tensor<Float> = Init.uniform([2, n1, 12], bound: 2, seed: 5, name: "x1")
        let x2: Tensor<Float> = Init.uniform([2, n2, 12], bound: 2, seed: 6, name: "x2")
        let cache = try KVCache<Float>(batch: 2, capacity: cap)
        let y1 = try net.forward(x1, cache: cache), y2 = try net.forward(x2, cache: cache)
        let a1 = qkv(x1.data, net, l), a2 = qkv(x2.data, net, l)
        let t1 = l.rotaryTable(positions: 0..<n1)!, t2 = l.rotaryTable(positions: n1..<cap)!
        let scale = "__int_as_float(0x\(String(l.scale.bitPattern, radix: 16))u)"
        let out = try chain("""
            loom_rope(q1, c1, s1, \(2 * n1), \(n1), \(h), \(d), 1, 0); loom_rope(k1, c1, s1, \(2 * n1), \(n1), \(kv), \(d), 1, 0); __syncthreads();
            loom_kv_append(K, V, k1, v1, 2, \(n1), \(cap), 0, \(kvw)); __syncthreads();
            loom_attention_forward(o1, nullptr, nullptr, q1, K, V, nullptr, 2, \(n1), \(h), \(h / kv), \(d), \(cap * kvw), 0, 1, \(n1), \(scale)); __syncthreads();
            loom_rope(q2, c2, s2, \(2 * n2), \(n2), \(h), \(d), 1, 0); loom_rope(k2, c2, s2, \(2 * n2), \(n2), \(kv), \(d), 1, 0); __syncthreads();
            loom_kv_append(K, V, k2, v2, 2, \(n2), \(cap), \(n1), \(kvw)); __syncthreads();
            loom_attention_forward(o2, sc, nullptr, q2, K, V, nullptr, 2, \(n2), \(h), \(h / kv), \(d), \(cap * kvw), \(n1), 1, \(cap), \(scale));
            """, threads: 64,
            [.output(bytes: 2 * n1 * qw * 4), .output(bytes: 2 * n2 * qw * 4), .output(bytes: 2 * cap * kvw * 4), .output(bytes: 2 * cap * kvw * 4),
             .output(bytes: 2 * n2 * h * cap * 4)] + (a1 + a2).map { .input(CUDAEmulator.bytes($0)) }
                + [t1.cos, t1.sin, t2.cos, t2.sin].map { .input(CUDAEmulator.bytes($0)) },
            signature: "float* o1, float* o2, float* K, float* V, float* sc, float* q1, float* k1, float* v1, float* q2, float* k2, float* v2, "
                + "const float* c1, const float* s1, const float* c2, const float* s2")
        guard out.count == 5 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        let wo = net.params.values[l.oW].data
        XCTAssertEqual(bits(project(floats(out[0]), rows: 2 * n1, inF: qw, wo, outF: 12)), bits(y1.data), "prefill")
        XCTAssertEqual(bits(project(floats(out[1]), rows: 2 * n2, inF: qw, wo, outF: 12)), bits(y2.data), "decode through the cache")
        XCTAssertNotEqual(bits(Array(y1.data[0..<12])), bits(Array(y1.data[12..<24])), "positions differ")
    }

    func testAttentionTrainingBackwardEqualsTheLayer() throws {
        let n = 10, rows = 2 * n
        let (h, kv, d, qw, kvw) = (Self.heads, Self.kvHeads, Self.headDim, Self.qw, Self.kvw)
        let (net, l) = try attentionNetwork(positions: n)
        let w = net.params.values
        let x: Tensor<Float> = Init.uniform([2, n, 12], bound: 2, seed: 7, name: "x")
        let dy: Tensor<Float> = Init.uniform([2, n, 12], bound: 1, seed: 8, name: "dy")
        let pass = net.trainingPass(context: SerialContext(), step: 0)
        let y = try net.forward(x, pass: pass)
        let dx = net.backward(dy, pass: pass)
        let a = qkv(x.data, net, l)
        // dO = dy·Wo (a chain over the output features from +0).
        var dO = [Float](repeating: 0, count: rows * qw)
        for r in 0..<rows { for i in 0..<qw { for o in 0..<12 { dO[r * qw + i] = dO[r * qw + i].addingProduct(dy.data[r * 12 + o], w[l.oW].data[o * qw + i]) } } }
        let t = l.rotaryTable(positions: 0..<n)!
        let scale = "__int_as_float(0x\(String(l.scale.bitPattern, radix: 16))u)"
        let g = h / kv
        let out = try chain("""
            loom_rope(q, c, s, \(rows), \(n), \(h), \(d), 1, 0); loom_rope(k, c, s, \(rows), \(n), \(kv), \(d), 1, 0); __syncthreads();
            loom_attention_forward(o, sc, p, q, k, v, nullptr, 2, \(n), \(h), \(g), \(d), \(n * kvw), 0, 1, \(n), \(scale)); __syncthreads();
            loom_attention_backward_queries(dq, ds, q, k, v, p, dO, 2, \(n), \(h), \(g), \(d), 1, \(scale)); __syncthreads();
            loom_attention_backward_keys(dk, dv, q, p, ds, dO, 2, \(n), \(h), \(g), \(d), 1, \(scale)); __syncthreads();
            loom_rope(dq, c, s, \(rows), \(n), \(h), \(d), 1, 1); loom_rope(dk, c, s, \(rows), \(n), \(kv), \(d), 1, 1);
            """, threads: 64,
            [.output(bytes: rows * qw * 4), .output(bytes: rows * qw * 4), .output(bytes: rows * kvw * 4), .output(bytes: rows * kvw * 4),
             .output(bytes: 2 * h * n * n * 4), .output(bytes: 2 * h * n * n * 4), .output(bytes: rows * h * n * 4)]
                + (a + [dO, t.cos, t.sin]).map { .input(CUDAEmulator.bytes($0)) },
            signature: "float* o, float* dq, float* dk, float* dv, float* p, float* ds, float* sc, float* q, float* k, float* v, const float* dO, "
                + "const float* c, const float* s")
        guard out.count == 7 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        let o = floats(out[0]), dq = floats(out[1]), dk = floats(out[2]), dv = floats(out[3])
        XCTAssertEqual(bits(project(o, rows: rows, inF: qw, w[l.oW].data, outF: 12)), bits(y.data), "forward")
        // Parameter gradients: dW[o, i] = fma chain over rows of g[r, o]·input[r, i].
        func weightGrad(_ g: [Float], _ outF: Int, _ input: [Float], _ inF: Int) -> [Float] {
            var d = [Float](repeating: 0, count: outF * inF)
            for o2 in 0..<outF { for i in 0..<inF { for r in 0..<rows { d[o2 * inF + i] = d[o2 * inF + i].addingProduct(g[r * outF + o2], input[r * inF + i]) } } }
            return d
        }
        let grads = net.params.grads
        XCTAssertEqual(bits(weightGrad(dy.data, 12, o, qw)), bits(grads[l.oW].data), "dWo")
        XCTAssertEqual(bits(weightGrad(dq, qw, x.data, 12)), bits(grads[l.qW].data), "dWq")
        XCTAssertEqual(bits(weightGrad(dk, kvw, x.data, 12)), bits(grads[l.kW].data), "dWk")
        XCTAssertEqual(bits(weightGrad(dv, kvw, x.data, 12)), bits(grads[l.vW].data), "dWv")
        // dx: one chain over the q, then k, then v projection's outputs.
        var dxs = [Float](repeating: 0, count: rows * 12)
        for (gr, width, wi) in [(dq, qw, l.qW), (dk, kvw, l.kW), (dv, kvw, l.vW)] {
            for r in 0..<rows { for i in 0..<12 { for o2 in 0..<width { dxs[r * 12 + i] = dxs[r * 12 + i].addingProduct(gr[r * width + o2], w[wi].data[o2 * 12 + i]) } } }
        }
        XCTAssertEqual(bits(dxs), bits(dx.data), "dx")
    }

    /// A padding mask (`Network.forward(_:validLengths:)`), non-causal attention with biases: row b
    /// sees keys 0..<valid[b]; then `position_embedding` and `bias` forward and backward.
    func testPaddedAttentionAndTableRowsEqualTheCPU() throws {
        let n = 9, (h, kv, d, qw, kvw) = (Self.heads, Self.kvHeads, Self.headDim, Self.qw, Self.kvw)
        let spec = NetworkSpec(name: "p", dtype: .f32, seed: 4, inputShape: [n, 12], layers: [
            .multiHeadAttention(AttentionSpec(numHeads: h, numKVHeads: kv, headDim: d, causal: false, bias: true, rope: nil))])
        let net = try Network<Float>(spec)
        let l = net.root.layers[0] as! AttentionLayer<Float>
        let x: Tensor<Float> = Init.uniform([2, n, 12], bound: 2, seed: 9, name: "x")
        let valid = [4, 9]
        let y = try net.forward(x, validLengths: valid)
        let w = net.params.values
        func proj(_ wi: Int, _ bi: Int?, _ outF: Int) -> [Float] {
            let b = w[bi!].data
            return project(x.data, rows: 2 * n, inF: 12, w[wi].data, outF: outF, onto: (0..<(2 * n)).flatMap { _ in b })
        }
        let q = proj(l.qW, l.qB, qw), k = proj(l.kW, l.kB, kvw), v = proj(l.vW, l.vB, kvw)
        let scale = "__int_as_float(0x\(String(l.scale.bitPattern, radix: 16))u)"
        // Position embedding then bias on a [2, 5, 6] input, and their gradients.
        let spec2 = NetworkSpec(name: "t", dtype: .f32, seed: 5, inputShape: [5, 6], layers: [.positionEmbedding(maxPositions: 7), .bias])
        let net2 = try Network<Float>(spec2)
        net2.params.values[1] = Init.uniform([6], bound: 1, seed: 3, name: "b")
        let x2: Tensor<Float> = Init.uniform([2, 5, 6], bound: 2, seed: 10, name: "x2")
        let g2: Tensor<Float> = Init.uniform([2, 5, 6], bound: 1, seed: 11, name: "g2")
        let pass = net2.trainingPass(context: SerialContext(), step: 0)
        let y2 = try net2.forward(x2, pass: pass)
        _ = net2.backward(g2, pass: pass)
        let out = try chain("""
            loom_attention_forward(o, nullptr, nullptr, q, k, v, valid, 2, \(n), \(h), \(h / kv), \(d), \(n * kvw), 0, 0, \(n), \(scale));
            loom_add_table_rows(t1, x2, P, 10, 5, 0, 6); __syncthreads();
            loom_add_table_rows(y2, t1, b, 10, 1, 0, 6);
            loom_position_grads(dP, g2, 2, 5, 0, 6);
            loom_column_sums(db, g2, 10, 6);
            """, threads: 64,
            [.output(bytes: 2 * n * qw * 4), .input(CUDAEmulator.bytes(q)), .input(CUDAEmulator.bytes(k)), .input(CUDAEmulator.bytes(v)),
             .input(CUDAEmulator.bytes(valid.map { Int32($0) })), .output(bytes: 240), .output(bytes: 240), .input(CUDAEmulator.bytes(x2.data)),
             .input(CUDAEmulator.bytes(net2.params.values[0].data)), .input(CUDAEmulator.bytes(net2.params.values[1].data)),
             .readWrite(CUDAEmulator.bytes([Float](repeating: 0, count: 42))), .readWrite(CUDAEmulator.bytes([Float](repeating: 0, count: 6))),
             .input(CUDAEmulator.bytes(g2.data))],
            signature: "float* o, const float* q, const float* k, const float* v, const int* valid, float* t1, float* y2, const float* x2, "
                + "const float* P, const float* b, float* dP, float* db, const float* g2")
        guard out.count == 5 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        let bo = w[l.oB!].data
        XCTAssertEqual(bits(project(floats(out[0]), rows: 2 * n, inF: qw, w[l.oW].data, outF: 12, onto: (0..<(2 * n)).flatMap { _ in bo })),
                       bits(y.data), "padded attention")
        XCTAssertEqual(bits(floats(out[2])), bits(y2.data), "position embedding, then bias")
        XCTAssertEqual(bits(floats(out[3])), bits(net2.params.grads[0].data), "position embedding gradient")
        XCTAssertEqual(bits(floats(out[4])), bits(net2.params.grads[1].data), "bias gradient")
        XCTAssertNotEqual(bits(Array(y.data[0..<(n * 12)])), bits(try net.forward(Tensor(uncheckedShape: [1, n, 12], data: Array(x.data[0..<(n * 12)])),
                                                                                       validLengths: [n]).data), "the mask changes row 0")
    }
}
