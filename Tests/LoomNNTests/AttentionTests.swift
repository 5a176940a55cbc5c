import LoomCore
import LoomNN
import XCTest

/// multi_head_attention and swiglu: PyTorch fixtures (Fixtures/torch/attention.json, made by
/// scripts/fixtures/torch_attention.py), finite differences, padding, the KV cache (prefill vs
/// decode bit-identity, batch invariance, overflow) and bad IR.
final class AttentionTests: XCTestCase {
    func fixture() throws -> JSONValue { try Fixture.json("Fixtures/torch/attention.json") }
    func cases() throws -> [JSONValue] { try fixture()["cases"]!.arrayValue! }




    /// Padding through the Swift API: forward, input and parameter gradients against PyTorch.
    func checkPadded<T: LoomFloat>(_ as: T.Type, rtol: Double, atol: Double) throws {
        let pads = try fixture()["padded"]!.arrayValue!
        XCTAssertEqual(pads.count, 2)
        for c in pads {
            let name = c["name"]!.stringValue!
            let valid = c["valid_lengths"]!.arrayValue!.map { $0.numberValue!.int! }
            let net = try Fixture.network(c, as: T.self)
            let x: Tensor<T> = Fixture.tensor(c["input"], as: T.self)
            let y = try net.forward(x, validLengths: valid)
            assertClose(y, Fixture.tensor(c["output"], as: T.self), rtol: rtol, atol: atol, "\(name) output")
            net.params.zeroGrads()
            let pass = net.trainingPass(context: SerialContext(), step: 0, dropout: false)
            let y2 = try net.forward(x, validLengths: valid, pass: pass)
            XCTAssertEqual(bits(y2), bits(y), name)
            let dx = net.backward(Fixture.tensor(c["grad_output"], as: T.self), pass: pass)
            assertClose(dx, Fixture.tensor(c["grad_input"], as: T.self), rtol: rtol, atol: atol, "\(name) grad_input")
            let pg = c["param_grads"]!.objectValue!
            for k in pg.keys {
                let i = try XCTUnwrap(net.params.index(of: k))
                assertClose(net.params.grads[i], Fixture.tensor(pg[k], as: T.self), rtol: rtol, atol: atol, "\(name) grad \(k)")
            }
        }
    }

    func testPaddedAgainstPyTorch() throws {
        try checkPadded(Double.self, rtol: 1e-9, atol: 1e-12)
        try checkPadded(Float.self, rtol: 2e-4, atol: 2e-5)
    }

    // MARK: KV cache

    static func decoderSpec(dtype: DType, rope: RoPESpec.Layout, bias: Bool) -> NetworkSpec {
        let attn = AttentionSpec(numHeads: 4, numKVHeads: 2, causal: true, bias: bias, rope: RoPESpec(layout: rope, base: 10000))
        return NetworkSpec(name: "decoder", dtype: dtype, seed: 7, inputShape: [7, 8], layers: [
            .residual([.rmsNorm(epsilon: 1e-6, affine: true), .multiHeadAttention(attn)]),
            .residual([.rmsNorm(epsilon: 1e-6, affine: true), .swiglu(hidden: 12, units: nil, bias: bias)]),
            .residual([.layerNorm(epsilon: 1e-5, affine: true),
                       .multiHeadAttention(AttentionSpec(numHeads: 2, headDim: 6, causal: true, rope: RoPESpec(layout: .interleaved, base: 100)))]),
            .dense(units: 5, activation: .linear, bias: true),
        ])
    }

    static func input<T: LoomFloat>(batch: Int, seq: Int, width: Int, salt: UInt64, as: T.Type) -> Tensor<T> {
        let rng = Philox(seed: 31 + salt)
        let s = StreamID.of("attention-test")
        let n = batch * seq * width
        return Tensor(uncheckedShape: [batch, seq, width], data: (0..<n).map { T(4 * rng.uniformDouble(stream: s, index: UInt64($0)) - 2) })
    }

    /// Positions `r` of every batch row of `[B, S, F]`.
    func positions<T: LoomFloat>(_ x: Tensor<T>, _ r: Range<Int>, rows: Range<Int>? = nil) -> Tensor<T> {
        let s = x.shape[1], f = x.shape[2]
        let rr = rows ?? 0..<x.shape[0]
        var data = [T]()
        for b in rr { for t in r { data += x.data[((b * s + t) * f)..<((b * s + t + 1) * f)] } }
        return Tensor(uncheckedShape: [rr.count, r.count, f], data: data)
    }

