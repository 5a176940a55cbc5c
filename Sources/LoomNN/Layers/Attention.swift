import LoomCore

/// Multi-head (grouped-query) self-attention with optional causal mask, biases and RoPE.
///
/// Shapes: x `[batch, seq, d_model]`; H = num_heads, KV = num_kv_heads, D = head_dim;
/// `q_proj.weight` `[H·D, d_model]`, `k_proj.weight`/`v_proj.weight` `[KV·D, d_model]`,
/// `o_proj.weight` `[d_model, H·D]` (+ biases); y `[batch, seq, d_model]`. Query head h uses kv
/// head `h / (H/KV)`.
/// Canonical order (docs/numerics.md, "Attention"): `Q = x·Wqᵀ + bq`, `K`, `V` likewise (dense
/// order); RoPE on Q and K (see `RoPETable`); for each (row, head, query t) over its keys
/// j < L_t (L_t = t + 1 causal, else the sequence; capped by the padding count):
/// `s_j = fma-chain over i of q_i·k_{j,i}` from +0, then `s_j = s_j · T(1/√D)` (1/√D in Double,
/// rounded to T); `m = max s_j`; `e_j = exp(s_j − m)`; `Σ = e_0 + e_1 + …`; `p_j = e_j / Σ`;
/// `o_i = fma-chain over j of p_j·v_{j,i}` from +0; `y = O·Woᵀ + bo`.
/// Backward: `dO = dy·Wo`; `dP_j = fma-chain over i dO_i·v_{j,i}`; `c = fma-chain over j dP_j·p_j`;
/// `dS_j = (p_j·(dP_j − c))·T(1/√D)`; `dQ_i = fma-chain over j dS_j·k_{j,i}`;
/// `dK_{j,i}`, `dV_{j,i}` = fma chains over (heads of the group ascending, then queries t
/// ascending with j < L_t) of `dS·q_i` and `p·dO_i`; inverse RoPE on dQ, dK; projections as dense;
/// `dx = one fma chain over the q, then k, then v projection columns`.
public final class AttentionLayer<T: LoomFloat>: Layer<T> {
    public let dModel: Int, heads: Int, kvHeads: Int, headDim: Int
    public let causal: Bool
    public let rope: RoPESpec?
    /// Parameter indices of the four projections' weights and biases.
    public let qW: Int, qB: Int?, kW: Int, kB: Int?, vW: Int, vB: Int?, oW: Int, oB: Int?
    public var qWidth: Int { heads * headDim }
    public var kvWidth: Int { kvHeads * headDim }
    /// `T(1/√D)`, the factor of every score.
    public var scale: T { T(1.0 / Double(headDim).squareRoot()) }

    /// The RoPE table of `positions` (row r: position lowerBound + r; `headDim/2` pairs each), and
    /// whether pairs are interleaved; nil without RoPE. The values `rotate` uses.
    public func rotaryTable(positions: Range<Int>) -> (cos: [T], sin: [T], interleaved: Bool)? {
        guard let r = rope else { return nil }
        let t = RoPETable<T>(r, headDim: headDim, positions: positions)
        return (t.cos, t.sin, t.interleaved)
    }

