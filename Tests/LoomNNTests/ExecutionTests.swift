import XCTest
import LoomCore
import LoomNN

/// Execution in every dtype (Graph/Execution.swift, docs/numerics.md): the f16/bf16 and quantized
/// forward against formulas written out here, training in every dtype, f16 loss scaling, save and
/// load, and bad input.
final class ExecutionTests: XCTestCase {
    func denseSpec(_ dt: DType, bias: Bool = true) -> NetworkSpec {
        NetworkSpec(name: "d", dtype: dt, seed: 3, inputShape: [5], layers: [.dense(units: 3, activation: .linear, bias: bias)],
                    training: TrainingSpec(loss: .mse, optimizer: .sgd(lr: 0.05, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0),
                                           epochs: 1, batchSize: 4))
    }

    func input(_ rows: Int, _ f: Int, salt: UInt64 = 0) -> Tensor<Float> {
        let p = Philox(seed: 11)
        return Tensor(uncheckedShape: [rows, f], data: (0..<(rows * f)).map { Float(3 * p.uniformDouble(stream: salt, index: UInt64($0)) - 1.5) })
    }

    func testComputeTypes() throws {
        for dt in DType.allCases {
            XCTAssertEqual(Execution.computeType(of: dt), dt == .f64 ? .f64 : .f32)
            if dt == .f64 {
                XCTAssertNoThrow(try Network<Double>(denseSpec(dt)))
                XCTAssertThrowsError(try Network<Float>(denseSpec(dt)))
            } else {
                XCTAssertNoThrow(try Network<Float>(denseSpec(dt)), dt.name)
                XCTAssertThrowsError(try Network<Double>(denseSpec(dt)), dt.name)
            }
        }
    }

    /// f16 / bf16: input, weights and output rounded; inside, an f32 fma chain from the bias.
    func testRoundedDenseMatchesFormula() throws {
        for dt in [DType.f16, .bf16] {
            let net = try Network<Float>(denseSpec(dt))
            let x = input(4, 5)
            let y = try net.forward(x)
            let r = { (v: Float) in DType.roundTrip(v, through: dt) }
            let w = net.params.values[0].data.map(r), b = net.params.values[1].data.map(r)
            for row in 0..<4 {
                for o in 0..<3 {
                    var acc = b[o]
                    for i in 0..<5 { acc = acc.addingProduct(r(x.data[row * 5 + i]), w[o * 5 + i]) }
                    XCTAssertEqual(y.data[row * 3 + o].bitPattern, r(acc).bitPattern, "\(dt.name) row \(row) out \(o)")
                }
            }
        }
    }

    /// Integer types and f4: the input row requantized, then quantized again by the product (the
    /// same grid), the weight per output channel, exact integer sums, dequantized onto the bias,
    /// and the output row requantized.
    func testQuantizedDenseMatchesFormula() throws {
        for dt in [DType.i8, .u8, .i16, .u16, .i32, .u64, .f4] {
            let grid = QuantGrid(dt)!
            let net = try Network<Float>(denseSpec(dt))
            let x = input(4, 5)
            let y = try net.forward(x)
            let w = net.params.values[0].data, b = net.params.values[1].data
            func q(_ v: [Float]) -> ([Int64], Double) {
                var c = [Int64](repeating: 0, count: v.count)
                let s = v.withUnsafeBufferPointer { vp in c.withUnsafeMutableBufferPointer { grid.quantize(vp.baseAddress!, count: v.count, stride: 1, into: $0.baseAddress!) } }
                return (c, s)
            }
            for row in 0..<4 {
                let (c0, s0) = q(Array(x.data[(row * 5)..<(row * 5 + 5)]))
                let xr = c0.map { Float(Double($0) * s0) }       // the network input, requantized
                let (cx, sx) = q(xr)
                var out = [Float]()
                for o in 0..<3 {
                    let (cw, sw) = q(Array(w[(o * 5)..<(o * 5 + 5)]))
                    var acc = Int128(0)
                    for i in 0..<5 { acc += Int128(cx[i]) * Int128(cw[i]) }
                    out.append(Float(Double(b[o]) + Double(acc) * (sx * sw)))
                }
                let (cy, sy) = q(out)
                let want = cy.map { Float(Double($0) * sy) }
                XCTAssertEqual(Array(y.data[(row * 3)..<(row * 3 + 3)]).map { $0.bitPattern }, want.map { $0.bitPattern }, "\(dt.name) row \(row)")
            }
        }
    }

