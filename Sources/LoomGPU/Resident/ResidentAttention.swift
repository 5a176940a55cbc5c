import LoomCore
import LoomNN

/// `AttentionLayer`: the q/k/v projections (one quantization of x for GGUF block weights), RoPE from
/// the layer's table, the attention of every (row, query, head) (`loom_attention_forward`), the
/// output projection. With a decoding sequence (`ResidentRuntime.sequence`) the keys and values
/// go to this op's device cache first and the queries attend to it. Backward as the CPU layer.
final class AttentionOp<T: LoomFloat>: ResidentOp<T> {
    let layer: AttentionLayer<T>
    var x: DeviceTensor? = nil
    var q: CUDABuffer?, k: CUDABuffer?, v: CUDABuffer?, o: CUDABuffer?, y: CUDABuffer?, scores: CUDABuffer?, probs: CUDABuffer?
    var keys: CUDABuffer?, values: CUDABuffer?
    var cacheShape: (batch: Int, capacity: Int)? = nil
    var dO: CUDABuffer?, dq: CUDABuffer?, dk: CUDABuffer?, dv: CUDABuffer?, ds: CUDABuffer?, dx: CUDABuffer?

    init(_ l: AttentionLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let l = layer
        guard x.shape.count == 3, x.shape[2] == l.dModel else {
            throw LoomError(.shapeMismatch, l.path, "attention needs [batch, positions, \(l.dModel)], got \(Tensor<T>.describe(x.shape))")
        }
        let b = x.shape[0], n = x.shape[1], rows = b * n, qw = l.qWidth, kvw = l.kvWidth, d = l.headDim
        let seq = rt.sequence, start = seq?.start ?? 0
        if (seq != nil || rt.valid != nil) && rt.training {
            throw LoomError(.invalidArgument, l.path, "a KV cache or padding mask is for inference; train on full sequences")
        }
        let qp = try rt.reserve(&q, rows * qw), kp = try rt.reserve(&k, rows * kvw), vp = try rt.reserve(&v, rows * kvw)
        let a = try rt.activations(x.pointer, rows: rows, cols: l.dModel, for: [l.qW, l.kW, l.vW])
        try rt.project(x.pointer, rows: rows, inF: l.dModel, weight: l.qW, bias: l.qB, outF: qw, into: qp, activations: a)
        try rt.project(x.pointer, rows: rows, inF: l.dModel, weight: l.kW, bias: l.kB, outF: kvw, into: kp, activations: a)
        try rt.project(x.pointer, rows: rows, inF: l.dModel, weight: l.vW, bias: l.vB, outF: kvw, into: vp, activations: a)
        try rotate(qp, heads: l.heads, rows: rows, n: n, first: start, inverse: false)
        try rotate(kp, heads: l.kvHeads, rows: rows, n: n, first: start, inverse: false)
        var keyPointer = kp, valuePointer = vp, batchStride = n * kvw
        if let s = seq {
            if start == 0 || cacheShape == nil || cacheShape! != (b, s.capacity) {
                precondition(start == 0, "the decoder resets its cache before a new sequence")
                _ = try rt.reserve(&keys, b * s.capacity * kvw)
                _ = try rt.reserve(&values, b * s.capacity * kvw)
                cacheShape = (b, s.capacity)
            }
            try rt.run("loom_kv_append", over: rows * kvw, [.pointer(keys!.pointer), .pointer(values!.pointer), .pointer(kp), .pointer(vp),
                                                             .int(b), .int(n), .int(s.capacity), .int(start), .int(kvw)])
            keyPointer = keys!.pointer; valuePointer = values!.pointer; batchStride = s.capacity * kvw
        }
        // Scores in shared memory when a block's fit in 48 KiB (the default limit), else in device memory.
        let jobs = rows * l.heads, keyCount = start + n, shared = keyCount * rt.size <= 48 * 1024
        let sp = shared ? 0 : try rt.reserve(&scores, jobs * keyCount)
        let pp = rt.training ? try rt.reserve(&probs, b * l.heads * n * n) : 0
        let op = try rt.reserve(&o, rows * qw)
        try rt.timed("attention") { () throws(LoomError) in
            try rt.device.launch(rt.kernel("loom_attention_forward"), blocks: (Swift.min(jobs, rt.device.multiprocessors * 32), 1),
                                 threads: 64, sharedBytes: shared ? keyCount * rt.size : 0,
                                 [.pointer(op), .pointer(sp), .pointer(pp), .pointer(qp), .pointer(keyPointer), .pointer(valuePointer),
                                  .pointer(rt.valid ?? 0), .int(b), .int(n), .int(l.heads), .int(l.heads / l.kvHeads), .int(d),
                                  .int(batchStride), .int(start), .int(l.causal ? 1 : 0), .int(keyCount), .scalar(l.scale)])
        }
        let yp = try rt.reserve(&y, rows * l.dModel)
        try rt.project(op, rows: rows, inF: qw, weight: l.oW, bias: l.oB, outF: l.dModel, into: yp)
        self.x = x
        return DeviceTensor(pointer: yp, shape: x.shape)
    }

