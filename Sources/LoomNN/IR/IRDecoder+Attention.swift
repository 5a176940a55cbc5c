import LoomCore

/// Rotary position embedding of an attention layer (docs/ir.md, docs/numerics.md).
public struct RoPESpec: Equatable, Sendable {
    public enum Layout: String, Equatable, Sendable {
        /// Hugging Face / Llama `rotate_half`: pairs (i, i + D/2).
        case half
        /// GPT-J / Meta: pairs (2i, 2i + 1).
        case interleaved
    }
    public var layout: Layout
    public var base: Double
    public init(layout: Layout = .half, base: Double = 10000) { self.layout = layout; self.base = base }
}

/// The IR of a `multi_head_attention` layer. `numKVHeads` and `headDim` are nil when the IR
/// leaves them to their defaults (num_heads and d_model / num_heads).
public struct AttentionSpec: Equatable, Sendable {
    public var numHeads: Int
    public var numKVHeads: Int?
    public var headDim: Int?
    public var causal: Bool
    public var bias: Bool
    public var rope: RoPESpec?
    public init(numHeads: Int, numKVHeads: Int? = nil, headDim: Int? = nil, causal: Bool = false, bias: Bool = false,
                rope: RoPESpec? = nil) {
        self.numHeads = numHeads; self.numKVHeads = numKVHeads; self.headDim = headDim
        self.causal = causal; self.bias = bias; self.rope = rope
    }
}

extension IRDecoder {
    static func decodeAttention(_ f: inout IRFields) throws(LoomError) -> AttentionSpec {
        var s = AttentionSpec(numHeads: try f.int("num_heads", min: 1))
        if let v = f.value("num_kv_heads"), !v.isNull { s.numKVHeads = try IRFields.int(v, path: f.at("num_kv_heads"), min: 1) }
        if let v = f.value("head_dim"), !v.isNull { s.headDim = try IRFields.int(v, path: f.at("head_dim"), min: 1) }
        s.causal = try f.bool("causal", false)
        s.bias = try f.bool("bias", false)
        if let r = f.value("rope"), !r.isNull {
            var rf = try IRFields(r, path: f.at("rope"))
            let layoutName = try rf.string("layout", "half")
            guard let layout = RoPESpec.Layout(rawValue: layoutName) else {
                throw LoomError(.invalidIR, rf.at("layout"), "unknown RoPE layout \"\(layoutName)\" (half, interleaved)")
            }
            let base = try rf.double("base", 10000)
            guard base > 1 else { throw LoomError(.invalidIR, rf.at("base"), "must be greater than 1, got \(base)") }
            s.rope = RoPESpec(layout: layout, base: base)
            try rf.finish()
        }
        return s
    }

    static func decodeSwiGLU(_ f: inout IRFields) throws(LoomError) -> LayerSpec {
        let hidden = try f.int("hidden", min: 1)
        var units: Int? = nil
        if let v = f.value("units"), !v.isNull { units = try IRFields.int(v, path: f.at("units"), min: 1) }
        return .swiglu(hidden: hidden, units: units, bias: try f.bool("bias", false))
    }
}

extension IREncoder {
    static func encodeAttention(_ s: AttentionSpec, into o: inout JSONObject) {
        o.set("num_heads", num(s.numHeads))
        if let k = s.numKVHeads { o.set("num_kv_heads", num(k)) }
        if let d = s.headDim { o.set("head_dim", num(d)) }
        o.set("causal", .bool(s.causal))
        o.set("bias", .bool(s.bias))
        if let r = s.rope {
            o.set("rope", .object(JSONObject([("layout", .string(r.layout.rawValue)), ("base", num(r.base))])))
        } else {
            o.set("rope", .null)
        }
    }

    static func encodeSwiGLU(hidden: Int, units: Int?, bias: Bool, into o: inout JSONObject) {
        o.set("hidden", num(hidden))
        if let u = units { o.set("units", num(u)) }
        o.set("bias", .bool(bias))
    }
}
