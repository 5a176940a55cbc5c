import Loom
import LoomCore
import LoomNN
import XCTest

/// rnn, lstm and gru against torch.nn.RNN/LSTM/GRU (Fixtures/torch/recurrent.json, made by
/// scripts/fixtures/torch_recurrent.py), finite differences, the explicit-state API, bad input
/// and determinism across threads and batches.
final class RecurrentTests: XCTestCase {
    func fixture(_ key: String) throws -> [JSONValue] {
        try Fixture.json("Fixtures/torch/recurrent.json")[key]!.arrayValue!
    }




    /// The state API: h0/c0 in, final state out, dL/dh0 and dL/dc0 back, against PyTorch.
    func checkState<T: LoomFloat>(_ c: JSONValue, as: T.Type, rtol: Double, atol: Double) throws {
        let name = c["name"]!.stringValue!
        let net = try Fixture.network(c, as: T.self)
        let layer = try XCTUnwrap(net.recurrentLayer(at: "layers[0]"))
        let x: Tensor<T> = Fixture.tensor(c["input"], as: T.self)
        let lstm = c["c0"] != nil
        let initial = RecurrentState<T>(h: Fixture.tensor(c["h0"], as: T.self), c: lstm ? Fixture.tensor(c["c0"], as: T.self) : nil)
        let (y, final) = try layer.run(x, initial: initial, params: net.params)
        assertClose(y, Fixture.tensor(c["output"], as: T.self), rtol: rtol, atol: atol, "\(name) output")
        assertClose(final.h, Fixture.tensor(c["h_n"], as: T.self), rtol: rtol, atol: atol, "\(name) h_n")
        if lstm { assertClose(try XCTUnwrap(final.c), Fixture.tensor(c["c_n"], as: T.self), rtol: rtol, atol: atol, "\(name) c_n") }
        net.params.zeroGrads()
        let pass = net.trainingPass(context: SerialContext(), step: 0)
        let (y2, final2) = try layer.forward(x, initial: initial, pass)
        XCTAssertEqual(bits(y2), bits(y), name)
        XCTAssertEqual(bits(final2.h), bits(final.h), name)
        let gFinal = RecurrentState<T>(h: Fixture.tensor(c["grad_h_n"], as: T.self), c: lstm ? Fixture.tensor(c["grad_c_n"], as: T.self) : nil)
        let (dx, d0) = layer.backward(Fixture.tensor(c["grad_output"], as: T.self), finalGradient: gFinal, pass)
        assertClose(dx, Fixture.tensor(c["grad_input"], as: T.self), rtol: rtol, atol: atol, "\(name) grad_input")
        assertClose(d0.h, Fixture.tensor(c["grad_h0"], as: T.self), rtol: rtol, atol: atol, "\(name) grad_h0")
        if lstm { assertClose(try XCTUnwrap(d0.c), Fixture.tensor(c["grad_c0"], as: T.self), rtol: rtol, atol: atol, "\(name) grad_c0") }
        else { XCTAssertNil(d0.c) }
        let pg = c["param_grads"]!.objectValue!
        XCTAssertEqual(pg.keys.count, net.params.count)
        for k in pg.keys {
            let i = try XCTUnwrap(net.params.index(of: k))
            assertClose(net.params.grads[i], Fixture.tensor(pg[k], as: T.self), rtol: rtol, atol: atol, "\(name) grad \(k)")
        }
    }