    /// RoPE on `rows` rows of `heads` heads at positions first + row mod n (`inverse`: the transpose).
    func rotate(_ p: CUdeviceptr, heads: Int, rows: Int, n: Int, first: Int, inverse: Bool) throws(LoomError) {
        guard let t = try rt.ropeTable(layer, first: first, count: n) else { return }
        try rt.run("loom_rope", over: rows * heads * layer.headDim / 2,
                   [.pointer(p), .pointer(t.cos), .pointer(t.sin), .int(rows), .int(n), .int(heads), .int(layer.headDim),
                    .int(t.interleaved ? 1 : 0), .int(inverse ? 1 : 0)])
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let l = layer, x = self.x!
        let b = x.shape[0], n = x.shape[1], rows = b * n, qw = l.qWidth, kvw = l.kvWidth, d = l.headDim, group = l.heads / l.kvHeads
        try rt.projectionGrads(dy.pointer, rows: rows, outF: l.dModel, x: o!.pointer, inF: qw, weight: l.oW, bias: l.oB)
        let dop = try rt.reserve(&dO, rows * qw)
        try rt.projectionInputGrad(dy.pointer, rows: rows, outF: l.dModel, weight: l.oW, inF: qw, into: dop, accumulate: false)
        let dqp = try rt.reserve(&dq, rows * qw), dkp = try rt.reserve(&dk, rows * kvw), dvp = try rt.reserve(&dv, rows * kvw)
        let dsp = try rt.reserve(&ds, b * l.heads * n * n)
        let shape: [KernelArgument] = [.int(b), .int(n), .int(l.heads), .int(group), .int(d), .int(l.causal ? 1 : 0), .scalar(l.scale)]
        try rt.timed("attention backward") { () throws(LoomError) in
            try rt.device.launch(rt.kernel("loom_attention_backward_queries"), blocks: (Swift.min(rows * l.heads, rt.device.multiprocessors * 32), 1),
                                 threads: 64, [.pointer(dqp), .pointer(dsp), .pointer(q!.pointer), .pointer(k!.pointer), .pointer(v!.pointer),
                                               .pointer(probs!.pointer), .pointer(dop)] + shape)
        }
        try rt.run("loom_attention_backward_keys", over: rows * kvw,
                   [.pointer(dkp), .pointer(dvp), .pointer(q!.pointer), .pointer(probs!.pointer), .pointer(dsp), .pointer(dop)] + shape)
        try rotate(dqp, heads: l.heads, rows: rows, n: n, first: 0, inverse: true)
        try rotate(dkp, heads: l.kvHeads, rows: rows, n: n, first: 0, inverse: true)
        try rt.projectionGrads(dqp, rows: rows, outF: qw, x: x.pointer, inF: l.dModel, weight: l.qW, bias: l.qB)
        try rt.projectionGrads(dkp, rows: rows, outF: kvw, x: x.pointer, inF: l.dModel, weight: l.kW, bias: l.kB)
        try rt.projectionGrads(dvp, rows: rows, outF: kvw, x: x.pointer, inF: l.dModel, weight: l.vW, bias: l.vB)
        let dxp = try rt.reserve(&dx, rows * l.dModel)
        try rt.projectionInputGrad(dqp, rows: rows, outF: qw, weight: l.qW, inF: l.dModel, into: dxp, accumulate: false)
        try rt.projectionInputGrad(dkp, rows: rows, outF: kvw, weight: l.kW, inF: l.dModel, into: dxp, accumulate: true)
        try rt.projectionInputGrad(dvp, rows: rows, outF: kvw, weight: l.vW, inF: l.dModel, into: dxp, accumulate: true)
        return DeviceTensor(pointer: dxp, shape: x.shape)
    }
}
