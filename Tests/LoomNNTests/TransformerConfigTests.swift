import XCTest
import LoomCore
import LoomNN

final class TransformerConfigTests: XCTestCase {
    func json(_ s: String) throws -> JSONValue { try JSONValue.parse(s) }

    func testLlamaGraphAndNameMapsCoverEveryParameter() throws {
        for tied in [true, false] {
            let c = LlamaConfig(vocabSize: 32, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4, kvHeads: 2,
                                rmsNormEpsilon: 1e-5, ropeTheta: 10000, contextLength: 64, tieWordEmbeddings: tied, ropeLayout: .half)
            let net = try Network<Float>(c.spec(positions: 5))
            XCTAssertEqual(net.outputShape, [5, 32])
            let names = Set(net.params.names)
            XCTAssertEqual(Set(c.huggingFaceNames.map { $0.0 }), names, "tied \(tied)")
            XCTAssertEqual(Set(c.ggufNames.map { $0.0 }), names)
            XCTAssertEqual(c.huggingFaceNames.count, net.params.count)
            let hf = Dictionary(uniqueKeysWithValues: c.huggingFaceNames.map { ($0.0, $0.1.tensor) })
            XCTAssertEqual(hf["layers.1.layers.1.k_proj.weight"], "model.layers.0.self_attn.k_proj.weight")
            XCTAssertEqual(hf["layers.4.layers.1.down.weight"], "model.layers.1.mlp.down_proj.weight")
            XCTAssertEqual(hf["layers.5.weight"], "model.norm.weight")
            let gg = Dictionary(uniqueKeysWithValues: c.ggufNames.map { ($0.0, $0.1.tensor) })
            XCTAssertEqual(gg["layers.3.layers.1.o_proj.weight"], "blk.1.attn_output.weight")
            XCTAssertEqual(gg["layers.2.layers.1.gate.weight"], "blk.0.ffn_gate.weight")
            // q/k/v/o shapes as Hugging Face stores them: [out, in].
            let i = net.params.index(of: "layers.1.layers.1.k_proj.weight")!
            XCTAssertEqual(net.params.values[i].shape, [2 * 4, 16])
            // Decoding through the KV cache gives the full forward's bits (the generic invariance).
            let ids = Tensor<Float>(uncheckedShape: [1, 5], data: [3, 1, 4, 1, 5])
            let full = try net.forward(ids)
            let cache = try KVCache<Float>(batch: 1, capacity: 8)
            _ = try net.forward(Tensor(uncheckedShape: [1, 3], data: [3, 1, 4]), cache: cache)
            let last = try net.forward(Tensor(uncheckedShape: [1, 1], data: [1]), cache: cache)
            XCTAssertEqual(last.data.map { $0.bitPattern }, Array(full.data[(3 * 32)..<(4 * 32)]).map { $0.bitPattern })
        }
    }

    func testRopeThetaInRopeParameters() throws {
        let text = #"{"hidden_size": 16, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10, "rope_parameters": {"rope_theta": 500.0, "rope_type": "default"}}"#
        XCTAssertEqual(try LlamaConfig(huggingFace: try json(text)).ropeTheta, 500)
    }

