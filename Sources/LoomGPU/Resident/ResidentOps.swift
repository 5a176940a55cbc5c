import LoomCore
import LoomNN

/// One layer on the device: forward keeps what its backward needs (device pointers into buffers
/// that stay valid until the next forward), backward adds its parameter gradients into the
/// runtime's gradient arena and returns dL/dx. Every op writes only its own buffers, so a
/// container may reuse an input after passing it on. Each repeats its CPU layer's canonical order.
class ResidentOp<T: LoomFloat> {
    let rt: ResidentRuntime<T>
    init(_ rt: ResidentRuntime<T>) { self.rt = rt }
    func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor { x }
    func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor { dy }

    /// The op for `layer`, or a device error naming the first layer that has no device kernels.
    static func make(_ layer: Layer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) -> ResidentOp<T> {
        if let l = layer as? SequentialLayer<T> { return try SequenceOp(l, rt) }
        if let l = layer as? ResidualLayer<T> { return try ResidualOp(l, rt) }
        if let l = layer as? DenseLayer<T> { return DenseOp(l, rt) }
        if let l = layer as? ActivationLayer<T> { return ActivationOp(l.activation, rt) }
        if let l = layer as? ConvLayer<T> { return ConvOp(l, rt) }
        if let l = layer as? PoolLayer<T> { return PoolOp(l, rt) }
        if let l = layer as? GlobalAvgPoolLayer<T> { return GlobalAvgPoolOp(l, rt) }
        if let l = layer as? ReshapeLayer<T> { return ReshapeOp(l, rt) }
        if let l = layer as? NormLayer<T> { return NormOp(l, rt) }
        if let l = layer as? ParallelLayer<T> { return try ParallelOp(l, rt) }
        if let l = layer as? SwiGLULayer<T> { return SwiGLUOp(l, rt) }
        if let l = layer as? EmbeddingLayer<T> { return EmbeddingOp(l, rt) }
        if let l = layer as? AttentionLayer<T> { return AttentionOp(l, rt) }
        if let l = layer as? PositionEmbeddingLayer<T> { return TableRowsOp(position: l, rt) }
        if let l = layer as? BiasLayer<T> { return TableRowsOp(bias: l, rt) }
        if let l = layer as? RecurrentLayer<T> { return RecurrentOp(l, rt) }
        if let l = layer as? KMeansLayer<T> { return KMeansOp(l, rt) }
        if let l = layer as? DropoutLayer<T> { return DropoutOp(l, rt) }
        if let l = layer as? SoftmaxLayer<T> {
            switch l.variant {
            case .standard, .temperature, .masked, .grid: return try SoftmaxOp(l, rt)
            default: return try SoftmaxFamilyOp(l, rt)
            }
        }
        throw LoomError(.device, layer.path.isEmpty ? layer.typeName : layer.path,
                        "\(layer.typeName) has no device-resident kernels yet (products still run on the GPU)")
    }
}

/// `SequentialLayer`: the children in order; backward in reverse. Outside native execution every
/// value between the children is rounded as the CPU's (`ResidentRuntime.roundActivation`,
/// `roundGradient`): each child's output forward and the gradient each child's backward receives,
/// and at the network's top also its input (unless it is token ids for an embedding) and its input
/// gradient. The rounded copies are new buffers, one per place, since a child may keep its
/// unrounded output for its backward.
final class SequenceOp<T: LoomFloat>: ResidentOp<T> {
    let ops: [ResidentOp<T>]
    let roundsInput: Bool, roundsInputGrad: Bool
    var forwardRounded: [CUDABuffer?], backwardRounded: [CUDABuffer?]

    init(_ layer: SequentialLayer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) {
        var ops = [ResidentOp<T>]()
        for l in layer.layers { ops.append(try ResidentOp.make(l, rt)) }
        self.ops = ops
        roundsInputGrad = layer.typeName == "network"
        roundsInput = roundsInputGrad && !(layer.layers.first is EmbeddingLayer<T>)
        forwardRounded = [CUDABuffer?](repeating: nil, count: ops.count + 1)
        backwardRounded = forwardRounded
        super.init(rt)
    }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        var h = roundsInput ? try rt.roundActivation(x, into: &forwardRounded[ops.count]) : x
        for (i, op) in ops.enumerated() { h = try rt.roundActivation(try op.forward(h), into: &forwardRounded[i]) }
        return h
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        var g = dy
        for (i, op) in ops.enumerated().reversed() { g = try op.backward(try rt.roundGradient(g, into: &backwardRounded[i])) }
        return roundsInputGrad ? try rt.roundGradient(g, into: &backwardRounded[ops.count]) : g
    }
}

