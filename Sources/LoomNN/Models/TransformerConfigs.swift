import LoomCore

/// Where a network parameter's values come from in a checkpoint: a tensor name, and how to take it.
public struct WeightSource: Sendable, Equatable {
    public enum Take: Sendable, Equatable {
        /// The tensor as it is (same shape).
        case whole
        /// Row 0 of a 2-D tensor (BERT's token-type embedding of a single segment → a `bias` layer).
        case firstRow
    }
    public var tensor: String
    public var take: Take
    public init(_ tensor: String, _ take: Take = .whole) { self.tensor = tensor; self.take = take }
}

/// The Llama architecture (Llama 2/3, SmolLM, TinyLlama, …) as Loom IR (docs/llm.md):
///
/// `embedding → [residual(rms_norm, multi_head_attention(causal, RoPE, GQA)),
///  residual(rms_norm, swiglu)] × L → rms_norm → dense or tied_dense (vocab)`.
public struct LlamaConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var rmsNormEpsilon: Double
    public var ropeTheta: Double
    public var contextLength: Int
    public var tieWordEmbeddings: Bool
    /// `.half` for Hugging Face weights; `.interleaved` for GGUF weights (whose q/k rows llama.cpp's
    /// converter permuted so that adjacent pairs rotate — the same function of the input).
    public var ropeLayout: RoPESpec.Layout

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, kvHeads: Int,
                headDim: Int? = nil, rmsNormEpsilon: Double, ropeTheta: Double, contextLength: Int,
                tieWordEmbeddings: Bool, ropeLayout: RoPESpec.Layout) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
        self.layers = layers; self.heads = heads; self.kvHeads = kvHeads
        self.headDim = headDim ?? (heads > 0 ? hiddenSize / heads : 0)
        self.rmsNormEpsilon = rmsNormEpsilon; self.ropeTheta = ropeTheta; self.contextLength = contextLength
        self.tieWordEmbeddings = tieWordEmbeddings; self.ropeLayout = ropeLayout
    }

    /// From a Hugging Face `config.json` (`"model_type": "llama"` and relatives).
    public init(huggingFace v: JSONValue, path: String = "config.json") throws(LoomError) {
        let f = try ConfigFields(v, path: path)
        let hidden = try f.int("hidden_size"), heads = try f.int("num_attention_heads")
        // RoPE: `rope_theta` at the top (older files) or in `rope_parameters` (newer); scaled variants are not supported.
        var theta = try f.double("rope_theta", 10000)
        for key in ["rope_parameters", "rope_scaling"] {
            guard let rv = f.object[key], !rv.isNull else { continue }
            let r = try ConfigFields(rv, path: path + "." + key)
            var kind = try r.optionalString("rope_type")
            if kind == nil { kind = try r.optionalString("type") }
            if let t = kind, t != "default" {
                throw LoomError(.invalidModel, path + "." + key, "RoPE scaling \"\(t)\" is not supported (default is)")
            }
            theta = try r.double("rope_theta", theta)
        }
        self.init(vocabSize: try f.int("vocab_size"), hiddenSize: hidden, intermediateSize: try f.int("intermediate_size"),
                  layers: try f.int("num_hidden_layers"), heads: heads,
                  kvHeads: try f.int("num_key_value_heads", heads), headDim: try f.optionalInt("head_dim"),
                  rmsNormEpsilon: try f.double("rms_norm_eps", 1e-6), ropeTheta: theta,
                  contextLength: try f.int("max_position_embeddings", 2048),
                  tieWordEmbeddings: try f.bool("tie_word_embeddings", false), ropeLayout: .half)
        if let t = try f.optionalString("model_type"), !["llama", "mistral", "smollm", "smollm2"].contains(t) {
            throw LoomError(.invalidModel, path + ".model_type", "\"\(t)\" is not a Llama-family model")
        }
        try check(path: path)
    }

    func check(path: String) throws(LoomError) {
        for (n, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                       ("num_hidden_layers", layers), ("num_attention_heads", heads), ("num_key_value_heads", kvHeads),
                       ("head_dim", headDim), ("max_position_embeddings", contextLength)] where v < 1 {
            throw LoomError(.invalidModel, path + "." + n, "must be a positive integer, got \(v)")
        }
        guard heads % kvHeads == 0 else {
            throw LoomError(.invalidModel, path + ".num_key_value_heads", "\(kvHeads) does not divide num_attention_heads \(heads)")
        }
        guard headDim % 2 == 0 else { throw LoomError(.invalidModel, path + ".head_dim", "RoPE needs an even head size, got \(headDim)") }
        guard rmsNormEpsilon > 0, ropeTheta > 0 else {
            throw LoomError(.invalidModel, path, "rms_norm_eps and rope_theta must be positive")
        }
    }

    /// Checks the configuration against a checkpoint's tensor table before a network is built
    /// (`CheckpointLoader.crossCheck`): the block count, and the shapes of the embedding and of
    /// block 0's q, k and up projections, named as in a GGUF file (`gguf`) or a Hugging Face
    /// checkpoint. `shape` gives a tensor's shape (nil when absent).
    public func crossCheck(tensorNames: [String], shape: (String) -> [Int]?, gguf: Bool, source: String) throws(LoomError) {
        guard let q = Limits.product(heads, headDim), let kv = Limits.product(kvHeads, headDim) else {
            throw LoomError(.invalidModel, source, "heads × head size overflows (\(heads), \(kvHeads) × \(headDim))")
        }
        var one = self
        one.layers = 1
        let names = gguf ? one.ggufNames : one.huggingFaceNames
        func tensor(_ loomName: String) -> [String] { names.filter { $0.0 == loomName }.map { $0.1.tensor } }
        let keys = gguf ? ["vocab_size, embedding_length", "attention.head_count", "attention.head_count_kv", "feed_forward_length"]
                        : ["vocab_size, hidden_size", "num_attention_heads, head_dim", "num_key_value_heads, head_dim", "intermediate_size"]
        try CheckpointLoader.crossCheck(
            blocks: layers, key: gguf ? "llama.block_count" : "num_hidden_layers", prefixes: [gguf ? "blk." : "model.layers."],
            names: tensorNames,
            expected: [(tensor("layers.0.weight"), [vocabSize, hiddenSize], keys[0]),
                       (tensor("layers.1.layers.1.q_proj.weight"), [q, hiddenSize], keys[1]),
                       (tensor("layers.1.layers.1.k_proj.weight"), [kv, hiddenSize], keys[2]),
                       (tensor("layers.2.layers.1.up.weight"), [intermediateSize, hiddenSize], keys[3])],
            shape: shape, source: source)
    }

    /// The network; the input is `[positions]` token ids (any number of positions through a KV cache).
    public func spec(name: String = "llama", dtype: DType = .f32, positions: Int = 1) -> NetworkSpec {
        var layers: [LayerSpec] = [.embedding(vocab: vocabSize, dim: hiddenSize)]
        let attention = AttentionSpec(numHeads: heads, numKVHeads: kvHeads, headDim: headDim, causal: true, bias: false,
                                      rope: RoPESpec(layout: ropeLayout, base: ropeTheta))
        for _ in 0..<self.layers {
            layers.append(.residual([.rmsNorm(epsilon: rmsNormEpsilon, affine: true), .multiHeadAttention(attention)]))
            layers.append(.residual([.rmsNorm(epsilon: rmsNormEpsilon, affine: true),
                                     .swiglu(hidden: intermediateSize, units: nil, bias: false)]))
        }
        layers.append(.rmsNorm(epsilon: rmsNormEpsilon, affine: true))
        layers.append(tieWordEmbeddings ? .tiedDense(weight: "layers.0.weight", bias: false)
                                        : .dense(units: vocabSize, activation: .linear, bias: false))
        return NetworkSpec(name: name, dtype: dtype, seed: 0, inputShape: [positions], layers: layers)
    }

    /// Loom parameter name → Hugging Face tensor name (`model.…`, `lm_head.weight`).
    public var huggingFaceNames: [(String, WeightSource)] {
        names { i, part in
            switch part {
            case .embedding: return "model.embed_tokens.weight"
            case .attnNorm: return "model.layers.\(i).input_layernorm.weight"
            case .proj(let p): return "model.layers.\(i).self_attn.\(p)_proj.weight"
            case .ffnNorm: return "model.layers.\(i).post_attention_layernorm.weight"
            case .ffn(let p): return "model.layers.\(i).mlp.\(p)_proj.weight"
            case .finalNorm: return "model.norm.weight"
            case .output: return "lm_head.weight"
            }
        }
    }

    /// Loom parameter name → GGUF tensor name (llama.cpp's `blk.N.…`).
    public var ggufNames: [(String, WeightSource)] {
        names { i, part in
            switch part {
            case .embedding: return "token_embd.weight"
            case .attnNorm: return "blk.\(i).attn_norm.weight"
            case .proj(let p): return "blk.\(i).attn_\(p == "o" ? "output" : p).weight"
            case .ffnNorm: return "blk.\(i).ffn_norm.weight"
            case .ffn(let p): return "blk.\(i).ffn_\(p).weight"
            case .finalNorm: return "output_norm.weight"
            case .output: return "output.weight"
            }
        }
    }

    enum Part { case embedding, attnNorm, proj(String), ffnNorm, ffn(String), finalNorm, output }

    func names(_ source: (Int, Part) -> String) -> [(String, WeightSource)] {
        var out: [(String, WeightSource)] = [("layers.0.weight", WeightSource(source(0, .embedding)))]
        for i in 0..<layers {
            let a = "layers.\(1 + 2 * i)", m = "layers.\(2 + 2 * i)"
            out.append((a + ".layers.0.weight", WeightSource(source(i, .attnNorm))))
            for p in ["q", "k", "v", "o"] { out.append((a + ".layers.1.\(p)_proj.weight", WeightSource(source(i, .proj(p))))) }
            out.append((m + ".layers.0.weight", WeightSource(source(i, .ffnNorm))))
            for p in ["gate", "up", "down"] { out.append((m + ".layers.1.\(p).weight", WeightSource(source(i, .ffn(p))))) }
        }
        out.append(("layers.\(1 + 2 * layers).weight", WeightSource(source(0, .finalNorm))))
        if !tieWordEmbeddings { out.append(("layers.\(2 + 2 * layers).weight", WeightSource(source(0, .output)))) }
        return out
    }
}

