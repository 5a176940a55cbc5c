import LoomCore

extension Builder {
    /// `multi_head_attention`: input `[seq, d_model]`; checks heads, head size and RoPE.
    mutating func buildAttention(_ a: AttentionSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        guard input.count == 2, input[0] > 0, input[1] > 0 else {
            throw LoomError(.shapeMismatch, path, "multi_head_attention needs a per-sample input [positions, d_model], got \(Tensor<T>.describe(input))")
        }
        let seq = input[0], dm = input[1]
        guard a.numHeads > 0 else { throw LoomError(.invalidIR, path + ".num_heads", "must be a positive integer, got \(a.numHeads)") }
        let kv = a.numKVHeads ?? a.numHeads
        guard kv > 0 else { throw LoomError(.invalidIR, path + ".num_kv_heads", "must be a positive integer, got \(kv)") }
        guard a.numHeads % kv == 0 else {
            throw LoomError(.invalidIR, path + ".num_kv_heads", "\(kv) does not divide num_heads \(a.numHeads)")
        }
        let d: Int
        if let hd = a.headDim {
            guard hd > 0 else { throw LoomError(.invalidIR, path + ".head_dim", "must be a positive integer, got \(hd)") }
            d = hd
        } else {
            guard dm % a.numHeads == 0 else {
                throw LoomError(.invalidIR, path + ".num_heads", "d_model \(dm) is not divisible by num_heads \(a.numHeads) (give head_dim)")
            }
            d = dm / a.numHeads
        }
        if let r = a.rope {
            guard d % 2 == 0 else { throw LoomError(.invalidIR, path + ".rope", "RoPE needs an even head_dim, got \(d)") }
            guard r.base > 1, r.base.isFinite else { throw LoomError(.invalidIR, path + ".rope.base", "must be greater than 1") }
        }
        let qw = try Builder.checkedCount([a.numHeads, d], path: path + ".num_heads", what: "the query width")
        _ = try Builder.checkedCount([qw, dm], path: path, what: "q_proj.weight")
        _ = try Builder.checkedCount([a.numHeads, seq, seq], path: path, what: "the attention scores of one sample,")
        return AttentionLayer(path: path, name: name, id: takeID(), inputShape: input, heads: a.numHeads, kvHeads: kv,
                              headDim: d, causal: a.causal, bias: a.bias, rope: a.rope, params: params, seed: seed)
    }

    /// `swiglu`: `[…, in]` → `[…, units ?? in]`.
    mutating func buildSwiGLU(hidden: Int, units: Int?, bias: Bool, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        guard let inF = input.last, inF > 0 else {
            throw LoomError(.shapeMismatch, path, "swiglu needs an input with a feature axis, got \(Tensor<T>.describe(input))")
        }
        guard hidden > 0 else { throw LoomError(.invalidIR, path + ".hidden", "must be a positive integer, got \(hidden)") }
        if let u = units, u <= 0 { throw LoomError(.invalidIR, path + ".units", "must be a positive integer, got \(u)") }
        _ = try Builder.checkedCount([hidden, inF], path: path + ".hidden", what: "gate.weight")
        _ = try Builder.checkedCount([units ?? inF, hidden], path: path + ".hidden", what: "down.weight")
        var rowsShape = input
        rowsShape[rowsShape.count - 1] = hidden
        _ = try Builder.checkedCount(rowsShape, path: path + ".hidden", what: "the hidden activations of one sample,")
        return SwiGLULayer(path: path, name: name, id: takeID(), inputShape: input, hidden: hidden, units: units, bias: bias,
                           params: params, seed: seed)
    }
}