/// `ResidualLayer`: `y = x + block(x)`; `dx = dy + block'(dy)`.
final class ResidualOp<T: LoomFloat>: ResidentOp<T> {
    let block: SequenceOp<T>
    let sum: ResidentRuntime<T>.Formula
    var out: CUDABuffer?, dx: CUDABuffer?
    init(_ l: ResidualLayer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) {
        block = try SequenceOp(l.block, rt)
        sum = rt.formula(ElementwiseProgram.sum)
        super.init(rt)
    }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let h = try block.forward(x)
        let y = try rt.reserve(&out, x.count)
        try rt.run(sum, n: x.count, inputs: [x.pointer, h.pointer], outputs: [y])
        return DeviceTensor(pointer: y, shape: x.shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let g = try block.backward(dy)
        let d = try rt.reserve(&dx, dy.count)
        try rt.run(sum, n: dy.count, inputs: [dy.pointer, g.pointer], outputs: [d])
        return DeviceTensor(pointer: d, shape: dy.shape)
    }
}

/// An activation's forward `y = f(x)` and backward `dx = dy·f'(x, y)` (its own buffers).
struct ActivationKernels<T: LoomFloat> {
    let forward: ResidentRuntime<T>.Formula
    let backward: ResidentRuntime<T>.Formula
    init(_ a: Activation, _ rt: ResidentRuntime<T>) {
        forward = rt.formula(a.forwardProgram)
        backward = rt.formula(a.backwardProgram)
    }
}

/// `ActivationLayer`.
final class ActivationOp<T: LoomFloat>: ResidentOp<T> {
    let kernels: ActivationKernels<T>
    var x: DeviceTensor? = nil
    var out: CUDABuffer?, dx: CUDABuffer?
    init(_ a: Activation, _ rt: ResidentRuntime<T>) {
        kernels = ActivationKernels(a, rt)
        super.init(rt)
    }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let y = try rt.reserve(&out, x.count)
        try rt.run(kernels.forward, n: x.count, inputs: [x.pointer], outputs: [y])
        self.x = x
        return DeviceTensor(pointer: y, shape: x.shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let d = try rt.reserve(&dx, dy.count)
        try rt.run(kernels.backward, n: dy.count, inputs: [dy.pointer, x!.pointer, out!.pointer], outputs: [d])
        return DeviceTensor(pointer: d, shape: dy.shape)
    }
}

/// `DenseLayer` (and stitch, tied dense): `Projection`'s products and sums, then the activation.
final class DenseOp<T: LoomFloat>: ResidentOp<T> {
    let layer: DenseLayer<T>
    let act: ActivationKernels<T>?
    var x: DeviceTensor? = nil
    var pre: CUDABuffer?, out: CUDABuffer?, g: CUDABuffer?, dx: CUDABuffer?
    init(_ l: DenseLayer<T>, _ rt: ResidentRuntime<T>) {
        layer = l
        act = l.activation.isLinear ? nil : ActivationKernels(l.activation, rt)
        super.init(rt)
    }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let inF = layer.inFeatures, units = layer.units, rows = x.count / inF
        let p = try rt.reserve(&pre, rows * units)
        try rt.project(x.pointer, rows: rows, inF: inF, weight: layer.weightIndex, bias: layer.biasIndex, outF: units, into: p)
        self.x = x
        var shape = x.shape
        shape[shape.count - 1] = units
        guard let act else { return DeviceTensor(pointer: p, shape: shape) }
        let y = try rt.reserve(&out, rows * units)
        try rt.run(act.forward, n: rows * units, inputs: [p], outputs: [y])
        return DeviceTensor(pointer: y, shape: shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let x = self.x!
        let inF = layer.inFeatures, units = layer.units, rows = x.count / inF
        var gp = dy.pointer
        if let act {
            gp = try rt.reserve(&g, rows * units)
            try rt.run(act.backward, n: rows * units, inputs: [dy.pointer, pre!.pointer, out!.pointer], outputs: [gp])
        }
        try rt.projectionGrads(gp, rows: rows, outF: units, x: x.pointer, inF: inF, weight: layer.weightIndex, bias: layer.biasIndex)
        let d = try rt.reserve(&dx, rows * inF)
        try rt.projectionInputGrad(gp, rows: rows, outF: units, weight: layer.weightIndex, inF: inF, into: d, accumulate: false)
        return DeviceTensor(pointer: d, shape: x.shape)
    }
}

