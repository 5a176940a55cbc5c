import LoomCore

extension LlamaConfig {
    /// From a GGUF file's metadata (`general.architecture` "llama": `llama.block_count`,
    /// `llama.embedding_length`, …). The output projection is tied when the file has no
    /// `output.weight`. RoPE is interleaved: GGUF stores q/k rows permuted for it.
    public init(gguf g: GGUF) throws(LoomError) {
        let path = g.name
        guard let arch = g.metadata["general.architecture"]?.stringValue else {
            throw LoomError(.invalidModel, path + ": general.architecture", "is missing")
        }
        guard arch == "llama" else {
            throw LoomError(.invalidModel, path + ": general.architecture", "\"\(arch)\" is not supported (llama is)")
        }
        func int(_ key: String, _ def: Int? = nil) throws(LoomError) -> Int {
            if let v = g.metadata["llama." + key]?.intValue { return v }
            if let d = def { return d }
            throw LoomError(.invalidModel, path + ": llama." + key, "is missing or not an integer")
        }
        func num(_ key: String, _ def: Double) -> Double { g.metadata["llama." + key]?.doubleValue ?? def }
        let heads = try int("attention.head_count"), hidden = try int("embedding_length")
        let vocab = try int("vocab_size", g.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? -1)
        self.init(vocabSize: vocab, hiddenSize: hidden, intermediateSize: try int("feed_forward_length"),
                  layers: try int("block_count"), heads: heads, kvHeads: try int("attention.head_count_kv", heads),
                  headDim: hidden / Swift.max(heads, 1), rmsNormEpsilon: num("attention.layer_norm_rms_epsilon", 1e-5),
                  ropeTheta: num("rope.freq_base", 10000), contextLength: try int("context_length", 2048),
                  tieWordEmbeddings: g.tensor(named: "output.weight") == nil, ropeLayout: .interleaved)
        try check(path: path)
        try crossCheck(tensorNames: g.tensors.map { $0.name }, shape: { g.tensor(named: $0)?.shape }, gguf: true, source: path)
    }
}

/// How a GGUF model's weights are held.
public enum GGUFWeightMode: Sendable {
    /// Every tensor dequantized (exactly) into f32 parameters: a normal network (trainable).
    case dequantized
    /// Block-quantized matrices stay in the mapped file and multiply through integer dot products
    /// (docs/gguf.md); other tensors (norms, and types without a dot kernel) are dequantized.
    case blocks
}

public enum LlamaGGUF {
    /// Whether tensor `t` stays a block-quantized matrix in the mapped file (else it is dequantized).
    static func staysInFile(_ t: GGUFTensorInfo, _ weights: GGUFWeightMode) -> Bool {
        weights == .blocks && t.shape.count == 2 && t.type.hasIntegerDot && t.shape[1] % 32 == 0
    }

    /// The network of a GGUF Llama model and its configuration. Nothing is initialised randomly:
    /// every parameter comes from the file (names: `LlamaConfig.ggufNames`), shapes checked.
    public static func network(_ g: GGUF, weights: GGUFWeightMode, positions: Int = 1) throws(LoomError) -> (Network<Float>, LlamaConfig) {
        let config = try LlamaConfig(gguf: g)
        let net = try Network<Float>(config.spec(name: g.metadata["general.name"]?.stringValue ?? "llama", positions: positions),
                                     materialize: false)
        // The tensors dequantized to f32 (with their gradients) must fit the memory budget; block
        // matrices stay in the mapped file.
        var bytes: Int? = 0
        for (_, source) in config.ggufNames {
            guard let t = g.tensor(named: source.tensor), let b = bytes else { continue }
            bytes = staysInFile(t, weights) ? b : Limits.product(t.elementCount, 2 * MemoryLayout<Float>.stride).flatMap { Limits.sum(b, $0) }
        }
        try Limits.checkMemory(bytes, for: "the model's f32 weights and their gradients", path: g.name, kind: .invalidModel)
        for (loomName, source) in config.ggufNames {
            guard let t = g.tensor(named: source.tensor) else {
                throw LoomError(.invalidModel, g.name, "tensor \(source.tensor) (for \(loomName)) is missing")
            }
            let i = net.params.index(of: loomName)!
            let shape = net.params.values[i].shape
            guard t.shape == shape || (shape.count == 1 && t.elementCount == shape[0]) else {
                throw LoomError(.shapeMismatch, g.name + ": tensor " + t.name, "is \(t.shape); \(loomName) needs \(shape)")
            }
            if staysInFile(t, weights) {
                net.params.setExternal(i, try GGUFQuantizedMatrix(g, t))
            } else {
                net.params.values[i] = Tensor(uncheckedShape: shape, data: try g.dequantize(t))
                net.params.grads[i] = Tensor(zeros: shape)
            }
        }
        return (net, config)
    }
}
