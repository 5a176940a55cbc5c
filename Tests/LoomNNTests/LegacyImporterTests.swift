import Foundation
import LoomCore
import LoomNN
import XCTest

/// The importer for the original Go Loom's configs and saved bundles (docs/ir.md, "Importing the
/// original Loom's files").
final class LegacyImporterTests: XCTestCase {
    let legacy = LegacyOptions(legacySemantics: true)
    let plain = LegacyOptions()

    /// A config with a 1×1×N grid around `layers`.
    func config(_ layers: String, count: Int, id: String = "t") -> String {
        "{\"id\":\"\(id)\",\"batch_size\":1,\"grid_rows\":1,\"grid_cols\":1,\"layers_per_cell\":\(count),\"layers\":[\(layers)]}"
    }

    /// A saved bundle as the original writes it: the weights are base64 of a JSON text.
    func bundle(_ cfg: String, _ weightLayers: String, id: String = "m") -> String {
        bundle(cfg, rawData: Base64.encode(Array("{\"type\":\"float32\",\"dtype\":\"\",\"layers\":[\(weightLayers)]}".utf8)), id: id)
    }

    func bundle(_ cfg: String, rawData: String, id: String = "m") -> String {
        "{\"type\":\"modelhost/bundle\",\"version\":1,\"models\":[{\"id\":\"\(id)\",\"cfg\":\(cfg),\"weights\":{\"fmt\":\"jsonModelB64\",\"data\":\"\(rawData)\"}}]}"
    }

    func forward(_ imp: LegacyImport, _ x: [Float]) throws -> [Float] {
        let net = try LegacyImporter.network(imp)
        return try net.forward(Tensor(uncheckedShape: [1, x.count], data: x)).data
    }