/// `ConvLayer` (conv1d, conv2d): im2col, one product per group, the batch-major transpose, the
/// activation; backward as the layer's doc comment (dcol of all samples in one product per group,
/// then col2im as a gather).
final class ConvOp<T: LoomFloat>: ResidentOp<T> {
    let layer: ConvLayer<T>
    let act: ActivationKernels<T>?
    var col: CUDABuffer?, acc: CUDABuffer?, pre: CUDABuffer?, out: CUDABuffer?
    var g: CUDABuffer?, gc: CUDABuffer?, dcol: CUDABuffer?, dx: CUDABuffer?
    var batch = 0
    init(_ l: ConvLayer<T>, _ rt: ResidentRuntime<T>) {
        layer = l
        act = l.spec.activation.isLinear ? nil : ActivationKernels(l.spec.activation, rt)
        super.init(rt)
    }
    var geo: WindowGeometry { layer.geometry }
    var geometryArguments: [KernelArgument] { ResidentRuntime<T>.geometryArguments(batch: batch, channels: geo.channels, geo) }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        batch = x.shape[0]
        let F = layer.spec.filters, P = geo.outPlane, bp = batch * P, rowsK = geo.channels * geo.taps
        let (_, fg, kg) = layer.groupSizes
        let c = try rt.reserve(&col, rowsK * bp)
        try rt.run("loom_im2col", over: rowsK * bp, [.pointer(c), .pointer(x.pointer)] + geometryArguments)
        let a = try rt.reserve(&acc, F * bp)
        if let bi = layer.biasIndex {
            try rt.run("loom_fill_channels", over: F * bp, [.pointer(a), .pointer(rt.param(bi)), .int(F), .int(bp)])
        }
        let w = rt.param(layer.weightIndex)
        for gi in 0..<layer.spec.groups {
            // Quantized execution: rows = output positions (each patch quantized on its own).
            if try rt.integerProduct(weight: layer.weightIndex, channels: (gi * fg)..<((gi + 1) * fg),
                                     x: c + CUdeviceptr(gi * kg * bp * rt.size), rows: bp, cols: kg, rsX: 1, csX: bp,
                                     c: a + CUdeviceptr(gi * fg * bp * rt.size), rsC: 1, csC: bp,
                                     accumulate: layer.biasIndex != nil) { continue }
            try rt.gemm(GemmKernel.Shape(m: fg, n: bp, k: kg, rsA: kg, csA: 1, rsB: bp, csB: 1, ldc: bp, accumulate: layer.biasIndex != nil),
                        a: w + CUdeviceptr(gi * fg * kg * rt.size), b: c + CUdeviceptr(gi * kg * bp * rt.size),
                        c: a + CUdeviceptr(gi * fg * bp * rt.size))
        }
        let p = try rt.reserve(&pre, F * bp)
        try rt.run("loom_to_batch_major", over: F * bp, [.pointer(p), .pointer(a), .int(batch), .int(F), .int(P)])
        let shape = [batch] + layer.outputShape
        guard let act else { return DeviceTensor(pointer: p, shape: shape) }
        let y = try rt.reserve(&out, F * bp)
        try rt.run(act.forward, n: F * bp, inputs: [p], outputs: [y])
        return DeviceTensor(pointer: y, shape: shape)
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let F = layer.spec.filters, P = geo.outPlane, bp = batch * P, rowsK = geo.channels * geo.taps
        let (_, fg, kg) = layer.groupSizes
        var gb = dy.pointer
        if let act {
            gb = try rt.reserve(&g, F * bp)
            try rt.run(act.backward, n: F * bp, inputs: [dy.pointer, pre!.pointer, out!.pointer], outputs: [gb])
        }
        let gcm = try rt.reserve(&gc, F * bp)   // [F, B·P]
        try rt.run("loom_to_channel_major", over: F * bp, [.pointer(gcm), .pointer(gb), .int(batch), .int(F), .int(P)])
        let w = rt.param(layer.weightIndex), dw = rt.grad(layer.weightIndex), c = col!.pointer, s = rt.size
        for gi in 0..<layer.spec.groups {
            try rt.gemm(GemmKernel.Shape(m: fg, n: kg, k: bp, rsA: bp, csA: 1, rsB: 1, csB: bp, ldc: kg, accumulate: true),
                        a: gcm + CUdeviceptr(gi * fg * bp * s), b: c + CUdeviceptr(gi * kg * bp * s), c: dw + CUdeviceptr(gi * fg * kg * s))
        }
        if let bi = layer.biasIndex {
            try rt.run("loom_row_sums", over: F * 32, [.pointer(rt.grad(bi)), .pointer(gcm), .int(F), .int(bp)])
        }
        let dc = try rt.reserve(&dcol, rowsK * bp)
        for gi in 0..<layer.spec.groups {
            try rt.gemm(GemmKernel.Shape(m: kg, n: bp, k: fg, rsA: 1, csA: kg, rsB: bp, csB: 1, ldc: bp, accumulate: false),
                        a: w + CUdeviceptr(gi * fg * kg * s), b: gcm + CUdeviceptr(gi * fg * bp * s), c: dc + CUdeviceptr(gi * kg * bp * s))
        }
        let n = batch * geo.channels * geo.inPlane
        let d = try rt.reserve(&dx, n)
        try rt.run("loom_col2im", over: n, [.pointer(d), .pointer(dc)] + geometryArguments)
        return DeviceTensor(pointer: d, shape: [batch] + layer.inputShape)
    }
}

