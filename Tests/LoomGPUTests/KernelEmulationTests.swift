import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// The generated kernels run on the CPU (`CUDAEmulator`) and compared bit for bit with the Swift
/// definitions: the DetMath port, every formula a resident network prints, the product kernel in
/// every tile class, and the layer kernels with barriers (conv bias sums, pooling). NaNs count as
/// equal (as in every determinism check).
final class KernelEmulationTests: XCTestCase {
    func same<T: LoomFloat>(_ a: [T], _ b: [T]) -> (bad: Int, first: Int?) {
        var bad = 0, first: Int? = nil
        for i in 0..<a.count where a[i].bits64 != b[i].bits64 && !(a[i].isNaN && b[i].isNaN) {
            bad += 1
            if first == nil { first = i }
        }
        return (bad, first)
    }

    /// Inputs spread over every exponent (bit patterns), plus values where the functions branch.
    func inputs<T: LoomFloat>(_: T.Type, count: Int) -> [T] {
        var out = [T]()
        let rng = Philox(seed: 3), stream = StreamID.of("emulation")
        for i in 0..<count {
            switch i % 3 {
            case 0: out.append(T(bits64: T.self == Float.self ? UInt64(UInt32(truncatingIfNeeded: UInt64(i) &* 0x9E37_79B9))
                                                              : UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
            case 1: out.append(T(rng.uniformDouble(stream: stream, index: UInt64(i)) * 100 - 50))
            default: out.append(T(rng.uniformDouble(stream: stream, index: UInt64(i)) * 2 - 1))
            }
        }
        return out + [0, -0, 1, -1, 20, 40, -40, 0.25, -0.25, T.infinity, -T.infinity, T.nan, T.leastNonzeroMagnitude]
    }

    /// Every program: one module of kernels after DetMath, one job per program, all elements.
    func checkPrograms<T: LoomFloat>(_ programs: [ScalarProgram], _: T.Type, count: Int) throws {
        let element: GemmKernel.Element = T.self == Double.self ? .f64 : .f32
        var source = DetMathCUDA.source
        var jobs = [CUDAEmulator.Job]()
        var expected = [[[T]]]()
        let xs = inputs(T.self, count: count)
        for (pi, p) in programs.enumerated() {
            source += FormulaKernel(p, element: element).kernel(named: "f\(pi)")
            // Input k is xs rotated by k·7 (so operands differ); scalars fixed non-trivial values.
            let ins: [[T]] = (0..<p.inputs.count).map { k in (0..<xs.count).map { xs[($0 + k * 7) % xs.count] } }
            let sc: [T] = (0..<p.scalars.count).map { T(0.75 - 0.125 * Double($0)) }
            var args: [CUDAEmulator.Argument] = [.int(xs.count)]
            args += ins.map { .input(CUDAEmulator.bytes($0)) }
            args += p.outputs.map { _ in .output(bytes: xs.count * MemoryLayout<T>.stride) }
            args += sc.map { T.self == Double.self ? .double($0.double) : .float(Float($0.double)) }
            jobs.append(CUDAEmulator.Job(kernel: "f\(pi)", grid: (1, 1), threads: 8, arguments: args))
            var outs = [[T]](repeating: [], count: p.outputs.count)
            for i in 0..<xs.count {
                let r: [T] = p.evaluate(inputs: ins.map { $0[i] }, scalars: sc)
                for o in 0..<r.count { outs[o].append(r[o]) }
            }
            expected.append(outs)
        }
        let results = try CUDAEmulator.run(source, jobs)
        guard results.count == programs.count else { return XCTFail("\(results.count) results for \(programs.count) programs") }
        for pi in 0..<programs.count {
            for o in 0..<programs[pi].outputs.count {
                let got = CUDAEmulator.values(results[pi][o], as: T.self)
                let (bad, first) = same(got, expected[pi][o])
                XCTAssertEqual(bad, 0, "\(T.dtype.name) program \(pi) output \(programs[pi].outputs[o]): first at \(first ?? -1): "
                               + "\(first.map { "\(got[$0]) vs \(expected[pi][o][$0])" } ?? "")")
            }
        }
    }

    func testDetMathAndEveryFormulaEqualSwift() throws {
        let programs = ResidentKernelTests.programs
        try checkPrograms(programs, Float.self, count: 3000)
        try checkPrograms(programs, Double.self, count: 3000)
    }

    func gemm<T: LoomFloat>(_: T.Type, m: Int, n: Int, k: Int, transposeB: Bool, accumulate: Bool, tile: GemmKernel.Tile?) throws {
        let a: Tensor<T> = Init.uniform([m, k], bound: 1, seed: 1, name: "a")
        let b: Tensor<T> = Init.uniform([k, n], bound: 1, seed: 2, name: "b")
        let c0: Tensor<T> = Init.uniform([m, n], bound: 1, seed: 3, name: "c")
        let (rsB, csB) = transposeB ? (1, k) : (n, 1)
        var cpu = c0.data
        var spec: GemmKernel? = nil
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                cpu.withUnsafeMutableBufferPointer { cp in
                    let p = GemmProblem(m: m, n: n, k: k, a: ap.baseAddress!, rsA: k, csA: 1, b: bp.baseAddress!, rsB: rsB, csB: csB,
                                        c: cp.baseAddress!, ldc: n, accumulate: accumulate)
                    ReferenceGemm.run(p)
                    spec = GemmKernel(p, element: T.self == Double.self ? .f64 : .f32, tile: tile)
                }
            }
        }
        let s = spec!
        guard s.sharedBytes <= GemmKernel.sharedLimit else { return XCTFail("tile \(s.tile) does not fit shared memory") }
        let c: [UInt8] = CUDAEmulator.bytes(accumulate ? c0.data : [T](repeating: T(Double.nan), count: m * n))
        let args: [CUDAEmulator.Argument] = [.input(CUDAEmulator.bytes(a.data)), .input(CUDAEmulator.bytes(b.data)), .readWrite(c)]
            + s.arguments.map { .int($0) }
        let results = try CUDAEmulator.run(s.source, [CUDAEmulator.Job(kernel: GemmKernel.functionName, grid: s.grid,
                                                                      threads: s.tile.threads, arguments: args)])
        guard let out = results.first?.first else { return XCTFail("no output") }
        let got = CUDAEmulator.values(out, as: T.self)
        let (bad, first) = same(got, cpu)
        XCTAssertEqual(bad, 0, "\(T.dtype.name) \(m)×\(n)×\(k) tile \(s.tile) transposeB \(transposeB): first at \(first ?? -1)")
    }