    func testEveryDTypeTrainsAndIsThreadAndBatchInvariant() throws {
        let x = input(16, 5), t = input(16, 3, salt: 1)
        for dt in DType.allCases {
            func trained(_ ctx: ComputeContext) throws -> (first: Double, last: Double, hash: String) {
                switch Execution.computeType(of: dt) {
                case .f64:
                    let net = try Network<Double>(denseSpec(dt))
                    let tr = Trainer(network: net, spec: net.spec.training!, context: ctx)
                    let l0 = try tr.step(x.converted(to: Double.self), t.converted(to: Double.self)).loss
                    var l = l0
                    for _ in 0..<30 { l = try tr.step(x.converted(to: Double.self), t.converted(to: Double.self)).loss }
                    return (l0, l, net.params.bitHash.hex)
                default:
                    let net = try Network<Float>(denseSpec(dt))
                    let tr = Trainer(network: net, spec: net.spec.training!, context: ctx)
                    let l0 = Double(try tr.step(x, t).loss)
                    var l = l0
                    for _ in 0..<30 { l = Double(try tr.step(x, t).loss) }
                    return (l0, l, net.params.bitHash.hex)
                }
            }
            let a = try trained(SerialContext()), b = try trained(ShuffledContext())
            XCTAssertLessThan(a.last, a.first * 0.9, "\(dt.name) loss \(a.first) → \(a.last)")
            XCTAssertEqual(a.hash, b.hash, "\(dt.name): weights differ between serial and shuffled parallel execution")
            if dt != .f64 {
                let net = try Network<Float>(denseSpec(dt))
                let full = try net.forward(x, context: ShuffledContext())
                for i in [0, 7, 15] {
                    XCTAssertEqual(bits(try net.forward(x.batchSlice(i..<(i + 1)))), bits(full.batchSlice(i..<(i + 1))), "\(dt.name) sample \(i)")
                }
            }
        }
    }

    func testDTypesDiffer() throws {
        // Each dtype's execution is really different (a check that could fail if a view were ignored).
        let x = input(4, 5)
        var hashes = [String: [String]]()
        for dt in DType.allCases where dt != .f64 {
            hashes[try Network<Float>(denseSpec(dt)).forward(x).bitHash.hex, default: []].append(dt.name)
        }
        // The 32- and 64-bit grids are finer than f32 here, so those four agree with one another
        // (not with f32: the input, output and product are still quantized); all others differ.
        XCTAssertEqual(hashes.values.map { $0.joined(separator: "=") }.sorted(),
                       ["bf16", "f16", "f32", "f4", "i16", "i64=i32=u64=u32", "i8", "u16", "u8"])
    }

    func testF16LossScalingSkipsOverflowAndGrows() throws {
        let net = try Network<Float>(denseSpec(.f16))
        let tr = Trainer(network: net, spec: net.spec.training!, context: SerialContext())
        let x = input(4, 5), t = input(4, 3, salt: 1)
        tr.optimizer.lossScale = LossScale(scale: 0x1p100)
        let before = net.params.bitHash.hex
        try tr.step(x, t)
        XCTAssertEqual(net.params.bitHash.hex, before, "an overflowing step must be skipped")
        XCTAssertEqual(tr.optimizer.lossScale?.scale, 0x1p99)
        XCTAssertEqual(tr.optimizer.stepCount, 0)
        tr.optimizer.lossScale = LossScale(scale: 1024, goodSteps: LossScale.growthInterval - 1)
        try tr.step(x, t)
        XCTAssertNotEqual(net.params.bitHash.hex, before)
        XCTAssertEqual(tr.optimizer.lossScale, LossScale(scale: 2048, goodSteps: 0))
        // The unscaled gradient equals the gradient computed without scaling when no f16 value underflows.
        let n2 = try Network<Float>(denseSpec(.f16))
        _ = try n2.computeGradients(x, target: t, loss: .mse, context: SerialContext(), step: 0, gradientScale: 1024)
        var ls = LossScale(scale: 1024)
        XCTAssertTrue(ls.unscale(n2.params))
        let n3 = try Network<Float>(denseSpec(.f16))
        _ = try n3.computeGradients(x, target: t, loss: .mse, context: SerialContext(), step: 0)
        for i in 0..<n2.params.count { XCTAssertEqual(bits(n2.params.grads[i]), bits(n3.params.grads[i])) }
        // Saved with the optimizer state.
        let (reloaded, opt) = try ModelCodec.decode(try ModelCodec.parse(ModelCodec.encode(net, optimizer: tr.optimizer), source: ""), as: Float.self)
        XCTAssertEqual(opt?.lossScale, tr.optimizer.lossScale)
        XCTAssertEqual(bits(try reloaded.forward(x)), bits(try net.forward(x)))
    }