/// `PoolLayer` (max and average, 1-D and 2-D).
final class PoolOp<T: LoomFloat>: ResidentOp<T> {
    let layer: PoolLayer<T>
    var x: DeviceTensor? = nil
    var out: CUDABuffer?, dx: CUDABuffer?
    init(_ l: PoolLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }
    var isMax: Int { layer.spec.kind == .max ? 1 : 0 }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let geo = layer.geometry, planes = x.shape[0] * geo.channels
        let y = try rt.reserve(&out, planes * geo.outPlane)
        try rt.run("loom_pool_forward", over: planes * geo.outPlane, [.pointer(y), .pointer(x.pointer), .int(isMax)]
                   + ResidentRuntime<T>.geometryArguments(batch: 1, channels: planes, geo))
        self.x = x
        return DeviceTensor(pointer: y, shape: [x.shape[0]] + layer.outputShape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let geo = layer.geometry, planes = dy.shape[0] * geo.channels
        let d = try rt.reserve(&dx, planes * geo.inPlane)
        try rt.zero(d, planes * geo.inPlane)
        try rt.run("loom_pool_backward", over: planes, [.pointer(d), .pointer(dy.pointer), .pointer(x!.pointer), .int(isMax)]
                   + ResidentRuntime<T>.geometryArguments(batch: 1, channels: planes, geo))
        return DeviceTensor(pointer: d, shape: [dy.shape[0]] + layer.inputShape)
    }
}

