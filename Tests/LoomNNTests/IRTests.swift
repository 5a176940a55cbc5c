import LoomCore
import LoomNN
import XCTest

/// The IR: round trips, defaults, and a clear error naming the place for every kind of bad input.
final class IRTests: XCTestCase {
    let mlp = """
    {"format": "loom", "version": 1, "name": "t", "seed": 3, "input": {"shape": [4]},
     "layers": [{"type": "dense", "units": 5, "activation": {"name": "leaky_relu", "slope": 0.2}},
                {"type": "parallel", "combine": "filter", "branches": [{"type": "dense", "units": 3}, {"type": "dense", "units": 3}],
                 "gate": {"type": "dense", "units": 2}, "gate_softmax": {"type": "softmax", "variant": "temperature", "temperature": 0.5}},
                {"type": "residual", "layers": [{"type": "layer_norm"}, {"type": "activation", "activation": "swish"}]},
                {"type": "softmax", "variant": "masked", "mask": [true, false, true]}],
     "training": {"loss": "cross_entropy", "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9},
                  "scheduler": {"type": "warmup", "steps": 3, "after": {"type": "step", "step_size": 2}}, "epochs": 2, "clip": {"norm": 1}}}
    """

    func testEncodeDecodeRoundTrip() throws {
        let spec = try IRDecoder.decode(json: mlp)
        let text = JSONValue.object(IREncoder.encode(spec)).serialized(pretty: true)
        let again = try IRDecoder.decode(json: text)
        XCTAssertEqual(spec, again)
        XCTAssertEqual(JSONValue.object(IREncoder.encode(again)).serialized(pretty: true), text, "encoding is deterministic")
        XCTAssertEqual(try Network<Float>(spec).params.names,
                       ["layers.0.weight", "layers.0.bias", "layers.1.branches.0.weight", "layers.1.branches.0.bias",
                        "layers.1.branches.1.weight", "layers.1.branches.1.bias", "layers.1.gate.weight", "layers.1.gate.bias",
                        "layers.2.layers.0.weight", "layers.2.layers.0.bias"])
    }

    func testEveryReferenceNetworkRoundTrips() throws {
        for c in ReferenceNetworks.cases(dtype: .f64) {
            let text = JSONValue.object(IREncoder.encode(c.spec)).serialized()
            XCTAssertEqual(try IRDecoder.decode(json: text), c.spec, c.name)
        }
    }

    func expectError(_ json: String, _ kind: LoomError.Kind, path: String, contains: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let spec = try IRDecoder.decode(json: json)
            _ = try Network<Float>(spec)
            XCTFail("no error for \(json)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertEqual(error.path, path, error.description, file: file, line: line)
            if !contains.isEmpty { XCTAssertTrue(error.description.contains(contains), error.description, file: file, line: line) }
        }
    }