    /// The product kernel, every tile class the device chooses among, both B layouts, with and
    /// without accumulation, sizes that are not multiples of the tiles (the bounded last k tile).
    func testProductKernelEqualsReferenceGemm() throws {
        try gemm(Float.self, m: 37, n: 45, k: 29, transposeB: false, accumulate: false, tile: .small)
        try gemm(Float.self, m: 37, n: 45, k: 29, transposeB: true, accumulate: true, tile: .small)
        try gemm(Float.self, m: 70, n: 33, k: 600, transposeB: true, accumulate: true, tile: .longK)
        try gemm(Float.self, m: 9, n: 40, k: 130, transposeB: false, accumulate: false, tile: .longK)
        try gemm(Float.self, m: 130, n: 70, k: 20, transposeB: false, accumulate: false, tile: .wide)
        try gemm(Float.self, m: 150, n: 70, k: 40, transposeB: true, accumulate: true, tile: .tall2)
        try gemm(Double.self, m: 33, n: 65, k: 17, transposeB: true, accumulate: true, tile: .small)
        try gemm(Double.self, m: 20, n: 40, k: 100, transposeB: false, accumulate: false, tile: .longK)
    }
}

/// The layer kernels, emulated, against the CPU layers run through a network (forward and
/// backward, parameter gradients included): norms, pooling, softmax, embedding, the warp-staged
/// conv bias sums.
final class LayerKernelEmulationTests: XCTestCase {
    let f32 = GemmKernel.Element.f32
    func bits(_ v: [Float]) -> [UInt64] { v.map(\.bits64) }
    func floats(_ b: [UInt8]) -> [Float] { CUDAEmulator.values(b, as: Float.self) }