    func expectError(_ json: String, _ options: LegacyOptions, _ kind: LoomError.Kind, path: String, contains: String = "",
                     modelIndex: Int = 0, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let root = try JSONValue.parse(json)
            let imp = try LegacyImporter.convert(root, options: options, modelIndex: modelIndex)
            _ = try LegacyImporter.network(imp)
            XCTFail("no error for \(json)", file: file, line: line)
        } catch let e as LoomError {
            XCTAssertEqual(e.kind, kind, e.description, file: file, line: line)
            XCTAssertEqual(e.path, path, e.description, file: file, line: line)
            if !contains.isEmpty { XCTAssertTrue(e.description.contains(contains), e.description, file: file, line: line) }
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    // MARK: configs

    /// The MNIST demo of §1.4 without its conv2d layers.
    let mnist = """
    {"id":"mnist_dense","batch_size":20,"grid_rows":1,"grid_cols":1,"layers_per_cell":3,
     "layers":[
      {"type":"dense","activation":"none","input_height":784,"output_height":784},
      {"type":"dense","activation":"none","input_height":784,"output_height":64},
      {"type":"dense","activation":"sigmoid","input_height":64,"output_height":10}]}
    """

    func testMNISTDenseConfigWithLegacySemantics() throws {
        let imp = try LegacyImporter.convert(json: mnist, options: legacy)
        XCTAssertEqual(imp.spec.name, "mnist_dense")
        XCTAssertEqual(imp.spec.inputShape, [784])
        XCTAssertEqual(imp.spec.layers, [.dense(units: 784, activation: .scaledReLU(scale: 1.1), bias: true),
                                         .dense(units: 64, activation: .scaledReLU(scale: 1.1), bias: true),
                                         .dense(units: 10, activation: .sigmoid, bias: true)])
        XCTAssertTrue(imp.weights.isEmpty)
        XCTAssertTrue(imp.notes.contains("layers[0]: activation \"none\" means scaled ReLU ×1.1 in the original; imported as scaled_relu (legacy semantics)"), "\(imp.notes)")
        XCTAssertTrue(imp.notes.contains { $0.hasPrefix("grid:") })
        XCTAssertTrue(imp.notes.contains { $0.hasPrefix("batch_size:") })
        let net = try LegacyImporter.network(imp)
        XCTAssertEqual(net.outputShape, [10])
        // The saved model reads back as the same network.
        let (again, _) = try ModelCodec.decode(try JSONValue.parse(ModelCodec.encode(net)), as: Float.self)
        XCTAssertEqual(again.spec, net.spec)
        XCTAssertEqual(again.params.bitHash, net.params.bitHash)
    }

    func testMNISTDenseConfigWithoutLegacySemantics() throws {
        let imp = try LegacyImporter.convert(json: mnist, options: plain)
        XCTAssertEqual(imp.spec.layers, [.dense(units: 784, activation: .linear, bias: true),
                                         .dense(units: 64, activation: .linear, bias: true),
                                         .dense(units: 10, activation: .sigmoid, bias: true)])
        XCTAssertTrue(imp.notes.contains { $0.hasPrefix("layers[1]: activation \"none\" runs as scaled ReLU ×1.1 in the original; imported as linear") }, "\(imp.notes)")
    }

    func testGridIsFlattenedInRowColLayerOrder() throws {
        let json = """
        {"id":"g","grid_rows":2,"grid_cols":2,"layers_per_cell":1,"layers":[
          {"type":"dense","activation":"tanh","input_size":3,"output_size":4},
          {"type":"dense","activation":"tanh","input_size":4,"output_size":5},
          {"type":"dense","activation":"tanh","input_size":5,"output_size":6},
          {"type":"dense","activation":"sigmoid","input_size":6,"output_size":2}]}
        """
        let imp = try LegacyImporter.convert(json: json, options: plain)
        XCTAssertEqual(imp.spec.inputShape, [3])
        XCTAssertEqual(imp.spec.layers.map { if case .dense(let u, _, _) = $0 { return u } else { return 0 } }, [4, 5, 6, 2])
        XCTAssertTrue(imp.notes.contains { $0.contains("2×2×1 grid is only addressing") })
    }

    /// The grid_scatter block of §1.4.
    func testGridScatterParallel() throws {
        let block = """
        {"type":"parallel","combine_mode":"grid_scatter",
         "grid_output_rows":2,"grid_output_cols":1,"grid_output_layers":1,
         "grid_positions":[{"branch_index":0,"target_row":0,"target_col":0,"target_layer":0},
                           {"branch_index":1,"target_row":1,"target_col":0,"target_layer":0}],
         "branches":[{"type":"dense","activation":"tanh","input_size":8,"output_size":4},
                     {"type":"dense","activation":"sigmoid","input_size":8,"output_size":4}]}
        """
        let imp = try LegacyImporter.convert(json: config(block, count: 1), options: legacy)
        XCTAssertEqual(imp.spec.inputShape, [8])
        XCTAssertEqual(imp.spec.layers, [.parallel(ParallelSpec(
            branches: [.dense(units: 4, activation: .tanh, bias: true), .dense(units: 4, activation: .sigmoid, bias: true)],
            combine: .gridScatter, grid: GridSpec(rows: 2, cols: 1, layers: 1, positions: [[0, 0, 0], [1, 0, 0]])))])
        let net = try LegacyImporter.network(imp)
        XCTAssertEqual(net.outputShape, [8])
        XCTAssertEqual(net.params.names, ["layers.0.branches.0.weight", "layers.0.branches.0.bias",
                                          "layers.0.branches.1.weight", "layers.0.branches.1.bias"])
    }

    let filterBlock = """
    {"type":"parallel","combine_mode":"filter","filter_softmax":"temperature","filter_temperature":0.5,
     "filter_gate":{"type":"dense","activation":"relu","input_height":4,"output_height":2},
     "branches":[{"type":"dense","activation":"tanh","input_height":4,"output_height":3},
                 {"type":"dense","activation":"sigmoid","input_height":4,"output_height":3}]}
    """

    func testFilterParallelFromConfig() throws {
        let imp = try LegacyImporter.convert(json: config(filterBlock, count: 1), options: plain)
        XCTAssertEqual(imp.spec.layers, [.parallel(ParallelSpec(
            branches: [.dense(units: 3, activation: .tanh, bias: true), .dense(units: 3, activation: .sigmoid, bias: true)],
            combine: .filter, gate: .dense(units: 2, activation: .linear, bias: true), gateSoftmax: .temperature(0.5)))])
        XCTAssertTrue(imp.notes.contains { $0.contains("[out][in]") }, "\(imp.notes)")
        XCTAssertTrue(imp.notes.contains { $0.contains("activation \"relu\" is ignored") }, "\(imp.notes)")
        let net = try LegacyImporter.network(imp)
        XCTAssertEqual(net.outputShape, [3])
        XCTAssertTrue(net.params.names.contains("layers.0.gate.weight"))

        // Without a gate every branch gets 1/N: an average.
        let noGate = "{\"type\":\"parallel\",\"combine_mode\":\"filter\",\"branches\":[{\"type\":\"dense\",\"input_size\":4,\"output_size\":3},{\"type\":\"dense\",\"input_size\":4,\"output_size\":3}]}"
        let avg = try LegacyImporter.convert(json: config(noGate, count: 1), options: legacy)
        guard case .parallel(let p) = avg.spec.layers[0] else { return XCTFail() }
        XCTAssertEqual(p.combine, .average)
    }

    /// The gate weights are [out][in] in the original (its transpose bug): not transposed on import.
    func testFilterGateWeightsAreNotTransposed() throws {
        let block = """
        {"type":"parallel","combine_mode":"filter",
         "filter_gate":{"type":"dense","input_height":2,"output_height":2},
         "branches":[{"type":"dense","activation":"linear","input_height":2,"output_height":1},
                     {"type":"dense","activation":"linear","input_height":2,"output_height":1}]}
        """
        let w = """
        {"branch_weights":[{"kernel":[1,1],"biases":[0]},{"kernel":[-1,-1],"biases":[0]}],
         "filter_gate":{"kernel":[2,0,0,-1],"biases":[0,0]}}
        """
        let imp = try LegacyImporter.convert(try JSONValue.parse(bundle(config(block, count: 1), w)), options: plain)
        let gate = imp.weights.first { $0.name == "layers.0.gate.weight" }
        XCTAssertEqual(gate?.shape, [2, 2])
        XCTAssertEqual(gate?.values, [2, 0, 0, -1])
        // x = [1, 3]: gate logits [2·1, −1·3] = [2, −3]; branches give 4 and −4.
        let y = try forward(imp, [1, 3])
        let e0 = Foundation.exp(2.0), e1 = Foundation.exp(-3.0)
        XCTAssertEqual(Double(y[0]), (e0 * 4 - e1 * 4) / (e0 + e1), accuracy: 1e-5)
        // With legacy semantics a loaded filter is uniform (the original's loader drops the gate).
        let leg = try LegacyImporter.convert(try JSONValue.parse(bundle(config(block, count: 1), w)), options: legacy)
        guard case .parallel(let p) = leg.spec.layers[0] else { return XCTFail() }
        XCTAssertEqual(p.combine, .average)
        // Legacy semantics also make the branches' "linear" a scaled ReLU: (1.1·4 + 0) / 2.
        XCTAssertEqual(try forward(leg, [1, 3]), [Float(1.1) * 4 * 0.5])
    }

    func testNormConfigs() throws {
        let layers = """
        {"type":"layer_norm","norm_size":4,"epsilon":1e-5},
        {"type":"rms_norm","norm_size":4},
        {"type":"softmax","softmax_variant":"grid","softmax_rows":2,"softmax_cols":2}
        """
        let imp = try LegacyImporter.convert(json: config(layers, count: 3), options: plain)
        XCTAssertEqual(imp.spec.inputShape, [4])
        let eps = Double(Float(1e-5))
        XCTAssertEqual(imp.spec.layers, [.layerNorm(epsilon: eps, affine: true), .rmsNorm(epsilon: eps, affine: true),
                                         .softmax(.grid(rows: 2, cols: 2))])
        let y = try forward(imp, [1, 2, 3, 4])
        XCTAssertEqual(Double(y[0] + y[1]), 1, accuracy: 1e-6)
        expectError(config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":3},{\"type\":\"layer_norm\",\"norm_size\":4}", count: 2),
                    plain, .shapeMismatch, path: "layers[1].norm_size")
    }