    func testInitialAndFinalStateAgainstPyTorch() throws {
        let cases = try fixture("state_cases")
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            try checkState(c, as: Double.self, rtol: 1e-9, atol: 1e-12)
            try checkState(c, as: Float.self, rtol: 2e-4, atol: 2e-5)
        }
    }

    /// dL/dh0 and dL/dc0 against central differences of L = Σ y·g + Σ h_n·g_h (+ Σ c_n·g_c).
    func testInitialStateGradientsMatchFiniteDifferences() throws {
        for c in try fixture("state_cases") {
            let net = try Fixture.network(c, as: Double.self)
            let layer = try XCTUnwrap(net.recurrentLayer(at: "layers[0]"))
            let x: Tensor<Double> = Fixture.tensor(c["input"])
            let lstm = c["c0"] != nil
            var state = RecurrentState<Double>(h: Fixture.tensor(c["h0"]), c: lstm ? Fixture.tensor(c["c0"]) : nil)
            let g: Tensor<Double> = Fixture.tensor(c["grad_output"])
            let gFinal = RecurrentState<Double>(h: Fixture.tensor(c["grad_h_n"]), c: lstm ? Fixture.tensor(c["grad_c_n"]) : nil)
            func loss() throws -> Double {
                let (y, f) = try layer.run(x, initial: state, params: net.params)
                var s = 0.0
                for i in 0..<y.count { s += y.data[i] * g.data[i] }
                for i in 0..<f.h.count { s += f.h.data[i] * gFinal.h.data[i] }
                if let fc = f.c { for i in 0..<fc.count { s += fc.data[i] * gFinal.c!.data[i] } }
                return s
            }
            let pass = net.trainingPass(context: SerialContext(), step: 0)
            _ = try layer.forward(x, initial: state, pass)
            let d0 = layer.backward(g, finalGradient: gFinal, pass).initial
            let h = 1e-6
            for i in 0..<state.h.count {
                let v = state.h.data[i]
                state.h.data[i] = v + h; let lp = try loss()
                state.h.data[i] = v - h; let lm = try loss()
                state.h.data[i] = v
                XCTAssertEqual(d0.h.data[i], (lp - lm) / (2 * h), accuracy: 1e-7, "\(c["name"]!.stringValue!) dh0[\(i)]")
            }
            if lstm {
                for i in 0..<state.c!.count {
                    let v = state.c!.data[i]
                    state.c!.data[i] = v + h; let lp = try loss()
                    state.c!.data[i] = v - h; let lm = try loss()
                    state.c!.data[i] = v
                    XCTAssertEqual(d0.c!.data[i], (lp - lm) / (2 * h), accuracy: 1e-7, "\(c["name"]!.stringValue!) dc0[\(i)]")
                }
            }
        }
    }

    func testIRFieldsDefaultsAndInitialisation() throws {
        let spec = try IRDecoder.decode(json: net("{\"type\": \"gru\", \"hidden_size\": 6}", input: "[3, 2]"))
        XCTAssertEqual(spec.layers[0], .recurrent(RecurrentSpec(cell: .gru, hiddenSize: 6, returnSequences: true, bias: true)))
        let text = JSONValue.object(IREncoder.encode(spec)).serialized()
        XCTAssertEqual(try IRDecoder.decode(json: text), spec)
        XCTAssertTrue(text.contains("\"return_sequences\":true"), text)
        let n = try Network<Float>(spec)
        XCTAssertEqual(n.params.names, ["layers.0.weight_ih", "layers.0.weight_hh", "layers.0.bias_ih", "layers.0.bias_hh"])
        XCTAssertEqual(n.params.values.map { $0.shape }, [[18, 2], [18, 6], [18], [18]])
        XCTAssertEqual(n.outputShape, [3, 6])
        let bound = Float(1 / 6.0.squareRoot())
        for v in n.params.values { XCTAssertTrue(v.data.allSatisfy { abs($0) <= bound }) }
        let last = try Network<Double>(IRDecoder.decode(json: net("{\"type\": \"lstm\", \"hidden_size\": 4, \"return_sequences\": false, \"bias\": false}", input: "[5, 3]", dtype: "f64")))
        XCTAssertEqual(last.outputShape, [4])
        XCTAssertEqual(last.params.names, ["layers.0.weight_ih", "layers.0.weight_hh"])
        XCTAssertEqual(last.params.values[0].shape, [16, 3])
    }

    func net(_ layers: String, input: String, dtype: String = "f32") -> String {
        "{\"format\": \"loom\", \"version\": 1, \"dtype\": \"\(dtype)\", \"input\": {\"shape\": \(input)}, \"layers\": [\(layers)]}"
    }

    func expectError(_ json: String, _ kind: LoomError.Kind, path: String, contains: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Network<Float>(try IRDecoder.decode(json: json))
            XCTFail("no error for \(json)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertEqual(error.path, path, error.description, file: file, line: line)
            if !contains.isEmpty { XCTAssertTrue(error.description.contains(contains), error.description, file: file, line: line) }
        }
    }

    func testBadConfigurations() throws {
        expectError(net("{\"type\": \"lstm\", \"hidden_size\": 0}", input: "[3, 2]"), .invalidIR, path: "layers[0].hidden_size")
        expectError(net("{\"type\": \"rnn\", \"hidden_size\": -4}", input: "[3, 2]"), .invalidIR, path: "layers[0].hidden_size")
        expectError(net("{\"type\": \"gru\"}", input: "[3, 2]"), .invalidIR, path: "layers[0].hidden_size", contains: "required")
        expectError(net("{\"type\": \"gru\", \"hidden_size\": 2, \"hidden\": 3}", input: "[3, 2]"), .invalidIR, path: "layers[0].hidden")
        expectError(net("{\"type\": \"gru\", \"hidden_size\": 2, \"return_sequences\": 1}", input: "[3, 2]"), .invalidIR, path: "layers[0].return_sequences")
        expectError(net("{\"type\": \"lstm\", \"hidden_size\": 3}", input: "[6]"), .shapeMismatch, path: "layers[0]", contains: "[seq, features]")
        expectError(net("{\"type\": \"lstm\", \"hidden_size\": 3}", input: "[2, 3, 4]"), .shapeMismatch, path: "layers[0]", contains: "[seq, features]")
        // last step only: [hidden] cannot feed another recurrent layer
        expectError(net("{\"type\": \"rnn\", \"hidden_size\": 3, \"return_sequences\": false}, {\"type\": \"gru\", \"hidden_size\": 2}", input: "[4, 2]"),
                    .shapeMismatch, path: "layers[1]")
        expectError(net("{\"type\": \"lstm\", \"hidden_size\": 3}", input: "[0, 2]"), .invalidIR, path: "input.shape[0]")
        expectError(net("{\"type\": \"lstm\", \"hidden_size\": 4000000000}", input: "[3, 2]"), .invalidIR, path: "layers[0].hidden_size", contains: "2^31")
        expectError(net("{\"type\": \"gru\", \"hidden_size\": 9223372036854775807}", input: "[3, 2]"), .invalidIR, path: "layers[0].hidden_size")
        expectError(net("{\"type\": \"lstm\", \"hidden_size\": 8}", input: "[100000000, 8]"), .invalidIR, path: "layers[0]", contains: "gates")
        // A zero-length sequence built from Swift is refused too.
        XCTAssertThrowsError(try Network<Float>(NetworkSpec(inputShape: [0, 2], layers: [.recurrent(RecurrentSpec(cell: .rnn, hiddenSize: 2))])))
    }

    func testBadStateInput() throws {
        let n = try Network<Double>(IRDecoder.decode(json: net("{\"type\": \"lstm\", \"hidden_size\": 2}", input: "[3, 2]", dtype: "f64")))
        let layer = try XCTUnwrap(n.recurrentLayer(at: "layers[0]"))
        let x = Tensor<Double>(zeros: [2, 3, 2])
        func fails(_ s: RecurrentState<Double>?, _ x: Tensor<Double>, _ kind: LoomError.Kind, _ text: String) {
            XCTAssertThrowsError(try layer.run(x, initial: s, params: n.params)) { e in
                XCTAssertEqual((e as? LoomError)?.kind, kind, "\(e)")
                XCTAssertEqual((e as? LoomError)?.path, "layers[0]")
                XCTAssertTrue("\(e)".contains(text), "\(e)")
            }
        }
        fails(RecurrentState(h: Tensor(zeros: [2, 2])), x, .invalidInput, "c0")
        fails(RecurrentState(h: Tensor(zeros: [2, 3]), c: Tensor(zeros: [2, 2])), x, .shapeMismatch, "h0 must be [2, 2]")
        fails(RecurrentState(h: Tensor(zeros: [2, 2]), c: Tensor(zeros: [1, 2])), x, .shapeMismatch, "c0 must be [2, 2]")
        fails(RecurrentState(h: Tensor(uncheckedShape: [2, 2], data: [0, .nan, 0, 0]), c: Tensor(zeros: [2, 2])), x, .nonFinite, "h0")
        fails(nil, Tensor(zeros: [2, 4, 2]), .shapeMismatch, "[batch, 3, 2]")
        fails(nil, Tensor(zeros: [0, 3, 2]), .shapeMismatch, "[batch, 3, 2]")
        let g = try Network<Double>(IRDecoder.decode(json: net("{\"type\": \"gru\", \"hidden_size\": 2}", input: "[3, 2]", dtype: "f64")))
        XCTAssertThrowsError(try g.recurrentLayer(at: "layers[0]")!.run(x, initial: RecurrentState(h: Tensor(zeros: [2, 2]), c: Tensor(zeros: [2, 2])), params: g.params))
        XCTAssertNil(g.recurrentLayer(at: "layers[1]"))
    }

    /// Forward, final state, input and state gradients and parameter gradients are identical
    /// bits for 1, 2, 3 and 8 threads, and a sample alone equals its row in the batch.
    func testThreadAndBatchInvariance() throws {
        for cell in RecurrentCell.allCases {
            let spec = NetworkSpec(dtype: .f32, seed: 3, inputShape: [7, 40],
                                   layers: [.recurrent(RecurrentSpec(cell: cell, hiddenSize: 96, returnSequences: true))])
            let x: Tensor<Float> = Init.uniform([24, 7, 40], bound: 1, seed: 1, name: "x")
            let h0: Tensor<Float> = Init.uniform([24, 96], bound: 0.5, seed: 1, name: "h0")
            let c0: Tensor<Float>? = cell == .lstm ? Init.uniform([24, 96], bound: 0.5, seed: 1, name: "c0") : nil
            let dy: Tensor<Float> = Init.uniform([24, 7, 96], bound: 1, seed: 1, name: "dy")
            var reference: [[UInt64]]? = nil
            for t in [1, 2, 3, 8] {
                let n = try Network<Float>(spec)
                let layer = n.recurrentLayer(at: "layers[0]")!
                let pass = n.trainingPass(context: CPUContext(threads: t), step: 0)
                let (y, f) = try layer.forward(x, initial: RecurrentState(h: h0, c: c0), pass)
                let (dx, d0) = layer.backward(dy, finalGradient: RecurrentState(h: h0, c: c0), pass)
                var all = [bits(y), bits(f.h), bits(dx), bits(d0.h)] + n.params.grads.map { bits($0) }
                if let c = d0.c { all.append(bits(c)) }
                if let r = reference { XCTAssertEqual(all, r, "\(cell) with \(t) threads") } else { reference = all }
                if t == 3 {
                    for i in [0, 13, 23] {
                        let (yi, fi) = try layer.run(x.batchSlice(i..<(i + 1)),
                                                      initial: RecurrentState(h: h0.batchSlice(i..<(i + 1)), c: c0?.batchSlice(i..<(i + 1))),
                                                      params: n.params, context: CPUContext(threads: 3))
                        XCTAssertEqual(bits(yi), bits(y.batchSlice(i..<(i + 1))), "\(cell) sample \(i)")
                        XCTAssertEqual(bits(fi.h), bits(f.h.batchSlice(i..<(i + 1))), "\(cell) sample \(i) h_n")
                    }
                }
            }
        }
    }
}