    /// One block of `threads` runs `body` (kernel calls separated by __syncthreads) over the buffers.
    func chain(_ body: String, threads: Int = 64, _ args: [CUDAEmulator.Argument], signature: String) throws -> [[UInt8]] {
        let source = LayerKernels.source(f32) + "\nextern \"C\" void chain(\(signature)) {\n\(body)\n}\n"
        return try CUDAEmulator.run(source, [CUDAEmulator.Job(kernel: "chain", grid: (1, 1), threads: threads, arguments: args)]).first ?? []
    }

    func randomize(_ net: Network<Float>) {
        for i in 0..<net.params.count {
            net.params.values[i] = Init.uniform(net.params.values[i].shape, bound: 1.5, seed: UInt64(40 + i), name: "p")
        }
    }

    func testNormsEqualTheLayer() throws {
        // 9 features (one partial stage), and 600 (three stages of the warp's 256-value staging).
        for (rows, f) in [(6, 9), (3, 600)] {
            for rms in [false, true] {
                let spec = NetworkSpec(name: "n", dtype: .f32, seed: 1, inputShape: [f],
                                       layers: [rms ? .rmsNorm(epsilon: 1e-6, affine: true) : .layerNorm(epsilon: 1e-5, affine: true)])
                let net = try Network<Float>(spec)
                randomize(net)
                let x: Tensor<Float> = Init.uniform([rows, f], bound: 3, seed: 5, name: "x")
                let dy: Tensor<Float> = Init.uniform([rows, f], bound: 1, seed: 6, name: "dy")
                let pass = net.trainingPass(context: SerialContext(), step: 0)
                let y = try net.forward(x, pass: pass)
                let dx = net.backward(dy, pass: pass)
                let w = net.params.values[0].data, b = rms ? [] : net.params.values[1].data
                let n = rows * f * 4
                let out = try chain("""
                    loom_norm_forward(y, xhat, rstd, x, w, \(rms ? "nullptr" : "b"), \(rows), \(f), \(rms ? 1 : 0), (float)eps);
                    __syncthreads();
                    loom_norm_backward(dx, dy, xhat, rstd, w, \(rows), \(f), \(rms ? 1 : 0));
                    loom_column_dots(dw, dy, xhat, \(rows), \(f));
                    loom_column_sums(db, dy, \(rows), \(f));
                    """, [.output(bytes: n), .output(bytes: n), .output(bytes: rows * 4), .input(CUDAEmulator.bytes(x.data)),
                          .input(CUDAEmulator.bytes(w)), .input(CUDAEmulator.bytes(b.isEmpty ? [Float(0)] : b)),
                          .float(Float(rms ? 1e-6 : 1e-5)), .output(bytes: n), .input(CUDAEmulator.bytes(dy.data)),
                          .output(bytes: f * 4), .output(bytes: f * 4)],
                    signature: "float* y, float* xhat, float* rstd, const float* x, const float* w, const float* b, float eps, float* dx, const float* dy, float* dw, float* db")
                guard out.count == 6 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
                XCTAssertEqual(bits(floats(out[0])), bits(y.data), "norm y (rms \(rms), \(f) features)")
                XCTAssertEqual(bits(floats(out[3])), bits(dx.data), "norm dx (rms \(rms), \(f) features)")
                XCTAssertEqual(bits(floats(out[4])), bits(net.params.grads[0].data), "norm dw (rms \(rms), \(f) features)")
                if !rms { XCTAssertEqual(bits(floats(out[5])), bits(net.params.grads[1].data), "norm db (\(f) features)") }
            }
        }
    }

    func testPoolingEqualsTheLayer() throws {
        for kind in [PoolKind.max, .avg] {
            let spec = NetworkSpec(name: "p", dtype: .f32, seed: 1, inputShape: [2, 7, 7],
                                   layers: [.pool(PoolSpec(kind: kind, rank: 2, kernel: [3, 3], stride: [2, 2], padding: [1, 1]))])
            let net = try Network<Float>(spec)
            var xs: [Float] = Init.uniform([3, 2, 7, 7], bound: 1, seed: 9, name: "x").data
            for i in stride(from: 0, to: xs.count, by: 5) { xs[i] = xs[(i + 1) % xs.count] }  // ties: the first maximal tap wins
            let x = Tensor<Float>(uncheckedShape: [3, 2, 7, 7], data: xs)
            let pass = net.trainingPass(context: SerialContext(), step: 0)
            let y = try net.forward(x, pass: pass)
            let dy: Tensor<Float> = Init.uniform(y.shape, bound: 1, seed: 10, name: "dy")
            let dx = net.backward(dy, pass: pass)
            let geo = "1, 6, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4"  // GEO with batch 1, planes 6
            let out = try chain("""
                loom_pool_forward(y, x, \(kind == .max ? 1 : 0), \(geo));
                __syncthreads();
                loom_pool_backward(dx, dy, x, \(kind == .max ? 1 : 0), \(geo));
                """, [.output(bytes: y.count * 4), .input(CUDAEmulator.bytes(xs)), .output(bytes: xs.count * 4), .input(CUDAEmulator.bytes(dy.data))],
                signature: "float* y, const float* x, float* dx, const float* dy")
            guard out.count == 2 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
            XCTAssertEqual(bits(floats(out[0])), bits(y.data), "\(kind) pool forward")
            XCTAssertEqual(bits(floats(out[1])), bits(dx.data), "\(kind) pool backward")
        }
    }