    func testConversionKeepsMasterWeights() throws {
        let net = try Network<Float>(denseSpec(.f32))
        let x = input(3, 5)
        for dt in DType.allCases {
            let c = try AnyNetwork.f32(net, nil).converted(to: dt)
            XCTAssertEqual(c.spec.dtype, dt)
            switch c {
            case .f32(let n, _):
                XCTAssertEqual(n.params.bitHash.hex, net.params.bitHash.hex, dt.name)
                // Save and load in the dtype: the same bits.
                let (r, _) = try ModelCodec.decode(try ModelCodec.parse(ModelCodec.encode(n), source: ""), as: Float.self)
                XCTAssertEqual(r.spec.dtype, dt)
                XCTAssertEqual(bits(try r.forward(x)), bits(try n.forward(x)), dt.name)
            case .f64(let n, _):
                XCTAssertEqual(dt, .f64)
                XCTAssertEqual(n.params.values[0].data, net.params.values[0].data.map { Double($0) })
            }
        }
    }

    func testDTypeComparisonReport() throws {
        let net = AnyNetwork.f32(try Network<Float>(denseSpec(.f32)), nil)
        let x = input(6, 5).converted(to: Double.self)
        let rows = try DTypeComparison.run(net, inputs: x, labels: [0, 1, 2, 0, 1, 2], dtypes: [.f32, .i8, .f4], context: SerialContext())
        XCTAssertEqual(rows.map { $0.dtype }, [.f32, .i8, .f4])
        XCTAssertEqual(rows[0].relativeDeviation, 0)
        XCTAssertEqual(rows[0].agreement, 1)
        XCTAssertGreaterThan(rows[1].relativeDeviation, 0)
        XCTAssertGreaterThan(rows[2].relativeDeviation, rows[1].relativeDeviation)
        XCTAssertEqual(rows[0].weightBytes, 18 * 4)
        XCTAssertEqual(rows[1].weightBytes, 15 + 3 * 4 + 3 * 4)        // codes, f32 scales, f32 bias
        XCTAssertEqual(rows[2].weightBytes, 8 + 3 * 4 + 3 * 4)         // 15 f4 codes packed in 8 bytes
        XCTAssertThrowsError(try DTypeComparison.run(net, inputs: x, labels: [0], dtypes: [.i8], context: SerialContext())) { e in
            XCTAssertEqual((e as? LoomError)?.path, "labels")
        }
    }

    func testBadDTypeNamesAndStates() throws {
        let bad = #"{"format": "loom", "version": 1, "dtype": "int3", "input": {"shape": [2]}, "layers": [{"type": "dense", "units": 1}]}"#
        XCTAssertThrowsError(try IRDecoder.decode(json: bad)) { e in XCTAssertEqual((e as? LoomError)?.path, "dtype") }
        let net = try Network<Float>(denseSpec(.f16))
        let tr = Trainer(network: net, spec: net.spec.training!, context: SerialContext())
        try tr.step(input(4, 5), input(4, 3, salt: 1))
        var text = ModelCodec.encode(net, optimizer: tr.optimizer)
        text = text.replacingOccurrences(of: "\"scale\": 65536", with: "\"scale\": -1")
        XCTAssertThrowsError(try ModelCodec.decode(try ModelCodec.parse(text, source: ""), as: Float.self)) { e in
            XCTAssertEqual((e as? LoomError)?.path, "optimizer_state.loss_scale.scale")
        }
    }
}

/// Runs chunks in a scrambled order with many chunks (thread-count independence).
final class ShuffledContext: ComputeContext {
    var threads: Int { 5 }
    func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        for i in stride(from: count - 1, through: 0, by: -2) { body(i) }
        for i in stride(from: count - 2, through: 0, by: -2) { body(i) }
    }
    func sgemm(_ p: GemmProblem<Float>) { SerialContext().sgemm(p) }
    func dgemm(_ p: GemmProblem<Double>) { SerialContext().dgemm(p) }
}