    public init(path: String, name: String, id: Int, inputShape: [Int], heads: Int, kvHeads: Int, headDim: Int,
                causal: Bool, bias: Bool, rope: RoPESpec?, params: ParameterStore<T>, seed: UInt64) {
        let dm = inputShape.last ?? 1
        self.dModel = dm; self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
        self.causal = causal; self.rope = rope
        func linear(_ sub: String, _ o: Int, _ i: Int) -> (Int, Int?) {
            let bound = 1.0 / Double(Swift.max(i, 1)).squareRoot()
            let n = name + "." + sub
            let w = params.register(n + ".weight", shape: [o, i], Init.uniform([o, i], bound: bound, seed: seed, name: n + ".weight"))
            let b = bias ? params.register(n + ".bias", shape: [o], Init.uniform([o], bound: bound, seed: seed, name: n + ".bias")) : nil
            return (w, b)
        }
        (qW, qB) = linear("q_proj", heads * headDim, dm)
        (kW, kB) = linear("k_proj", kvHeads * headDim, dm)
        (vW, vB) = linear("v_proj", kvHeads * headDim, dm)
        (oW, oB) = linear("o_proj", dm, heads * headDim)
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { "multi_head_attention" }
    /// The attention probabilities `[heads, positions, positions]` and q, k, v saved for backward.
    public override var workspaceElementsPerSample: Int? {
        let positions = inputShape.count > 1 ? inputShape[0] : 1
        guard let scores = Limits.product([heads, positions, positions]),
              let qkv = Limits.product([3, positions, heads, headDim]) else { return nil }
        return Limits.sum(scores, qkv)
    }
    public override var summary: String {
        "heads \(heads) kv \(kvHeads) dim \(headDim)" + (causal ? " causal" : "") + (qB == nil ? "" : " bias")
            + (rope.map { " rope-\($0.layout.rawValue)" } ?? "")
    }
    public override var parameterIndices: [Int] { [qW, qB, kW, kB, vW, vB, oW, oB].compactMap { $0 } }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        guard x.rank == 3, x.shape[2] == dModel else {
            throw LoomError(.shapeMismatch, path, "attention needs [batch, positions, \(dModel)], got \(Tensor<T>.describe(x.shape))")
        }
        let b = x.shape[0], n = x.shape[1], rows = b * n
        let qw = qWidth, kvw = kvWidth, d = headDim, h = heads, group = heads / kvHeads
        let cache = pass.sequence?.cache
        let start = cache == nil ? 0 : pass.sequence!.start
        let valid = cache == nil ? pass.sequence?.validLengths : nil
        if cache != nil && pass.training {
            throw LoomError(.invalidArgument, path, "a KV cache is for inference; train on full sequences")
        }
        if let v = valid { try Network<T>.checkValidLengths(v, batch: b, positions: n) }
        var q = Projection.forward(pass, x.data, rows: rows, inF: dModel, weight: qW, outF: qw, bias: qB)
        var k = Projection.forward(pass, x.data, rows: rows, inF: dModel, weight: kW, outF: kvw, bias: kB)
        let v = Projection.forward(pass, x.data, rows: rows, inF: dModel, weight: vW, outF: kvw, bias: vB)
        if let r = rope {
            let table = RoPETable<T>(r, headDim: d, positions: start..<(start + n))
            AttentionLayer.rotate(pass, &q, table, rows: rows, n: n, start: start, heads: h, headDim: d, inverse: false)
            AttentionLayer.rotate(pass, &k, table, rows: rows, n: n, start: start, heads: kvHeads, headDim: d, inverse: false)
        }
        // Keys/values to attend to, per batch row: this call's own, or the cache's.
        var limits = [Int](repeating: 0, count: rows)
        var keys = k, values = v
        var batchStride = n * kvw
        if let c = cache {
            let e = try c.entry(layer: id, width: kvw, path: path)
            for bi in 0..<b {
                for t in 0..<n {
                    let dst = (bi * c.capacity + start + t) * kvw, src = (bi * n + t) * kvw
                    for i in 0..<kvw { e.keys[dst + i] = k[src + i]; e.values[dst + i] = v[src + i] }
                    limits[bi * n + t] = causal ? start + t + 1 : start + n
                }
            }
            keys = e.keys; values = e.values
            batchStride = c.capacity * kvw
        } else {
            for bi in 0..<b {
                let l = valid?[bi] ?? n
                for t in 0..<n { limits[bi * n + t] = causal ? Swift.min(t + 1, l) : l }
            }
        }
        let maxLimit = limits.max() ?? 0
        var out = [T](repeating: 0, count: rows * qw)
        var probs = [T](repeating: 0, count: pass.training ? b * h * n * n : 0)
        let training = pass.training
        let geo = AttentionGeometry(batch: b, n: n, heads: h, group: group, headDim: d, batchStride: batchStride, scale: scale)
        q.withUnsafeBufferPointer { qp in
            keys.withUnsafeBufferPointer { kp in
                values.withUnsafeBufferPointer { vp in
                    limits.withUnsafeBufferPointer { lp in
                        out.withUnsafeMutableBufferPointer { op in
                            probs.withUnsafeMutableBufferPointer { pp in
                                AttentionKernel.forwardAll(pass, geo, q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                                                           limits: lp.baseAddress!, out: op.baseAddress!,
                                                           probs: training ? pp.baseAddress! : nil, maxLimit: maxLimit)
                            }
                        }
                    }
                }
            }
        }
        let y = Projection.forward(pass, out, rows: rows, inF: qw, weight: oW, outF: dModel, bias: oB)
        if training {
            pass.save(id, [x, Tensor(uncheckedShape: [rows, qw], data: q), Tensor(uncheckedShape: [rows, kvw], data: k),
                           Tensor(uncheckedShape: [rows, kvw], data: v), Tensor(uncheckedShape: [b, h, n, n], data: probs),
                           Tensor(uncheckedShape: [rows, qw], data: out),
                           Tensor(uncheckedShape: [rows], data: limits.map { T(Double($0)) })])
        }
        return Tensor(uncheckedShape: x.shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let s = pass.saved[id]
        let x = s[0], q = s[1].data, k = s[2].data, v = s[3].data, probs = s[4].data, out = s[5].data
        let limits = s[6].data.map { Int($0.double) }
        let b = x.shape[0], n = x.shape[1], rows = b * n, ctx = pass.context
        let qw = qWidth, kvw = kvWidth, d = headDim, h = heads, kv = kvHeads
        let geo = AttentionGeometry<T>(batch: b, n: n, heads: h, group: heads / kvHeads, headDim: d, batchStride: n * kvw, scale: scale)
        let pv = pass.params.values
        Projection.paramGrads(pass, dy.data, rows: rows, outF: dModel, out, inF: qw, weight: oW, bias: oB)
        var dO = [T](repeating: 0, count: rows * qw)
        Projection.inputGrad(ctx, dy.data, rows: rows, outF: dModel, pv[oW].data, inF: qw, into: &dO, accumulate: false)
        var dq = [T](repeating: 0, count: rows * qw)
        var dk = [T](repeating: 0, count: rows * kvw), dv = dk
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
        probs.withUnsafeBufferPointer { pp in dO.withUnsafeBufferPointer { dop in limits.withUnsafeBufferPointer { lp in
        dq.withUnsafeMutableBufferPointer { dqp in dk.withUnsafeMutableBufferPointer { dkp in dv.withUnsafeMutableBufferPointer { dvp in
            AttentionKernel.backwardAll(pass, geo, q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, p: pp.baseAddress!,
                                        dO: dop.baseAddress!, limits: lp.baseAddress!,
                                        dq: dqp.baseAddress!, dk: dkp.baseAddress!, dv: dvp.baseAddress!)
        } } } } } } } } }
        if let r = rope {
            let table = RoPETable<T>(r, headDim: d, positions: 0..<n)
            AttentionLayer.rotate(pass, &dq, table, rows: rows, n: n, start: 0, heads: h, headDim: d, inverse: true)
            AttentionLayer.rotate(pass, &dk, table, rows: rows, n: n, start: 0, heads: kv, headDim: d, inverse: true)
        }
        Projection.paramGrads(pass, dq, rows: rows, outF: qw, x.data, inF: dModel, weight: qW, bias: qB)
        Projection.paramGrads(pass, dk, rows: rows, outF: kvw, x.data, inF: dModel, weight: kW, bias: kB)
        Projection.paramGrads(pass, dv, rows: rows, outF: kvw, x.data, inF: dModel, weight: vW, bias: vB)
        var dx = [T](repeating: 0, count: rows * dModel)
        Projection.inputGrad(ctx, dq, rows: rows, outF: qw, pv[qW].data, inF: dModel, into: &dx, accumulate: false)
        Projection.inputGrad(ctx, dk, rows: rows, outF: kvw, pv[kW].data, inF: dModel, into: &dx, accumulate: true)
        Projection.inputGrad(ctx, dv, rows: rows, outF: kvw, pv[vW].data, inF: dModel, into: &dx, accumulate: true)
        return Tensor(uncheckedShape: x.shape, data: dx)
    }

    /// RoPE on every row (position = start + row mod n), rows split across threads.
    @_specialize(where T == Float) @_specialize(where T == Double)
    @inline(never)
    static func rotate(_ pass: Pass<T>, _ a: inout [T], _ table: RoPETable<T>, rows: Int, n: Int, start: Int,
                       heads: Int, headDim: Int, inverse: Bool) {
        let w = heads * headDim, ctx = pass.context
        a.withUnsafeMutableBufferPointer { ap in
            ctx.parallelRanges(rows, minChunk: 16) { r in
                for row in r {
                    table.rotate(ap.baseAddress! + row * w, heads: heads, headDim: headDim, position: start + row % n, inverse: inverse)
                }
            }
        }
    }
}