    func testSoftmaxEqualsTheKernel() throws {
        let n = 7, groups = 5
        let x: [Float] = Init.uniform([groups, n], bound: 4, seed: 12, name: "x").data
        let dy: [Float] = Init.uniform([groups, n], bound: 1, seed: 13, name: "dy").data
        let mask: [Bool] = [true, false, true, true, false, true, true]
        for (temp, useMask) in [(nil as Float?, false), (Float(0.7), false), (nil, true)] {
            var y = [Float](repeating: 0, count: x.count), dx = y
            for g in 0..<groups {
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                    SoftmaxKernel.forward(xp.baseAddress! + g * n, yp.baseAddress! + g * n, n: n, temperature: temp, mask: useMask ? mask : nil)
                } }
                dy.withUnsafeBufferPointer { dp in y.withUnsafeBufferPointer { yp in dx.withUnsafeMutableBufferPointer { xp in
                    SoftmaxKernel.backward(dp.baseAddress! + g * n, yp.baseAddress! + g * n, xp.baseAddress! + g * n, n: n, temperature: temp)
                } } }
            }
            let out = try chain("""
                loom_softmax_forward(y, x, mask, \(groups), \(n), \(temp == nil ? 0 : 1), t);
                __syncthreads();
                loom_softmax_backward(dx, dy, y, \(groups), \(n), \(temp == nil ? 0 : 1), t);
                """, [.output(bytes: x.count * 4), .input(CUDAEmulator.bytes(x)), useMask ? .input(mask.map { $0 ? 1 : 0 }) : .null,
                      .float(temp ?? 1), .output(bytes: x.count * 4), .input(CUDAEmulator.bytes(dy))],
                signature: "float* y, const float* x, const unsigned char* mask, float t, float* dx, const float* dy")
            guard out.count == 2 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
            XCTAssertEqual(bits(floats(out[0])), bits(y), "softmax forward (temperature \(String(describing: temp)), mask \(useMask))")
            XCTAssertEqual(bits(floats(out[1])), bits(dx), "softmax backward")
        }
    }

    func testEmbeddingAndBiasSumsEqualTheLayers() throws {
        // Embedding with repeated ids: each dW row receives its rows' gradients in order.
        let spec = NetworkSpec(name: "e", dtype: .f32, seed: 1, inputShape: [6], layers: [.embedding(vocab: 7, dim: 5)])
        let net = try Network<Float>(spec)
        let ids = Tensor<Float>(uncheckedShape: [2, 6], data: [3, 1, 3, 6, 0, 3, 1, 1, 5, 3, 2, 6])
        let pass = net.trainingPass(context: SerialContext(), step: 0)
        let y = try net.forward(ids, pass: pass)
        let dy: Tensor<Float> = Init.uniform(y.shape, bound: 1, seed: 14, name: "dy")
        _ = net.backward(dy, pass: pass)
        // Conv bias sums: 11 rows of 1000 (not a multiple of the 256 staged at a time), from a start value.
        let g: [Float] = Init.uniform([11, 1000], bound: 1, seed: 15, name: "g").data
        let start: [Float] = Init.uniform([11], bound: 1, seed: 16, name: "s").data
        var sums = start
        for o in 0..<11 { for k in 0..<1000 { sums[o] += g[o * 1000 + k] } }
        let out = try chain("""
            loom_embedding_forward(y, ids, w, 12, 5);
            loom_embedding_backward(dw, dy, ids, 12, 5);
            loom_row_sums(db, g, 11, 1000);
            """, threads: 256,
            [.output(bytes: y.count * 4), .input(CUDAEmulator.bytes(ids.data)), .input(CUDAEmulator.bytes(net.params.values[0].data)),
             .output(bytes: 35 * 4), .input(CUDAEmulator.bytes(dy.data)), .readWrite(CUDAEmulator.bytes(start)), .input(CUDAEmulator.bytes(g))],
            signature: "float* y, const float* ids, const float* w, float* dw, const float* dy, float* db, const float* g")
        guard out.count == 3 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        XCTAssertEqual(bits(floats(out[0])), bits(y.data), "embedding forward")
        XCTAssertEqual(bits(floats(out[1])), bits(net.params.grads[0].data), "embedding backward")
        XCTAssertEqual(bits(floats(out[2])), bits(sums), "warp-staged row sums")
        XCTAssertNotEqual(bits(sums), bits(start))
    }
}