    func net(_ layers: String, input: String = "[4]") -> String {
        "{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": \(input)}, \"layers\": [\(layers)]}"
    }

    func testBadInputGetsATypedErrorNamingThePlace() {
        expectError("{\"format\": \"loom\", \"version\": 1,", .invalidJSON, path: "", contains: "line 1")
        expectError("{\"format\": \"loom\", \"version\": 2, \"input\": {\"shape\": [1]}, \"layers\": []}", .unsupportedVersion, path: "version")
        expectError("{\"format\": \"other\", \"version\": 1}", .invalidIR, path: "format")
        expectError(net("{\"type\": \"dense\", \"units\": 3}, {\"type\": \"convolution\"}"), .invalidIR, path: "layers[1].type", contains: "unknown layer type")
        expectError(net("{\"type\": \"dense\", \"units\": 3}, {\"type\": \"dense\", \"units\": 0}"), .invalidIR, path: "layers[1].units")
        expectError(net("{\"type\": \"dense\", \"units\": 3.5}"), .invalidIR, path: "layers[0].units")
        expectError(net("{\"type\": \"dense\"}"), .invalidIR, path: "layers[0].units", contains: "required")
        expectError(net("{\"type\": \"dense\", \"units\": 3, \"unit\": 4}"), .invalidIR, path: "layers[0].unit", contains: "unknown field")
        expectError(net("{\"type\": \"dense\", \"units\": 3, \"activation\": \"relux\"}"), .invalidIR, path: "layers[0].activation")
        expectError(net("{\"type\": \"dense\", \"units\": 3}, {\"type\": \"softmax\", \"variant\": \"masked\", \"mask\": [true, false]}"),
                    .shapeMismatch, path: "layers[1].mask")
        expectError(net("{\"type\": \"softmax\", \"variant\": \"grid\", \"rows\": 3, \"cols\": 2}"), .shapeMismatch, path: "layers[0]")
        expectError(net("{\"type\": \"residual\", \"layers\": [{\"type\": \"dense\", \"units\": 3}]}"), .shapeMismatch, path: "layers[0]")
        expectError(net("{\"type\": \"parallel\", \"combine\": \"add\", \"branches\": [{\"type\": \"dense\", \"units\": 3}, {\"type\": \"dense\", \"units\": 2}]}"),
                    .shapeMismatch, path: "layers[0].branches[1]")
        expectError(net("{\"type\": \"sequential\", \"layers\": [{\"type\": \"parallel\", \"combine\": \"filter\", \"branches\": [{\"type\": \"dense\", \"units\": 3}, {\"type\": \"dense\", \"units\": 3}], \"gate\": {\"type\": \"dense\", \"units\": 3}}]}"),
                    .shapeMismatch, path: "layers[0].layers[0].gate")
        expectError(net("{\"type\": \"dropout\", \"rate\": 1.5}"), .invalidIR, path: "layers[0].rate")
        // Absurd sizes are refused before any allocation.
        expectError(net("{\"type\": \"dense\", \"units\": 4000000000000}"), .invalidIR, path: "layers[0].units", contains: "2^31")
        expectError(net("{\"type\": \"dense\", \"units\": 9223372036854775807}"), .invalidIR, path: "layers[0].units")
        expectError(net("{\"type\": \"embedding\", \"vocab_size\": 100000000, \"dim\": 100000}"), .invalidIR, path: "layers[0]")
        expectError(net("{\"type\": \"dense\", \"units\": 2}", input: "[100000, 100000, 100000]"), .invalidIR, path: "input.shape")
        expectError(net("{\"type\": \"dense\", \"units\": 99999999999999999999999}"), .invalidIR, path: "layers[0].units")
        expectError(net("{\"type\": \"dense\", \"units\": 2}", input: "[]"), .invalidIR, path: "input.shape")
        expectError("{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": [2]}, \"layers\": [{\"type\": \"dense\", \"units\": 2}], \"training\": {\"optimizer\": {\"type\": \"adam\"}}}",
                    .invalidIR, path: "training.optimizer.type")
    }

    func testWrongInputShapeAndNonFiniteInputs() throws {
        let n = try Network<Float>(try IRDecoder.decode(json: net("{\"type\": \"dense\", \"units\": 2}")))
        XCTAssertThrowsError(try n.forward(Tensor(shape: [1, 3], data: [1, 2, 3]))) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .shapeMismatch)
        }
        XCTAssertThrowsError(try n.forward(Tensor(shape: [1, 4], data: [1, .nan, 3, 4]))) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .nonFinite)
            XCTAssertTrue((e as! LoomError).message.contains("index 1"))
        }
        let emb = try Network<Float>(try IRDecoder.decode(json: net("{\"type\": \"embedding\", \"vocab_size\": 5, \"dim\": 2}", input: "[3]")))
        XCTAssertThrowsError(try emb.forward(Tensor(shape: [1, 3], data: [1, 5, 0]))) { e in
            XCTAssertEqual((e as? LoomError)?.path, "layers[0]")
        }
        XCTAssertThrowsError(try emb.forward(Tensor(shape: [1, 3], data: [1, 0.5, 0])))
    }

    func testBadModelFiles() throws {
        let spec = try IRDecoder.decode(json: net("{\"type\": \"dense\", \"units\": 2}"))
        let good = ModelCodec.encode(try Network<Float>(spec))
        XCTAssertNoThrow(try AnyNetwork.load(json: good))
        // Truncated file.
        XCTAssertThrowsError(try AnyNetwork.load(json: String(good.prefix(good.count / 2)))) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidJSON)
        }
        // NaN weight: write NaN bits into the base64 of layers.0.bias.
        let root = try JSONValue.parse(good)
        var o = root.objectValue!
        var w = o["weights"]!.objectValue!
        let nanBytes: [UInt8] = [0, 0, 0xC0, 0x7F, 0, 0, 0x80, 0x3F]
        w.set("layers.0.bias", .object(JSONObject([("dtype", .string("f32")), ("shape", .array([.number(JSONNumber(2))])),
                                                   ("data", .string(Base64.encode(nanBytes)))])))
        o.set("weights", .object(w))
        XCTAssertThrowsError(try AnyNetwork.load(json: JSONValue.object(o).serialized())) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .nonFinite)
            XCTAssertEqual((e as? LoomError)?.path, "weights.layers.0.bias")
        }
        // Short tensor data (a truncated weight).
        w.set("layers.0.bias", .object(JSONObject([("dtype", .string("f32")), ("shape", .array([.number(JSONNumber(2))])),
                                                   ("data", .string(Base64.encode([0, 0, 0x80, 0x3F])))])))
        o.set("weights", .object(w))
        XCTAssertThrowsError(try AnyNetwork.load(json: JSONValue.object(o).serialized())) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidModel)
            XCTAssertEqual((e as? LoomError)?.path, "weights.layers.0.bias.data")
        }
        // Missing and unknown parameters.
        _ = w.removeValue(forKey: "layers.0.bias")
        o.set("weights", .object(w))
        XCTAssertThrowsError(try AnyNetwork.load(json: JSONValue.object(o).serialized())) { e in
            XCTAssertTrue((e as! LoomError).message.contains("missing parameter layers.0.bias"))
        }
    }
}