    func checkPrefillDecode<T: LoomFloat>(_ as: T.Type, dtype: DType = T.dtype) throws {
        for (layout, bias) in [(RoPESpec.Layout.half, false), (.interleaved, true)] {
            let net = try Network<T>(AttentionTests.decoderSpec(dtype: dtype, rope: layout, bias: bias))
            let x = AttentionTests.input(batch: 3, seq: 7, width: 8, salt: 0, as: T.self)
            let full = try net.forward(x)
            for split in [1, 3, 6, 7] {
                let cache = try KVCache<T>(batch: 3, capacity: 7)
                let pre = try net.forward(positions(x, 0..<split), cache: cache)
                XCTAssertEqual(bits(pre), bits(positions(full, 0..<split)), "\(T.dtype.name) \(layout) prefill \(split)")
                for t in split..<7 {
                    let y = try net.forward(positions(x, t..<(t + 1)), cache: cache)
                    XCTAssertEqual(bits(y), bits(positions(full, t..<(t + 1))), "\(T.dtype.name) \(layout) split \(split) token \(t)")
                }
                XCTAssertEqual(cache.length, 7)
            }
            // Batch invariance: each sample alone, full and decoded token by token, gives its rows' bits.
            for b in 0..<3 {
                let xb = positions(x, 0..<7, rows: b..<(b + 1))
                XCTAssertEqual(bits(try net.forward(xb)), bits(positions(full, 0..<7, rows: b..<(b + 1))), "sample \(b) alone")
                let cache = try KVCache<T>(batch: 1, capacity: 9)
                for t in 0..<7 {
                    let y = try net.forward(positions(xb, t..<(t + 1)), cache: cache)
                    XCTAssertEqual(bits(y), bits(positions(full, t..<(t + 1), rows: b..<(b + 1))), "sample \(b) token \(t)")
                }
            }
        }
    }

    func testPrefillDecodeBitIdentityF32() throws { try checkPrefillDecode(Float.self) }
    func testPrefillDecodeBitIdentityF64() throws { try checkPrefillDecode(Double.self) }
    /// Rounded and quantized execution keep the invariance (every rounding is per element or per row).
    func testPrefillDecodeBitIdentityInOtherDTypes() throws {
        for dt in [DType.f16, .bf16, .i8, .u16, .f4] { try checkPrefillDecode(Float.self, dtype: dt) }
    }