/// The BERT encoder (all-MiniLM, BERT base, …) as Loom IR, post-norm as in the original:
///
/// `embedding + position_embedding + bias (token type 0) → layer_norm →
///  [residual(multi_head_attention with biases) → layer_norm → residual(dense gelu, dense) → layer_norm] × L`.
/// Sentence embeddings: mean over the valid positions, then L2 normalisation (`SentenceEmbedding`).
public struct BertConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var maxPositions: Int
    public var layerNormEpsilon: Double

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, maxPositions: Int,
                layerNormEpsilon: Double) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
        self.layers = layers; self.heads = heads; self.maxPositions = maxPositions; self.layerNormEpsilon = layerNormEpsilon
    }

    /// From a Hugging Face `config.json` (`"model_type": "bert"`).
    public init(huggingFace v: JSONValue, path: String = "config.json") throws(LoomError) {
        let f = try ConfigFields(v, path: path)
        if let t = try f.optionalString("model_type"), t != "bert" {
            throw LoomError(.invalidModel, path + ".model_type", "\"\(t)\" is not a BERT model")
        }
        if let a = try f.optionalString("hidden_act"), a != "gelu" {
            throw LoomError(.invalidModel, path + ".hidden_act", "\"\(a)\" is not supported (gelu is)")
        }
        self.init(vocabSize: try f.int("vocab_size"), hiddenSize: try f.int("hidden_size"),
                  intermediateSize: try f.int("intermediate_size"), layers: try f.int("num_hidden_layers"),
                  heads: try f.int("num_attention_heads"), maxPositions: try f.int("max_position_embeddings", 512),
                  layerNormEpsilon: try f.double("layer_norm_eps", 1e-12))
        guard hiddenSize % heads == 0 else {
            throw LoomError(.invalidModel, path + ".num_attention_heads", "\(heads) does not divide hidden_size \(hiddenSize)")
        }
        for (n, x) in [("vocab_size", vocabSize), ("intermediate_size", intermediateSize), ("num_hidden_layers", layers),
                       ("max_position_embeddings", maxPositions)] where x < 1 {
            throw LoomError(.invalidModel, path + "." + n, "must be a positive integer, got \(x)")
        }
    }

    /// Checks the configuration against a checkpoint's tensor table before a network is built
    /// (`CheckpointLoader.crossCheck`): the layer count and the shapes of the word and position
    /// embeddings and of layer 0's intermediate projection, with or without the `bert.` prefix.
    public func crossCheck(tensorNames: [String], shape: (String) -> [Int]?, source: String) throws(LoomError) {
        func named(_ n: String) -> [String] { [n, "bert." + n] }
        try CheckpointLoader.crossCheck(
            blocks: layers, key: "num_hidden_layers", prefixes: ["encoder.layer.", "bert.encoder.layer."], names: tensorNames,
            expected: [(named("embeddings.word_embeddings.weight"), [vocabSize, hiddenSize], "vocab_size, hidden_size"),
                       (named("embeddings.position_embeddings.weight"), [maxPositions, hiddenSize], "max_position_embeddings, hidden_size"),
                       (named("encoder.layer.0.intermediate.dense.weight"), [intermediateSize, hiddenSize], "intermediate_size, hidden_size")],
            shape: shape, source: source)
    }

    public func spec(name: String = "bert", dtype: DType = .f32, positions: Int) -> NetworkSpec {
        var l: [LayerSpec] = [.embedding(vocab: vocabSize, dim: hiddenSize), .positionEmbedding(maxPositions: maxPositions), .bias,
                              .layerNorm(epsilon: layerNormEpsilon, affine: true)]
        for _ in 0..<layers {
            l.append(.residual([.multiHeadAttention(AttentionSpec(numHeads: heads, causal: false, bias: true))]))
            l.append(.layerNorm(epsilon: layerNormEpsilon, affine: true))
            l.append(.residual([.dense(units: intermediateSize, activation: .gelu, bias: true),
                                .dense(units: hiddenSize, activation: .linear, bias: true)]))
            l.append(.layerNorm(epsilon: layerNormEpsilon, affine: true))
        }
        return NetworkSpec(name: name, dtype: dtype, seed: 0, inputShape: [positions], layers: l)
    }

    /// Loom parameter name → Hugging Face `BertModel` tensor name (without a `bert.` prefix).
    public var huggingFaceNames: [(String, WeightSource)] {
        var out: [(String, WeightSource)] = [
            ("layers.0.weight", WeightSource("embeddings.word_embeddings.weight")),
            ("layers.1.weight", WeightSource("embeddings.position_embeddings.weight")),
            ("layers.2.bias", WeightSource("embeddings.token_type_embeddings.weight", .firstRow)),
            ("layers.3.weight", WeightSource("embeddings.LayerNorm.weight")),
            ("layers.3.bias", WeightSource("embeddings.LayerNorm.bias")),
        ]
        for i in 0..<layers {
            let e = "encoder.layer.\(i).", b = 4 + 4 * i
            for (p, hf) in [("q", "query"), ("k", "key"), ("v", "value")] {
                for w in ["weight", "bias"] { out.append(("layers.\(b).layers.0.\(p)_proj.\(w)", WeightSource(e + "attention.self.\(hf).\(w)"))) }
            }
            for w in ["weight", "bias"] {
                out.append(("layers.\(b).layers.0.o_proj.\(w)", WeightSource(e + "attention.output.dense.\(w)")))
                out.append(("layers.\(b + 1).\(w)", WeightSource(e + "attention.output.LayerNorm.\(w)")))
                out.append(("layers.\(b + 2).layers.0.\(w)", WeightSource(e + "intermediate.dense.\(w)")))
                out.append(("layers.\(b + 2).layers.1.\(w)", WeightSource(e + "output.dense.\(w)")))
                out.append(("layers.\(b + 3).\(w)", WeightSource(e + "output.LayerNorm.\(w)")))
            }
        }
        return out
    }
}