/// `GlobalAvgPoolLayer`.
final class GlobalAvgPoolOp<T: LoomFloat>: ResidentOp<T> {
    let layer: GlobalAvgPoolLayer<T>
    var out: CUDABuffer?, dx: CUDABuffer?
    init(_ l: GlobalAvgPoolLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let rows = x.count / layer.spatial
        let y = try rt.reserve(&out, rows)
        try rt.run("loom_global_avg_forward", over: rows, [.pointer(y), .pointer(x.pointer), .int(rows), .int(layer.spatial)])
        return DeviceTensor(pointer: y, shape: [x.shape[0]] + layer.outputShape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let rows = dy.count, n = rows * layer.spatial
        let d = try rt.reserve(&dx, n)
        try rt.run("loom_global_avg_backward", over: n, [.pointer(d), .pointer(dy.pointer), .int(rows), .int(layer.spatial)])
        return DeviceTensor(pointer: d, shape: [dy.shape[0]] + layer.inputShape)
    }
}

/// `ReshapeLayer` (flatten, reshape): the same memory under another shape.
final class ReshapeOp<T: LoomFloat>: ResidentOp<T> {
    let layer: ReshapeLayer<T>
    init(_ l: ReshapeLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        DeviceTensor(pointer: x.pointer, shape: [x.shape[0]] + layer.outputShape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        DeviceTensor(pointer: dy.pointer, shape: [dy.shape[0]] + layer.inputShape)
    }
}

/// `SoftmaxLayer` (standard, temperature, masked, grid): one thread per group.
final class SoftmaxOp<T: LoomFloat>: ResidentOp<T> {
    let layer: SoftmaxLayer<T>
    var mask: CUDABuffer?, out: CUDABuffer?, dx: CUDABuffer?
    let temperature: T?
    init(_ l: SoftmaxLayer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) {
        layer = l
        if case .temperature(let t) = l.variant { temperature = T(t) } else { temperature = nil }
        super.init(rt)
        if case .masked(let m) = l.variant { _ = try rt.upload(m.map { UInt8($0 ? 1 : 0) }, into: &mask) }
    }
    var tail: [KernelArgument] { [.int(temperature == nil ? 0 : 1), .scalar(temperature ?? 1)] }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let g = layer.groupSize, groups = g == 0 ? 0 : x.count / g
        let y = try rt.reserve(&out, x.count)
        try rt.run("loom_softmax_forward", over: groups, [.pointer(y), .pointer(x.pointer), .pointer(mask?.pointer ?? 0), .int(groups), .int(g)] + tail)
        return DeviceTensor(pointer: y, shape: x.shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let g = layer.groupSize, groups = g == 0 ? 0 : dy.count / g
        let d = try rt.reserve(&dx, dy.count)
        try rt.run("loom_softmax_backward", over: groups, [.pointer(d), .pointer(dy.pointer), .pointer(out!.pointer), .int(groups), .int(g)] + tail)
        return DeviceTensor(pointer: d, shape: dy.shape)
    }
}

/// `NormLayer` (layer norm, RMS norm): the forward one warp per row, the backward one thread per row;
/// the weight gradient one thread per feature.
final class NormOp<T: LoomFloat>: ResidentOp<T> {
    let layer: NormLayer<T>
    var out: CUDABuffer?, xhat: CUDABuffer?, rstd: CUDABuffer?, dx: CUDABuffer?
    init(_ l: NormLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let f = layer.features, rows = x.count / f
        let y = try rt.reserve(&out, x.count), h = try rt.reserve(&xhat, x.count), r = try rt.reserve(&rstd, rows)
        try rt.run("loom_norm_forward", over: rows * 32, [.pointer(y), .pointer(h), .pointer(r), .pointer(x.pointer),
                                                     .pointer(layer.weightIndex.map(rt.param) ?? 0), .pointer(layer.biasIndex.map(rt.param) ?? 0),
                                                     .int(rows), .int(f), .int(layer.rms ? 1 : 0), .scalar(T(layer.epsilon))])
        return DeviceTensor(pointer: y, shape: x.shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let f = layer.features, rows = dy.count / f
        let d = try rt.reserve(&dx, dy.count)
        try rt.run("loom_norm_backward", over: rows, [.pointer(d), .pointer(dy.pointer), .pointer(xhat!.pointer), .pointer(rstd!.pointer),
                                                      .pointer(layer.weightIndex.map(rt.param) ?? 0), .int(rows), .int(f), .int(layer.rms ? 1 : 0)])
        if let wi = layer.weightIndex {
            try rt.run("loom_column_dots", over: f, [.pointer(rt.grad(wi)), .pointer(dy.pointer), .pointer(xhat!.pointer), .int(rows), .int(f)])
        }
        if let bi = layer.biasIndex {
            try rt.run("loom_column_sums", over: f, [.pointer(rt.grad(bi)), .pointer(dy.pointer), .int(rows), .int(f)])
        }
        return DeviceTensor(pointer: d, shape: dy.shape)
    }
}

/// `EmbeddingLayer`: the ids are checked on the host (`tokenIDs`, the CPU's error), then gathered
/// on the device; backward adds each row's gradient into its id's row, rows in order.
final class EmbeddingOp<T: LoomFloat>: ResidentOp<T> {
    let layer: EmbeddingLayer<T>
    var ids: DeviceTensor? = nil
    var out: CUDABuffer?, dx: CUDABuffer?
    init(_ l: EmbeddingLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let values = rt.hostInput.flatMap { $0.pointer == x.pointer && $0.values.count == x.count ? $0.values : nil }
        let hostValues: [T]
        if let v = values { hostValues = v } else { hostValues = try rt.device.copyOut(x.pointer, count: x.count, as: T.self) }
        let tokens = try layer.tokenIDs(hostValues)
        let n = x.count * layer.dim
        let y = try rt.reserve(&out, n)
        if let w = rt.quantized[layer.weightIndex] {
            // A GGUF block table: the rows dequantized on the host (exactly, as the CPU layer), then uploaded.
            var rows = [Float](repeating: 0, count: n)
            rows.withUnsafeMutableBufferPointer { p in
                for (r, id) in tokens.enumerated() { w.matrix.dequantizeRow(id, into: UnsafeMutableBufferPointer(rebasing: p[(r * layer.dim)...])) }
            }
            try rows.withUnsafeBufferPointer { (b) throws(LoomError) in try rt.device.copyIn(b, to: y) }
        } else {
            try rt.run("loom_embedding_forward", over: n, [.pointer(y), .pointer(x.pointer), .pointer(rt.param(layer.weightIndex)),
                                                            .int(x.count), .int(layer.dim)])
        }
        ids = x
        return DeviceTensor(pointer: y, shape: x.shape + [layer.dim])
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let ids = self.ids!
        try rt.run("loom_embedding_backward", over: layer.dim, [.pointer(rt.grad(layer.weightIndex)), .pointer(dy.pointer),
                                                                 .pointer(ids.pointer), .int(ids.count), .int(layer.dim)])
        let d = try rt.reserve(&dx, ids.count)  // ids get no gradient
        try rt.zero(d, ids.count)
        return DeviceTensor(pointer: d, shape: ids.shape)
    }
}

/// `DropoutLayer`: in training, the layer's mask made on the device from the same Philox stream
/// (`loom_dropout_mask`, equal to `mask(count:seed:step:)`), applied by its `maskProgram`; the
/// identity otherwise.
final class DropoutOp<T: LoomFloat>: ResidentOp<T> {
    let layer: DropoutLayer<T>
    let apply: ResidentRuntime<T>.Formula
    var mask: CUDABuffer?, out: CUDABuffer?, dx: CUDABuffer?
    var active = false
    init(_ l: DropoutLayer<T>, _ rt: ResidentRuntime<T>) {
        layer = l
        apply = rt.formula(DropoutLayer<T>.maskProgram)
        super.init(rt)
    }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        active = rt.training && layer.rate > 0
        guard active else { return x }
        let m = try rt.reserve(&mask, x.count)
        try rt.run("loom_dropout_mask", over: x.count, [.pointer(m), .int(x.count)] + rt.philox(stream: layer.maskStream(step: rt.step))
                                                       + [.float(Float(layer.rate)), .scalar(layer.scale)])
        let y = try rt.reserve(&out, x.count)
        try rt.run(apply, n: x.count, inputs: [x.pointer, m], outputs: [y])
        return DeviceTensor(pointer: y, shape: x.shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        guard active else { return dy }
        let d = try rt.reserve(&dx, dy.count)
        try rt.run(apply, n: dy.count, inputs: [dy.pointer, mask!.pointer], outputs: [d])
        return DeviceTensor(pointer: d, shape: dy.shape)
    }
}

/// Sums, products and scalings of device tensors into two alternating buffers (never in place).
struct PingPong<T: LoomFloat> {
    var buffers: [CUDABuffer?] = [nil, nil]
    var next = 0
    mutating func run(_ rt: ResidentRuntime<T>, _ f: ResidentRuntime<T>.Formula, _ inputs: [DeviceTensor], scalars: [T] = []) throws(LoomError) -> DeviceTensor {
        let y = try rt.reserve(&buffers[next], inputs[0].count)
        next ^= 1
        try rt.run(f, n: inputs[0].count, inputs: inputs.map(\.pointer), outputs: [y], scalars: scalars)
        return DeviceTensor(pointer: y, shape: inputs[0].shape)
    }
}

/// `ParallelLayer`: the branches (and the filter's gate) as ops, combined as the layer does —
/// sums and products in branch order, concat by columns, filter as an fma chain over branches.
final class ParallelOp<T: LoomFloat>: ResidentOp<T> {
    let layer: ParallelLayer<T>
    let branches: [ResidentOp<T>]
    let gate: ResidentOp<T>?
    let gateSoftmax: SoftmaxOp<T>?
    let sum: ResidentRuntime<T>.Formula, product: ResidentRuntime<T>.Formula, scale: ResidentRuntime<T>.Formula
    var outs: [DeviceTensor] = []
    var probs: DeviceTensor? = nil
    var forwardTemps = PingPong<T>(), backwardTemps = PingPong<T>()
    var out: CUDABuffer?, dg: CUDABuffer?
    var branchGrads: [CUDABuffer?], branchGradsAlt: [CUDABuffer?]