    /// §3.1: RMSNorm makes its input the pending residual; the next LayerNorm adds it.
    func testImplicitResidualWiring() throws {
        let layers = """
        {"type":"dense","activation":"tanh","input_size":3,"output_size":3},
        {"type":"rms_norm","norm_size":3},
        {"type":"dense","activation":"tanh","input_size":3,"output_size":3},
        {"type":"layer_norm","norm_size":3},
        {"type":"layer_norm","norm_size":3}
        """
        let json = config(layers, count: 5)
        let imp = try LegacyImporter.convert(json: json, options: legacy)
        let eps = Double(Float(1e-5))
        XCTAssertEqual(imp.spec.layers, [
            .dense(units: 3, activation: .tanh, bias: true),
            .residual([.rmsNorm(epsilon: eps, affine: true), .dense(units: 3, activation: .tanh, bias: true)]),
            .layerNorm(epsilon: eps, affine: true),
            .residual([.activation(.linear)]),
            .layerNorm(epsilon: eps, affine: true)])
        XCTAssertEqual(imp.notes.filter { $0.contains("implicit residual") }.count, 2)

        let off = try LegacyImporter.convert(json: json, options: plain)
        XCTAssertEqual(off.spec.layers.count, 5)
        XCTAssertTrue(off.notes.contains { $0.contains("NOT reproduced") })

        // With weights: the names follow the residual block, and the forward is the original's.
        let w = """
        {"kernel":[1,0,0, 0,1,0, 0,0,1],"biases":[0,0,0]},{"gamma":[1,1,1]},
        {"kernel":[0.5,0,0, 0,0.5,0, 0,0,0.5],"biases":[0.1,0.2,0.3]},{"gamma":[1,1,1],"beta":[0,0,0]},{"gamma":[1,1,1],"beta":[0,0,0]}
        """
        let b = try LegacyImporter.convert(try JSONValue.parse(bundle(config(layers.replacingOccurrences(of: "input_size", with: "input_height").replacingOccurrences(of: "output_size", with: "output_height"), count: 5), w)), options: legacy)
        XCTAssertEqual(b.weights.map { $0.name }, ["layers.0.weight", "layers.0.bias", "layers.1.layers.0.weight",
                                                   "layers.1.layers.1.weight", "layers.1.layers.1.bias", "layers.2.weight", "layers.2.bias",
                                                   "layers.4.weight", "layers.4.bias"])
        let x: [Double] = [0.3, -0.2, 0.9]
        let x1 = x.map { tanh($0) }
        let ms = x1.reduce(0) { $0 + $1 * $1 } / 3
        let r = x1.map { $0 / (ms + eps).squareRoot() }
        let d = zip(r, [0.1, 0.2, 0.3]).map { tanh(0.5 * $0 + $1) }
        func ln(_ v: [Double]) -> [Double] {
            let m = v.reduce(0, +) / 3
            let va = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 3
            return v.map { ($0 - m) / (va + eps).squareRoot() }
        }
        let y1 = ln(zip(d, x1).map { $0 + $1 })
        let expected = ln(y1.map { $0 + $0 })
        let y = try forward(b, x.map { Float($0) })
        for i in 0..<3 { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 1e-4) }
    }

    // MARK: activations and weights

    /// A 2→2 dense with kernel [in][out] = [[1, −2], [0.5, 3]], biases [0.5, −1]; x = [2, 1] gives
    /// pre-activations [3, −2].
    func denseBundle(_ activation: String) -> String {
        bundle(config("{\"type\":\"dense\",\"activation\":\"\(activation)\",\"width\":1,\"height\":1,\"input_height\":2,\"output_height\":2}", count: 1),
               "{\"kernel\":[1,-2,0.5,3],\"biases\":[0.5,-1]}")
    }

    func testActivationMappingOnAHandComputedDense() throws {
        func run(_ act: String, _ o: LegacyOptions) throws -> [Float] {
            try forward(LegacyImporter.convert(try JSONValue.parse(denseBundle(act)), options: o), [2, 1])
        }
        let scaled = [Float(1.1) * 3, 0]
        XCTAssertEqual(try run("relu", legacy), scaled)
        XCTAssertEqual(try run("none", legacy), scaled)
        XCTAssertEqual(try run("linear", legacy), scaled)
        XCTAssertEqual(try run("gelu", legacy), scaled)
        XCTAssertEqual(try run("relu", plain), [3, 0])
        XCTAssertEqual(try run("none", plain), [3, -2])
        XCTAssertEqual(try run("linear", plain), [3, -2])
        XCTAssertEqual(try run("leaky_relu", plain), [3, Float(0.1) * -2])
        XCTAssertEqual(try run("leaky_relu", legacy), [3, Float(0.1) * -2])
        XCTAssertEqual(try run("tanh", plain), [Float(Foundation.tanh(3.0)), Float(Foundation.tanh(-2.0))], accuracy: 1e-6)
        expectError(denseBundle("gelu"), plain, .invalidIR, path: "models[0].cfg.layers[0].activation", contains: "GELU")
    }

    func testKernelIsTransposedFromInOutToOutIn() throws {
        // 3→2: kernel [in][out] = [[1, 2], [3, 4], [5, 6]], biases [0.5, −0.5].
        let b = bundle(config("{\"type\":\"dense\",\"activation\":\"linear\",\"input_height\":3,\"output_height\":2}", count: 1),
                       "{\"kernel\":[1,2,3,4,5,6],\"biases\":[0.5,-0.5]}")
        let imp = try LegacyImporter.convert(try JSONValue.parse(b), options: plain)
        XCTAssertEqual(imp.weights.count, 2)
        XCTAssertEqual(imp.weights[0].name, "layers.0.weight")
        XCTAssertEqual(imp.weights[0].shape, [2, 3])
        XCTAssertEqual(imp.weights[0].values, [1, 3, 5, 2, 4, 6])
        XCTAssertEqual(imp.weights[1].values, [0.5, -0.5])
        // x = [1, −1, 2]: o0 = 1 − 3 + 10 + 0.5, o1 = 2 − 4 + 12 − 0.5.
        XCTAssertEqual(try forward(imp, [1, -1, 2]), [8.5, 9.5])
    }

    func testBundleBranchWeightsNormsAndEmbedding() throws {
        let cfg = config("""
        {"type":"embedding","vocab_size":3,"embedding_dim":2},
        {"type":"parallel","combine_mode":"add","branches":[
          {"type":"dense","activation":"linear","input_height":2,"output_height":2},
          {"type":"sequential","branches":[{"type":"layer_norm","norm_size":2},{"type":"rms_norm","norm_size":2}]}]}
        """, count: 2)
        let w = """
        {"embedding_weights":[0,0, 1,2, 3,4]},
        {"branch_weights":[{"kernel":[1,0,0,1],"biases":[0,0]},{"branch_weights":[{"gamma":[1,1],"beta":[0,0]},{"gamma":[2,2]}]}]}
        """
        let imp = try LegacyImporter.convert(try JSONValue.parse(bundle(cfg, w)), options: plain)
        XCTAssertEqual(imp.spec.inputShape, [1])
        XCTAssertEqual(imp.weights.map { $0.name }, ["layers.0.weight", "layers.1.branches.0.weight", "layers.1.branches.0.bias",
                                                     "layers.1.branches.1.layers.0.weight", "layers.1.branches.1.layers.0.bias",
                                                     "layers.1.branches.1.layers.1.weight"])
        let net = try LegacyImporter.network(imp)
        let y = try net.forward(Tensor(uncheckedShape: [1, 1], data: [2])).data
        // id 2 → [3, 4]; the norm branch gives ≈ [−1, 1]·2/… : layer norm [−1, 1], then rms ×2 → [−2, 2].
        XCTAssertEqual(Double(y[0]), 3 - 2, accuracy: 1e-3)
        XCTAssertEqual(Double(y[1]), 4 + 2, accuracy: 1e-3)
    }

    func testBundleModelSelection() throws {
        let cfg = config("{\"type\":\"dense\",\"activation\":\"linear\",\"input_height\":1,\"output_height\":1}", count: 1)
        let data1 = Base64.encode(Array("{\"type\":\"float32\",\"layers\":[{\"kernel\":[2],\"biases\":[0]}]}".utf8))
        let data2 = Base64.encode(Array("{\"type\":\"float32\",\"layers\":[{\"kernel\":[5],\"biases\":[0]}]}".utf8))
        let json = """
        {"type":"modelhost/bundle","version":1,"models":[
          {"id":"a","cfg":\(cfg),"weights":{"fmt":"jsonModelB64","data":"\(data1)"}},
          {"id":"b","cfg":\(cfg),"weights":{"fmt":"jsonModelB64","data":"\(data2)"}}]}
        """
        let root = try JSONValue.parse(json)
        let b = try LegacyImporter.convert(root, options: plain, modelIndex: 1)
        XCTAssertEqual(try forward(b, [3]), [15])
        XCTAssertTrue(b.notes.contains { $0.contains("Go map order") })
        XCTAssertEqual(try forward(LegacyImporter.convert(root, options: plain), [3]), [6])
        expectError(json, plain, .invalidArgument, path: "model", modelIndex: 2)
    }

    // MARK: errors

    func testUnsupportedLayersAreClearErrors() {
        for type in ["conv2d", "mha", "rnn", "lstm", "swiglu", "conv1d", "kmeans", "conv3d"] {
            expectError(config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":4},{\"type\":\"\(type)\"}", count: 2), legacy,
                        .invalidIR, path: "layers[1].type", contains: "is not supported yet by this importer (conv2d arrives with the layer-set issue)")
        }
        expectError(config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":4},{\"type\":\"wavelet\"}", count: 2), legacy,
                    .invalidIR, path: "layers[1].type", contains: "unknown layer type")
        expectError(config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":4},{\"type\":\"softmax\",\"softmax_variant\":\"sparse\"}", count: 2),
                    legacy, .invalidIR, path: "layers[1].softmax_variant")
        expectError(config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":4},{\"type\":\"residual\"}", count: 2), plain,
                    .invalidIR, path: "layers[1].type", contains: "legacy semantics")
    }

    func testResidualLayerIsActivationOnlyWithLegacySemantics() throws {
        let imp = try LegacyImporter.convert(json: config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":4},{\"type\":\"residual\"}", count: 2), options: legacy)
        XCTAssertEqual(imp.spec.layers[1], .activation(.scaledReLU(scale: 1.1)))
    }

    func testGridCountMismatch() {
        expectError("{\"id\":\"x\",\"grid_rows\":1,\"grid_cols\":2,\"layers_per_cell\":2,\"layers\":[{\"type\":\"dense\",\"input_size\":2,\"output_size\":2}]}",
                    plain, .invalidIR, path: "layers", contains: "layer count mismatch")
    }

    func testWidthMismatch() {
        expectError(config("{\"type\":\"dense\",\"input_size\":4,\"output_size\":3},{\"type\":\"dense\",\"input_height\":5,\"output_height\":2}", count: 2),
                    plain, .shapeMismatch, path: "layers[1].input_height", contains: "receives 3 features")
        expectError(config("{\"type\":\"parallel\",\"combine_mode\":\"add\",\"branches\":[{\"type\":\"dense\",\"input_size\":4,\"output_size\":3},{\"type\":\"dense\",\"input_size\":4,\"output_size\":2}]}", count: 1),
                    plain, .shapeMismatch, path: "layers[0].branches[1]")
    }

    func testBadBundles() {
        let cfg = config("{\"type\":\"dense\",\"activation\":\"linear\",\"input_height\":2,\"output_height\":1}", count: 1)
        let good = "{\"type\":\"float32\",\"layers\":[{\"kernel\":[1,2],\"biases\":[0]}]}"
        let encoded = Base64.encode(Array(good.utf8))
        // Truncated base64 (length not a multiple of 4) and invalid characters.
        expectError(bundle(cfg, rawData: String(encoded.dropLast(3))), plain, .invalidModel, path: "models[0].weights.data", contains: "bad base64")
        expectError(bundle(cfg, rawData: "!!!!" + encoded), plain, .invalidModel, path: "models[0].weights.data", contains: "bad base64")
        // Valid base64 of truncated JSON.
        expectError(bundle(cfg, rawData: Base64.encode(Array(good.utf8.dropLast(5)))), plain, .invalidModel,
                    path: "models[0].weights.data", contains: "not valid JSON")
        // A kernel of the wrong length, a missing bias, a wrong layer count.
        expectError(bundle(cfg, "{\"kernel\":[1,2,3],\"biases\":[0]}"), plain, .invalidModel,
                    path: "models[0].weights.data.layers[0].kernel", contains: "has 3 values")
        expectError(bundle(cfg, "{\"kernel\":[1,2]}"), plain, .invalidModel, path: "models[0].weights.data.layers[0].biases", contains: "is missing")
        expectError(bundle(cfg, "{\"kernel\":[1,2],\"biases\":[0]},{}"), plain, .invalidModel, path: "models[0].weights.data.layers")
        expectError("{\"type\":\"modelhost/bundle\",\"version\":1,\"models\":[{\"id\":\"m\",\"cfg\":\(cfg),\"weights\":{\"fmt\":\"multiPrecisionB64\",\"data\":\"\"}}]}",
                    plain, .invalidModel, path: "models[0].weights.fmt")
    }
}

private func XCTAssertEqual(_ a: @autoclosure () throws -> [Float], _ b: [Float], accuracy: Float,
                            file: StaticString = #filePath, line: UInt = #line) {
    do {
        let x = try a()
        XCTAssertEqual(x.count, b.count, file: file, line: line)
        for i in 0..<min(x.count, b.count) { XCTAssertEqual(x[i], b[i], accuracy: accuracy, file: file, line: line) }
    } catch { XCTFail("\(error)", file: file, line: line) }
}