/// The convolution's chain of kernels, as `ConvOp` runs it (im2col, bias broadcast, one product per
/// group, the transposes, the warp-staged bias sums, dcol for all samples, col2im), against the CPU
/// layer's forward, backward and parameter gradients: groups, stride, padding and dilation.
final class ConvEmulationTests: XCTestCase {
    func testConvChainEqualsTheLayer() throws {
        // [4, 7, 6] → 6 filters 3×3, groups 2, stride (2, 1), padding (1, 2), dilation (1, 2).
        let conv = ConvSpec(rank: 2, filters: 6, kernel: [3, 3], stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2)
        let net = try Network<Float>(NetworkSpec(name: "c", dtype: .f32, seed: 2, inputShape: [4, 7, 6], layers: [.conv(conv)]))
        let layer = try XCTUnwrap(net.root.layers[0] as? ConvLayer<Float>)
        let g = layer.geometry, (_, fg, kg) = layer.groupSizes
        let batch = 2, F = 6, P = g.outPlane, bp = batch * P, rowsK = g.channels * g.taps
        let x: Tensor<Float> = Init.uniform([batch, 4, 7, 6], bound: 1, seed: 3, name: "x")
        let pass = net.trainingPass(context: SerialContext(), step: 0)
        let y = try net.forward(x, pass: pass)
        let dy: Tensor<Float> = Init.uniform(y.shape, bound: 1, seed: 4, name: "dy")
        let dx = net.backward(dy, pass: pass)
        // Every product as the `small` tile (256 threads), its blocks walked in order by the chain.
        func call(_ s: GemmKernel, _ a: String, _ b: String, _ c: String) -> String {
            let args = s.arguments.map { "\($0)LL" }.joined(separator: ", ")
            return "for (unsigned by = 0; by < \(s.grid.y); by++) for (unsigned bx = 0; bx < \(s.grid.x); bx++) { blockIdx = {bx, by, 0}; "
                + "loom_gemm(\(a), \(b), \(c), \(args)); __syncthreads(); }\nblockIdx = {0, 0, 0};\n"
        }
        func spec(m: Int, n: Int, k: Int, rsA: Int, csA: Int, rsB: Int, csB: Int, ldc: Int, acc: Bool) -> GemmKernel {
            GemmKernel(GemmKernel.Shape(m: m, n: n, k: k, rsA: rsA, csA: csA, rsB: rsB, csB: csB, ldc: ldc, accumulate: acc), element: .f32, tile: .small)
        }
        let geo = [batch, g.channels, g.height, g.width, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.outH, g.outW].map(String.init).joined(separator: ", ")
        var body = "loom_im2col(col, x, \(geo));\nloom_fill_channels(acc, b, \(F), \(bp));\n__syncthreads();\n"
        for gi in 0..<2 {
            body += call(spec(m: fg, n: bp, k: kg, rsA: kg, csA: 1, rsB: bp, csB: 1, ldc: bp, acc: true),
                         "w + \(gi * fg * kg)", "col + \(gi * kg * bp)", "acc + \(gi * fg * bp)")
        }
        body += "loom_to_batch_major(y, acc, \(batch), \(F), \(P));\nloom_to_channel_major(gc, dy, \(batch), \(F), \(P));\n__syncthreads();\n"
        for gi in 0..<2 {
            body += call(spec(m: fg, n: kg, k: bp, rsA: bp, csA: 1, rsB: 1, csB: bp, ldc: kg, acc: true),
                         "gc + \(gi * fg * bp)", "col + \(gi * kg * bp)", "dw + \(gi * fg * kg)")
            body += call(spec(m: kg, n: bp, k: fg, rsA: 1, csA: kg, rsB: bp, csB: 1, ldc: bp, acc: false),
                         "w + \(gi * fg * kg)", "gc + \(gi * fg * bp)", "dcol + \(gi * kg * bp)")
        }
        body += "loom_row_sums(db, gc, \(F), \(bp));\n__syncthreads();\nloom_col2im(dx, dcol, \(geo));\n"
        // The chain's three product classes, each under its own name (gemm0, gemm1, gemm2).
        let classes: [GemmKernel] = [spec(m: fg, n: bp, k: kg, rsA: kg, csA: 1, rsB: bp, csB: 1, ldc: bp, acc: true),
                                     spec(m: fg, n: kg, k: bp, rsA: bp, csA: 1, rsB: 1, csB: bp, ldc: kg, acc: true),
                                     spec(m: kg, n: bp, k: fg, rsA: 1, csA: kg, rsB: bp, csB: 1, ldc: bp, acc: false)]
        var kernels = ""
        var renamed = body
        for (i, c) in classes.enumerated() {
            kernels += c.source.replacingOccurrencesOf(GemmKernel.functionName + "(", "gemm\(i)(")
        }
        // Route each call to its class.
        var lines = [String]()
        for line in renamed.split(separator: "\n", omittingEmptySubsequences: false) {
            var l = String(line)
            if l.contains("loom_gemm(w + "), l.contains(", col + ") { l = l.replacingOccurrencesOf("loom_gemm(", "gemm0(") }
            else if l.contains("loom_gemm(gc + ") { l = l.replacingOccurrencesOf("loom_gemm(", "gemm1(") }
            else if l.contains("loom_gemm(w + "), l.contains(", gc + ") { l = l.replacingOccurrencesOf("loom_gemm(", "gemm2(") }
            lines.append(l)
        }
        renamed = lines.joined(separator: "\n")
        let w = net.params.values[layer.weightIndex].data, bias = net.params.values[layer.biasIndex!].data
        let program = LayerKernels.source(.f32) + kernels
            + "\nextern \"C\" void chain(const float* x, const float* w, const float* b, const float* dy, float* col, float* acc, float* y, "
            + "float* gc, float* dw, float* dcol, float* db, float* dx) {\n\(renamed)\n}\n"
        let out = try CUDAEmulator.run(program, [CUDAEmulator.Job(kernel: "chain", grid: (1, 1), threads: 256, arguments: [
            .input(CUDAEmulator.bytes(x.data)), .input(CUDAEmulator.bytes(w)), .input(CUDAEmulator.bytes(bias)), .input(CUDAEmulator.bytes(dy.data)),
            .output(bytes: rowsK * bp * 4), .output(bytes: F * bp * 4), .output(bytes: y.count * 4), .output(bytes: F * bp * 4),
            .output(bytes: w.count * 4), .output(bytes: rowsK * bp * 4), .output(bytes: F * 4), .output(bytes: x.count * 4)])]).first ?? []
        guard out.count == 8 else { return XCTFail("the emulated chain returned \(out.count) outputs") }
        let f = { (b: [UInt8]) in CUDAEmulator.values(b, as: Float.self).map(\.bits64) }
        XCTAssertEqual(f(out[2]), y.data.map(\.bits64), "conv forward")
        XCTAssertEqual(f(out[4]), net.params.grads[layer.weightIndex].data.map(\.bits64), "conv dW")
        XCTAssertEqual(f(out[6]), net.params.grads[layer.biasIndex!].data.map(\.bits64), "conv db")
        XCTAssertEqual(f(out[7]), dx.data.map(\.bits64), "conv dx")
    }
}

extension String {
    /// Every occurrence of `a` replaced by `b` (no Foundation in the tests' imports).
    func replacingOccurrencesOf(_ a: String, _ b: String) -> String {
        var out = "", rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[rest.startIndex..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
