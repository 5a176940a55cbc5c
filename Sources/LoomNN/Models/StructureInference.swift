import LoomCore

/// What a checkpoint's architecture is, and how each fact is known (`loom inspect`): stated by a
/// config (config.json, GGUF metadata), derived from tensor names and shapes, or assumed because
/// shapes cannot tell (e.g. the number of attention heads) — never a silent guess.
public struct InferredStructure: Sendable {
    public enum Certainty: String, Sendable {
        case stated = "stated"
        case derived = "derived from tensor shapes"
        case assumed = "ASSUMED (shapes cannot tell; check it)"
    }
    public var architecture: String
    public var source: String
    public var facts: [(name: String, value: String, certainty: Certainty)]

    public var lines: [String] {
        var out = ["structure: \(architecture) (\(source))"]
        for f in facts { out.append("  \(f.name): \(f.value) — \(f.certainty.rawValue)") }
        return out
    }
}

public enum StructureInference {
    /// From a Llama configuration read from a config (every fact stated).
    public static func stated(_ c: LlamaConfig, source: String) -> InferredStructure {
        InferredStructure(architecture: "llama", source: source, facts: [
            ("vocab_size", "\(c.vocabSize)", .stated), ("hidden_size", "\(c.hiddenSize)", .stated),
            ("intermediate_size", "\(c.intermediateSize)", .stated), ("layers", "\(c.layers)", .stated),
            ("heads", "\(c.heads)", .stated), ("kv_heads", "\(c.kvHeads)", .stated), ("head_dim", "\(c.headDim)", .stated),
            ("rms_norm_eps", "\(c.rmsNormEpsilon)", .stated), ("rope_theta", "\(c.ropeTheta)", .stated),
            ("context_length", "\(c.contextLength)", .stated), ("tied output", "\(c.tieWordEmbeddings)", .stated)])
    }

    /// From a BERT configuration read from a config (every fact stated).
    public static func stated(_ c: BertConfig, source: String) -> InferredStructure {
        InferredStructure(architecture: "bert", source: source, facts: [
            ("vocab_size", "\(c.vocabSize)", .stated), ("hidden_size", "\(c.hiddenSize)", .stated),
            ("intermediate_size", "\(c.intermediateSize)", .stated), ("layers", "\(c.layers)", .stated),
            ("heads", "\(c.heads)", .stated), ("max_position_embeddings", "\(c.maxPositions)", .stated),
            ("layer_norm_eps", "\(c.layerNormEpsilon)", .stated)])
    }

    /// From tensor names and shapes alone (Hugging Face or GGUF names of Llama and BERT models).
    public static func infer(_ tensors: [(name: String, shape: [Int])]) -> InferredStructure {
        var shapes = [String: [Int]]()
        for t in tensors { shapes[t.name] = t.shape }
        func layerCount(_ prefix: String, _ suffix: String) -> Int {
            var n = 0
            for t in tensors where t.name.hasPrefix(prefix) && t.name.hasSuffix(suffix) {
                let mid = t.name.dropFirst(prefix.count).dropLast(suffix.count)
                if let i = Int(mid) { n = Swift.max(n, i + 1) }
            }
            return n
        }
        // Llama, Hugging Face or GGUF names.
        for (emb, layer, q, k, gate, head) in [("model.embed_tokens.weight", "model.layers.", ".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".mlp.gate_proj.weight", "lm_head.weight"),
                                              ("token_embd.weight", "blk.", ".attn_q.weight", ".attn_k.weight", ".ffn_gate.weight", "output.weight")] {
            guard let e = shapes[emb], e.count == 2 else { continue }
            let n = layerCount(layer, q)
            guard n > 0, let qs = shapes[layer + "0" + q], let ks = shapes[layer + "0" + k], let gs = shapes[layer + "0" + gate] else { continue }
            // GGUF lists dimensions innermost first; Loom's readers give [rows, cols] for both.
            let hidden = e[1], qw = qs[0], kvw = ks[0]
            let headDim = qw % 64 == 0 ? 64 : (qw % 128 == 0 ? 128 : qw)
            var facts: [(name: String, value: String, certainty: InferredStructure.Certainty)] = [
                ("vocab_size", "\(e[0])", .derived), ("hidden_size", "\(hidden)", .derived),
                ("intermediate_size", "\(gs[0])", .derived), ("layers", "\(n)", .derived),
                ("query width / key-value width", "\(qw) / \(kvw) (\(kvw > 0 && qw % kvw == 0 ? "\(qw / kvw) query heads per kv head" : "not a whole ratio"))", .derived),
                ("head_dim", "\(headDim)", .assumed), ("heads", "\(qw / headDim)", .assumed), ("kv_heads", "\(kvw / headDim)", .assumed),
                ("tied output", "\(shapes[head] == nil)", .derived),
                ("rms_norm_eps", "1e-5", .assumed), ("rope_theta", "10000", .assumed)]
            if layer == "blk." { facts.append((name: "rope layout", value: "interleaved (GGUF's permuted q/k rows)", certainty: .derived)) }
            return InferredStructure(architecture: "llama", source: "inferred from tensor names and shapes", facts: facts)
        }
        // BERT (optionally under `bert.`).
        for p in ["", "bert."] {
            guard let e = shapes[p + "embeddings.word_embeddings.weight"], e.count == 2 else { continue }
            let n = layerCount(p + "encoder.layer.", ".attention.self.query.weight")
            guard n > 0 else { continue }
            let inter = shapes[p + "encoder.layer.0.intermediate.dense.weight"]?.first ?? 0
            let pos = shapes[p + "embeddings.position_embeddings.weight"]?.first ?? 0
            return InferredStructure(architecture: "bert", source: "inferred from tensor names and shapes", facts: [
                ("vocab_size", "\(e[0])", .derived), ("hidden_size", "\(e[1])", .derived), ("intermediate_size", "\(inter)", .derived),
                ("layers", "\(n)", .derived), ("max_position_embeddings", "\(pos)", .derived),
                ("heads", "\(Swift.max(1, e[1] / 64)) (head_dim 64)", .assumed), ("layer_norm_eps", "1e-12", .assumed),
                ("activation", "gelu", .assumed)])
        }
        return InferredStructure(architecture: "unknown", source: "no known tensor-name pattern (Llama: model.layers.N.self_attn.q_proj / blk.N.attn_q; BERT: encoder.layer.N.attention.self.query)", facts: [])
    }
}