    init(_ l: ParallelLayer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) {
        layer = l
        var ops = [ResidentOp<T>]()
        for b in l.branches { ops.append(try ResidentOp.make(b, rt)) }
        branches = ops
        gate = try l.gate.map { (g) throws(LoomError) in try ResidentOp.make(g, rt) }
        gateSoftmax = try l.gateSoftmax.map { (s) throws(LoomError) in try SoftmaxOp(s, rt) }
        sum = rt.formula(ElementwiseProgram.sum)
        product = rt.formula(ElementwiseProgram.product)
        scale = rt.formula(ElementwiseProgram.scale)
        branchGrads = [CUDABuffer?](repeating: nil, count: l.branches.count)
        branchGradsAlt = branchGrads
        super.init(rt)
    }

    var inverseCount: T { T(1.0 / Double(branches.count)) }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        outs = []
        for b in branches { outs.append(try b.forward(x)) }
        switch layer.mode {
        case .concat, .gridScatter:
            let rows = x.count / (x.shape.last ?? 1), total = layer.widths.reduce(0, +)
            let y = try rt.reserve(&out, rows * total)
            var offset = 0
            for bi in layer.order {
                let w = layer.widths[bi]
                try rt.run("loom_copy_columns", over: rows * w, [.pointer(y), .pointer(outs[bi].pointer), .int(rows), .int(w), .int(total), .int(offset), .int(1)])
                offset += w
            }
            var shape = x.shape
            shape[shape.count - 1] = total
            return DeviceTensor(pointer: y, shape: shape)
        case .add, .average:
            var acc = outs[0]
            for i in 1..<outs.count { acc = try forwardTemps.run(rt, sum, [acc, outs[i]]) }
            if layer.mode == .average { acc = try forwardTemps.run(rt, scale, [acc], scalars: [inverseCount]) }
            return acc
        case .multiply:
            var acc = outs[0]
            for i in 1..<outs.count { acc = try forwardTemps.run(rt, product, [acc, outs[i]]) }
            return acc
        case .filter:
            let logits = try gate!.forward(x)
            let g = try gateSoftmax!.forward(logits)
            probs = g
            let n = branches.count, width = outs[0].shape.last ?? 1, rows = outs[0].count / width
            let y = try rt.reserve(&out, rows * width)
            try rt.zero(y, rows * width)
            for i in 0..<n {
                try rt.run("loom_filter_accumulate", over: rows * width, [.pointer(y), .pointer(g.pointer), .pointer(outs[i].pointer),
                                                                          .int(rows), .int(width), .int(n), .int(i)])
            }
            return DeviceTensor(pointer: y, shape: outs[0].shape)
        }
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let n = branches.count
        var grads = [DeviceTensor]()
        var gateDx: DeviceTensor? = nil
        switch layer.mode {
        case .concat, .gridScatter:
            let rows = dy.count / (dy.shape.last ?? 1), total = layer.widths.reduce(0, +)
            grads = [DeviceTensor](repeating: dy, count: n)
            var offset = 0
            for bi in layer.order {
                let w = layer.widths[bi]
                let g = try rt.reserve(&branchGrads[bi], rows * w)
                try rt.run("loom_copy_columns", over: rows * w, [.pointer(g), .pointer(dy.pointer), .int(rows), .int(w), .int(total), .int(offset), .int(0)])
                var shape = dy.shape
                shape[shape.count - 1] = w
                grads[bi] = DeviceTensor(pointer: g, shape: shape)
                offset += w
            }
        case .add:
            grads = [DeviceTensor](repeating: dy, count: n)
        case .average:
            let g = try rt.reserve(&branchGrads[0], dy.count)
            try rt.run(scale, n: dy.count, inputs: [dy.pointer], outputs: [g], scalars: [inverseCount])
            grads = [DeviceTensor](repeating: DeviceTensor(pointer: g, shape: dy.shape), count: n)
        case .multiply:
            // Branch i's gradient: dy times every other branch's output, in branch order, through
            // two buffers of its own (it must live until the branch's backward).
            for i in 0..<n {
                var g = dy, alternate = false
                for j in 0..<n where j != i {
                    let into = alternate ? try rt.reserve(&branchGradsAlt[i], dy.count) : try rt.reserve(&branchGrads[i], dy.count)
                    alternate.toggle()
                    try rt.run(product, n: dy.count, inputs: [g.pointer, outs[j].pointer], outputs: [into])
                    g = DeviceTensor(pointer: into, shape: dy.shape)
                }
                grads.append(g)
            }
        case .filter:
            let width = dy.shape.last ?? 1, rows = dy.count / width
            let dgp = try rt.reserve(&dg, rows * n)
            for i in 0..<n {
                let gb = try rt.reserve(&branchGrads[i], dy.count)
                try rt.run("loom_filter_branch_grad", over: rows, [.pointer(gb), .pointer(dgp), .pointer(dy.pointer), .pointer(probs!.pointer),
                                                                   .pointer(outs[i].pointer), .int(rows), .int(width), .int(n), .int(i)])
                grads.append(DeviceTensor(pointer: gb, shape: dy.shape))
            }
            var gshape = dy.shape
            gshape[gshape.count - 1] = n
            let dlogits = try gateSoftmax!.backward(DeviceTensor(pointer: dgp, shape: gshape))
            gateDx = try gate!.backward(dlogits)
        }
        var dxs = [DeviceTensor]()
        for i in 0..<n { dxs.append(try branches[i].backward(grads[i])) }
        var dx = dxs[0]
        for i in 1..<n { dx = try backwardTemps.run(rt, sum, [dx, dxs[i]]) }
        if let gd = gateDx { dx = try backwardTemps.run(rt, sum, [dx, gd]) }
        return dx
    }
}

/// `Projection`'s three products on the device: forward from the bias (or +0), the parameter
/// gradients, and the input gradient (optionally continuing an earlier chain).
extension ResidentRuntime {
    func projectionGrads(_ g: CUdeviceptr, rows: Int, outF: Int, x: CUdeviceptr, inF: Int, weight: Int, bias: Int?) throws(LoomError) {
        try gemm(GemmKernel.Shape(m: outF, n: inF, k: rows, rsA: 1, csA: outF, rsB: inF, csB: 1, ldc: inF, accumulate: true),
                 a: g, b: x, c: grad(weight))
        if let bi = bias { try run("loom_column_sums", over: outF, [.pointer(grad(bi)), .pointer(g), .int(rows), .int(outF)]) }
    }