    func testCacheOverflowAndMisuse() throws {
        let net = try Network<Double>(AttentionTests.decoderSpec(dtype: .f64, rope: .half, bias: false))
        let x = AttentionTests.input(batch: 2, seq: 7, width: 8, salt: 1, as: Double.self)
        let cache = try KVCache<Double>(batch: 2, capacity: 4)
        _ = try net.forward(positions(x, 0..<3), cache: cache)
        XCTAssertThrowsError(try net.forward(positions(x, 3..<5), cache: cache)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidInput)
            XCTAssertEqual((e as? LoomError)?.path, "cache")
        }
        XCTAssertEqual(cache.length, 3)
        _ = try net.forward(positions(x, 3..<4), cache: cache)
        XCTAssertThrowsError(try net.forward(positions(x, 4..<5), cache: cache)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidInput)
        }
        XCTAssertThrowsError(try net.forward(positions(x, 0..<1, rows: 0..<1), cache: try KVCache<Double>(batch: 2, capacity: 4))) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .shapeMismatch)
        }
        XCTAssertThrowsError(try KVCache<Double>(batch: 1, capacity: 0))
        cache.reset()
        XCTAssertEqual(cache.length, 0)
        XCTAssertThrowsError(try net.forward(x, validLengths: [7])) { e in XCTAssertEqual((e as? LoomError)?.path, "valid_lengths") }
        XCTAssertThrowsError(try net.forward(x, validLengths: [7, 0])) { e in XCTAssertEqual((e as? LoomError)?.path, "valid_lengths[1]") }
        XCTAssertThrowsError(try net.forward(x, validLengths: [7, 8])) { e in XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument) }
    }

    /// Keys at or past the valid count do not matter: changing them keeps the earlier outputs' bits
    /// (causal and not), and a padded sample alone equals itself inside a batch.
    func testPaddingIgnoresPaddedPositions() throws {
        for causal in [true, false] {
            let spec = NetworkSpec(dtype: .f32, seed: 3, inputShape: [6, 8], layers: [
                .multiHeadAttention(AttentionSpec(numHeads: 2, causal: causal, bias: true, rope: RoPESpec())),
                .swiglu(hidden: 8, units: 3, bias: false)])
            let net = try Network<Float>(spec)
            let x = AttentionTests.input(batch: 2, seq: 6, width: 8, salt: 2, as: Float.self)
            var x2 = x
            for t in 4..<6 { for f in 0..<8 { x2.data[(0 * 6 + t) * 8 + f] += 1.5 } }
            for t in 2..<6 { for f in 0..<8 { x2.data[(1 * 6 + t) * 8 + f] -= 0.75 } }
            let y = try net.forward(x, validLengths: [4, 2]), y2 = try net.forward(x2, validLengths: [4, 2])
            XCTAssertEqual(bits(positions(y, 0..<4, rows: 0..<1)), bits(positions(y2, 0..<4, rows: 0..<1)))
            XCTAssertEqual(bits(positions(y, 0..<2, rows: 1..<2)), bits(positions(y2, 0..<2, rows: 1..<2)))
            let alone = try net.forward(positions(x, 0..<6, rows: 1..<2), validLengths: [2])
            XCTAssertEqual(bits(alone), bits(positions(y, 0..<6, rows: 1..<2)))
            if causal { XCTAssertEqual(bits(try net.forward(x, validLengths: [6, 6])), bits(try net.forward(x))) }
        }
    }

    // MARK: Bad IR

    func expectError(_ layers: String, input: String = "[4, 8]", path: String, contains: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        let json = "{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": \(input)}, \"layers\": [\(layers)]}"
        do {
            _ = try Network<Float>(try IRDecoder.decode(json: json))
            XCTFail("no error for \(layers)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.path, path, error.description, file: file, line: line)
            XCTAssertTrue(contains.isEmpty || error.message.contains(contains), error.description, file: file, line: line)
        }
    }

    func testBadAttentionAndSwiGLUConfigurations() {
        let a = "{\"type\": \"multi_head_attention\", "
        expectError(a + "\"num_heads\": 3}", path: "layers[0].num_heads", contains: "not divisible")
        expectError(a + "\"num_heads\": 4, \"num_kv_heads\": 3}", path: "layers[0].num_kv_heads", contains: "does not divide")
        expectError(a + "\"num_heads\": 4, \"head_dim\": 3, \"rope\": {\"layout\": \"half\"}}", path: "layers[0].rope", contains: "even")
        expectError(a + "\"num_heads\": 0}", path: "layers[0].num_heads", contains: "at least 1")
        expectError(a + "\"num_heads\": 2, \"num_kv_heads\": 0}", path: "layers[0].num_kv_heads")
        expectError(a + "\"num_heads\": 2, \"head_dim\": 0}", path: "layers[0].head_dim")
        expectError(a + "\"num_heads\": 2}", input: "[8]", path: "layers[0]", contains: "[positions, d_model]")
        expectError(a + "\"num_heads\": 2, \"rope\": {\"layout\": \"spiral\"}}", path: "layers[0].rope.layout", contains: "unknown")
        expectError(a + "\"num_heads\": 2, \"rope\": {\"base\": 1}}", path: "layers[0].rope.base")
        expectError(a + "\"num_heads\": 2, \"rope\": {\"bse\": 1}}", path: "layers[0].rope.bse", contains: "unknown field")
        expectError(a + "\"num_heads\": 2, \"casual\": true}", path: "layers[0].casual", contains: "unknown field")
        expectError(a + "\"num_heads\": 2, \"head_dim\": 100000}", input: "[100000, 8]", path: "layers[0]", contains: "2^31")
        expectError("{\"type\": \"swiglu\"}", path: "layers[0].hidden", contains: "required")
        expectError("{\"type\": \"swiglu\", \"hidden\": 0}", path: "layers[0].hidden")
        expectError("{\"type\": \"swiglu\", \"hidden\": 4, \"units\": 0}", path: "layers[0].units")
        expectError("{\"type\": \"swiglu\", \"hidden\": 4000000000000}", path: "layers[0].hidden", contains: "2^31")
        // Swift-built specs get the same checks.
        XCTAssertThrowsError(try Network<Float>(NetworkSpec(inputShape: [4, 8], layers: [.multiHeadAttention(AttentionSpec(numHeads: 0))]))) { e in
            XCTAssertEqual((e as? LoomError)?.path, "layers[0].num_heads")
        }
    }

    func testDefaultsAndRoundTrip() throws {
        let text = "{\"format\": \"loom\", \"version\": 1, \"dtype\": \"f64\", \"input\": {\"shape\": [3, 8]}, \"layers\": [{\"type\": \"multi_head_attention\", \"num_heads\": 2, \"rope\": {}}, {\"type\": \"swiglu\", \"hidden\": 5}]}"
        let spec = try IRDecoder.decode(json: text)
        XCTAssertEqual(spec.layers[0], .multiHeadAttention(AttentionSpec(numHeads: 2, rope: RoPESpec(layout: .half, base: 10000))))
        XCTAssertEqual(spec.layers[1], .swiglu(hidden: 5, units: nil, bias: false))
        XCTAssertEqual(try IRDecoder.decode(.object(IREncoder.encode(spec))), spec)
        let net = try Network<Double>(spec)
        XCTAssertEqual(net.params.names, ["layers.0.q_proj.weight", "layers.0.k_proj.weight", "layers.0.v_proj.weight",
                                          "layers.0.o_proj.weight", "layers.1.gate.weight", "layers.1.up.weight", "layers.1.down.weight"])
        XCTAssertEqual(net.params.values[1].shape, [8, 8])
        XCTAssertEqual(net.outputShape, [3, 8])
    }
}