/// Typed access to a config object's fields (integers, numbers, booleans, strings).
struct ConfigFields {
    let object: JSONObject
    let path: String

    init(_ v: JSONValue, path: String) throws(LoomError) {
        guard let o = v.objectValue else { throw LoomError(.invalidModel, path, "expected a JSON object") }
        object = o
        self.path = path
    }

    func int(_ key: String, _ def: Int? = nil) throws(LoomError) -> Int {
        if let v = try optionalInt(key) { return v }
        if let d = def { return d }
        throw LoomError(.invalidModel, path + "." + key, "is required")
    }

    func optionalInt(_ key: String) throws(LoomError) -> Int? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let d = v.numberValue?.double, d == d.rounded(), abs(d) < 9e15 else {
            throw LoomError(.invalidModel, path + "." + key, "must be an integer")
        }
        return Int(d)
    }

    func double(_ key: String, _ def: Double) throws(LoomError) -> Double {
        guard let v = object[key], !v.isNull else { return def }
        guard let d = v.numberValue?.double, d.isFinite else { throw LoomError(.invalidModel, path + "." + key, "must be a number") }
        return d
    }

    func bool(_ key: String, _ def: Bool) throws(LoomError) -> Bool {
        guard let v = object[key], !v.isNull else { return def }
        guard let b = v.boolValue else { throw LoomError(.invalidModel, path + "." + key, "must be true or false") }
        return b
    }

    func optionalString(_ key: String) throws(LoomError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw LoomError(.invalidModel, path + "." + key, "must be a string") }
        return s
    }
}