    func projectionInputGrad(_ g: CUdeviceptr, rows: Int, outF: Int, weight: Int, inF: Int, into dx: CUdeviceptr, accumulate: Bool) throws(LoomError) {
        try gemm(GemmKernel.Shape(m: rows, n: inF, k: outF, rsA: outF, csA: 1, rsB: inF, csB: 1, ldc: inF, accumulate: accumulate),
                 a: g, b: param(weight), c: dx)
    }
}

/// `SwiGLULayer`: gate and up projections, `h = silu(g)·u`, the down projection; backward as the
/// layer (dx one chain: gate terms, then up terms).
final class SwiGLUOp<T: LoomFloat>: ResidentOp<T> {
    let layer: SwiGLULayer<T>
    let gated: ResidentRuntime<T>.Formula, gatedGradient: ResidentRuntime<T>.Formula
    var x: DeviceTensor? = nil
    var g: CUDABuffer?, u: CUDABuffer?, h: CUDABuffer?, out: CUDABuffer?, dh: CUDABuffer?, du: CUDABuffer?, dg: CUDABuffer?, dx: CUDABuffer?
    init(_ l: SwiGLULayer<T>, _ rt: ResidentRuntime<T>) {
        layer = l
        gated = rt.formula(SwiGLULayer<T>.gatedProgram)
        gatedGradient = rt.formula(SwiGLULayer<T>.gatedGradientProgram)
        super.init(rt)
    }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let l = layer, rows = x.count / l.inFeatures, n = rows * l.hidden
        let gp = try rt.reserve(&g, n), up = try rt.reserve(&u, n), hp = try rt.reserve(&h, n)
        let a = try rt.activations(x.pointer, rows: rows, cols: l.inFeatures, for: [l.gateW, l.upW])
        try rt.project(x.pointer, rows: rows, inF: l.inFeatures, weight: l.gateW, bias: l.gateB, outF: l.hidden, into: gp, activations: a)
        try rt.project(x.pointer, rows: rows, inF: l.inFeatures, weight: l.upW, bias: l.upB, outF: l.hidden, into: up, activations: a)
        try rt.run(gated, n: n, inputs: [gp, up], outputs: [hp])
        let y = try rt.reserve(&out, rows * l.units)
        try rt.project(hp, rows: rows, inF: l.hidden, weight: l.downW, bias: l.downB, outF: l.units, into: y)
        self.x = x
        var shape = x.shape
        shape[shape.count - 1] = l.units
        return DeviceTensor(pointer: y, shape: shape)
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let l = layer, x = self.x!, rows = x.count / l.inFeatures, n = rows * l.hidden
        try rt.projectionGrads(dy.pointer, rows: rows, outF: l.units, x: h!.pointer, inF: l.hidden, weight: l.downW, bias: l.downB)
        let dhp = try rt.reserve(&dh, n), dup = try rt.reserve(&du, n), dgp = try rt.reserve(&dg, n)
        try rt.projectionInputGrad(dy.pointer, rows: rows, outF: l.units, weight: l.downW, inF: l.hidden, into: dhp, accumulate: false)
        try rt.run(gatedGradient, n: n, inputs: [dhp, g!.pointer, u!.pointer], outputs: [dup, dgp])
        try rt.projectionGrads(dgp, rows: rows, outF: l.hidden, x: x.pointer, inF: l.inFeatures, weight: l.gateW, bias: l.gateB)
        try rt.projectionGrads(dup, rows: rows, outF: l.hidden, x: x.pointer, inF: l.inFeatures, weight: l.upW, bias: l.upB)
        let d = try rt.reserve(&dx, rows * l.inFeatures)
        try rt.projectionInputGrad(dgp, rows: rows, outF: l.hidden, weight: l.gateW, inF: l.inFeatures, into: d, accumulate: false)
        try rt.projectionInputGrad(dup, rows: rows, outF: l.hidden, weight: l.upW, inF: l.inFeatures, into: d, accumulate: true)
        return DeviceTensor(pointer: d, shape: x.shape)
    }
}

/// `PositionEmbeddingLayer` (`y = x + P[start + t]`, start = the decoding position) and `BiasLayer`
/// (`y = x + b`): one kernel adds table rows; backward passes dy on and sums the table's gradient
/// (positions: over the batch in order; bias: over all rows in order).
final class TableRowsOp<T: LoomFloat>: ResidentOp<T> {
    let weightIndex: Int
    let position: PositionEmbeddingLayer<T>?
    var out: CUDABuffer?
    var start = 0, batch = 0, n = 1
    init(position l: PositionEmbeddingLayer<T>, _ rt: ResidentRuntime<T>) { weightIndex = l.weightIndex; position = l; super.init(rt) }
    init(bias l: BiasLayer<T>, _ rt: ResidentRuntime<T>) { weightIndex = l.weightIndex; position = nil; super.init(rt) }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let d = x.shape.last!, rows = x.count / d
        if let l = position {
            guard x.shape.count == 3, d == l.dim else {
                throw LoomError(.shapeMismatch, l.path, "position_embedding needs [batch, positions, \(l.dim)], got \(Tensor<T>.describe(x.shape))")
            }
            n = x.shape[1]; batch = x.shape[0]; start = rt.sequence?.start ?? 0
            guard start + n <= l.maxPositions else {
                throw LoomError(.invalidInput, l.path, "positions \(start)..<\(start + n) exceed max_positions \(l.maxPositions)")
            }
        }
        let y = try rt.reserve(&out, x.count)
        try rt.run("loom_add_table_rows", over: x.count, [.pointer(y), .pointer(x.pointer), .pointer(rt.param(weightIndex)), .int(rows),
                                                           .int(position == nil ? 1 : n), .int(position == nil ? 0 : start), .int(d)])
        return DeviceTensor(pointer: y, shape: x.shape)
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let d = dy.shape.last!
        if position != nil {
            try rt.run("loom_position_grads", over: n * d, [.pointer(rt.grad(weightIndex)), .pointer(dy.pointer), .int(batch), .int(n), .int(start), .int(d)])
        } else {
            try rt.run("loom_column_sums", over: d, [.pointer(rt.grad(weightIndex)), .pointer(dy.pointer), .int(dy.count / d), .int(d)])
        }
        return dy
    }
}