    func testSmolLM2ConfigJSON() throws {
        let text = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
         "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
         "rms_norm_eps": 1e-05, "rope_theta": 100000, "max_position_embeddings": 8192, "tie_word_embeddings": true}
        """
        let c = try LlamaConfig(huggingFace: try json(text))
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.kvHeads, 3)
        XCTAssertTrue(c.tieWordEmbeddings)
        let spec = c.spec()
        XCTAssertEqual(spec.layers.count, 1 + 60 + 2)
        XCTAssertEqual(spec.layers.last, .tiedDense(weight: "layers.0.weight", bias: false))
        XCTAssertEqual(c.huggingFaceNames.count, 1 + 30 * 9 + 1)
    }

    func testBadConfigs() throws {
        let base = #""hidden_size": 16, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10"#
        for (extra, path) in [(#", "num_key_value_heads": 3"#, "config.json.num_key_value_heads"),
                              (#", "model_type": "gpt2""#, "config.json.model_type"),
                              (#", "rope_theta": "big""#, "config.json.rope_theta"),
                              (#", "rope_scaling": {"rope_type": "llama3", "factor": 8}"#, "config.json.rope_scaling")] {
            XCTAssertThrowsError(try LlamaConfig(huggingFace: try json("{" + base + extra + "}"))) { e in
                XCTAssertEqual((e as? LoomError)?.path, path, extra)
            }
        }
        XCTAssertThrowsError(try LlamaConfig(huggingFace: try json(#"{"hidden_size": 16}"#))) { e in
            XCTAssertEqual((e as? LoomError)?.path, "config.json.num_attention_heads")
        }
        XCTAssertThrowsError(try LlamaConfig(huggingFace: try json("[1]")))
        XCTAssertThrowsError(try BertConfig(huggingFace: try json(#"{"model_type": "bert", "hidden_act": "relu"}"#))) { e in
            XCTAssertEqual((e as? LoomError)?.path, "config.json.hidden_act")
        }
    }

    func testBertGraphAndNameMap() throws {
        let text = """
        {"model_type": "bert", "hidden_size": 12, "intermediate_size": 20, "num_hidden_layers": 2, "num_attention_heads": 3,
         "vocab_size": 30, "max_position_embeddings": 16, "layer_norm_eps": 1e-12, "hidden_act": "gelu", "type_vocab_size": 2}
        """
        let c = try BertConfig(huggingFace: try json(text))
        let net = try Network<Float>(c.spec(positions: 7))
        XCTAssertEqual(net.outputShape, [7, 12])
        XCTAssertEqual(Set(c.huggingFaceNames.map { $0.0 }), Set(net.params.names))
        XCTAssertEqual(c.huggingFaceNames.count, net.params.count)
        let m = Dictionary(uniqueKeysWithValues: c.huggingFaceNames.map { ($0.0, $0.1) })
        XCTAssertEqual(m["layers.2.bias"], WeightSource("embeddings.token_type_embeddings.weight", .firstRow))
        XCTAssertEqual(m["layers.8.layers.0.k_proj.bias"]?.tensor, "encoder.layer.1.attention.self.key.bias")
        XCTAssertEqual(m["layers.11.weight"]?.tensor, "encoder.layer.1.output.LayerNorm.weight")
        // Padded batches: a row's valid positions do not see the padding.
        let ids = Tensor<Float>(uncheckedShape: [2, 7], data: [1, 5, 9, 2, 0, 0, 0, 1, 5, 9, 2, 7, 7, 3])
        let y = try net.forward(ids, validLengths: [4, 7])
        let alone = try net.forward(Tensor(uncheckedShape: [1, 7], data: [1, 5, 9, 2, 8, 8, 8]), validLengths: [4])
        XCTAssertEqual(Array(y.data[0..<48]).map { $0.bitPattern }, Array(alone.data[0..<48]).map { $0.bitPattern })
    }
}

final class StructureInferenceTests: XCTestCase {
    func testLlamaAndBertFromNamesAndShapes() {
        let llama: [(name: String, shape: [Int])] = [("model.embed_tokens.weight", [100, 64]),
            ("model.layers.0.self_attn.q_proj.weight", [64, 64]), ("model.layers.0.self_attn.k_proj.weight", [32, 64]),
            ("model.layers.0.mlp.gate_proj.weight", [160, 64]), ("model.layers.1.self_attn.q_proj.weight", [64, 64]),
            ("lm_head.weight", [100, 64])]
        let s = StructureInference.infer(llama)
        XCTAssertEqual(s.architecture, "llama")
        let f = Dictionary(uniqueKeysWithValues: s.facts.map { ($0.name, ($0.value, $0.certainty)) })
        XCTAssertEqual(f["layers"]?.0, "2")
        XCTAssertEqual(f["layers"]?.1, .derived)
        XCTAssertEqual(f["intermediate_size"]?.0, "160")
        XCTAssertEqual(f["tied output"]?.0, "false")
        XCTAssertEqual(f["heads"]?.1, .assumed, "the head count must never be presented as known")
        XCTAssertTrue(s.lines.contains { $0.contains("ASSUMED") })
        let bert: [(name: String, shape: [Int])] = [("bert.embeddings.word_embeddings.weight", [30, 128]),
            ("bert.embeddings.position_embeddings.weight", [40, 128]), ("bert.encoder.layer.0.attention.self.query.weight", [128, 128]),
            ("bert.encoder.layer.2.attention.self.query.weight", [128, 128]), ("bert.encoder.layer.0.intermediate.dense.weight", [512, 128])]
        let b = StructureInference.infer(bert)
        XCTAssertEqual(b.architecture, "bert")
        XCTAssertTrue(b.lines.contains("  layers: 3 — derived from tensor shapes"))
        XCTAssertEqual(StructureInference.infer([("conv.weight", [3, 3])]).architecture, "unknown")
    }
}
