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
        if let l = layer as? SequentialLayer<T> { return try SequenceOp(l.layers, rt) }
        if let l = layer as? ResidualLayer<T> { return try ResidualOp(l, rt) }
        if let l = layer as? DenseLayer<T> { return DenseOp(l, rt) }
        if let l = layer as? ActivationLayer<T> { return ActivationOp(l.activation, rt) }
        if let l = layer as? ConvLayer<T> { return ConvOp(l, rt) }
        if let l = layer as? PoolLayer<T> { return PoolOp(l, rt) }
        if let l = layer as? GlobalAvgPoolLayer<T> { return GlobalAvgPoolOp(l, rt) }
        if let l = layer as? ReshapeLayer<T> { return ReshapeOp(l, rt) }
        if let l = layer as? NormLayer<T> { return NormOp(l, rt) }
        if let l = layer as? EmbeddingLayer<T> { return EmbeddingOp(l, rt) }
        if let l = layer as? DropoutLayer<T> { return DropoutOp(l, rt) }
        if let l = layer as? SoftmaxLayer<T> {
            switch l.variant {
            case .standard, .temperature, .masked, .grid: return try SoftmaxOp(l, rt)
            default: throw LoomError(.device, l.path, "softmax \(l.variant.name) has no device-resident kernels yet (products still run on the GPU)")
            }
        }
        throw LoomError(.device, layer.path.isEmpty ? layer.typeName : layer.path,
                        "\(layer.typeName) has no device-resident kernels yet (products still run on the GPU)")
    }
}

/// `SequentialLayer`: the children in order; backward in reverse.
final class SequenceOp<T: LoomFloat>: ResidentOp<T> {
    let ops: [ResidentOp<T>]
    init(_ layers: [Layer<T>], _ rt: ResidentRuntime<T>) throws(LoomError) {
        var ops = [ResidentOp<T>]()
        for l in layers { ops.append(try ResidentOp.make(l, rt)) }
        self.ops = ops
        super.init(rt)
    }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        var h = x
        for op in ops { h = try op.forward(h) }
        return h
    }
    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        var g = dy
        for op in ops.reversed() { g = try op.backward(g) }
        return g
    }
}

/// `ResidualLayer`: `y = x + block(x)`; `dx = dy + block'(dy)`.
final class ResidualOp<T: LoomFloat>: ResidentOp<T> {
    let block: SequenceOp<T>
    let sum: ResidentRuntime<T>.Formula
    var out: CUDABuffer?, dx: CUDABuffer?
    init(_ l: ResidualLayer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) {
        block = try SequenceOp(l.block.layers, rt)
        sum = rt.formula(ResidualLayer<T>.sumProgram)
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
        if let bi = layer.biasIndex {
            try rt.run("loom_fill_rows", over: rows * units, [.pointer(p), .pointer(rt.param(bi)), .int(rows), .int(units)])
        }
        try rt.gemm(GemmKernel.Shape(m: rows, n: units, k: inF, rsA: inF, csA: 1, rsB: 1, csB: inF, ldc: units,
                                     accumulate: layer.biasIndex != nil), a: x.pointer, b: rt.param(layer.weightIndex), c: p)
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
        try rt.gemm(GemmKernel.Shape(m: units, n: inF, k: rows, rsA: 1, csA: units, rsB: inF, csB: 1, ldc: inF, accumulate: true),
                    a: gp, b: x.pointer, c: rt.grad(layer.weightIndex))
        if let bi = layer.biasIndex {
            try rt.run("loom_column_sums", over: units, [.pointer(rt.grad(bi)), .pointer(gp), .int(rows), .int(units)])
        }
        let d = try rt.reserve(&dx, rows * inF)
        try rt.gemm(GemmKernel.Shape(m: rows, n: inF, k: units, rsA: units, csA: 1, rsB: inF, csB: 1, ldc: inF, accumulate: false),
                    a: gp, b: rt.param(layer.weightIndex), c: d)
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

/// `NormLayer` (layer norm, RMS norm): one thread per row; the weight gradient one thread per feature.
final class NormOp<T: LoomFloat>: ResidentOp<T> {
    let layer: NormLayer<T>
    var out: CUDABuffer?, xhat: CUDABuffer?, rstd: CUDABuffer?, dx: CUDABuffer?
    init(_ l: NormLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }
    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let f = layer.features, rows = x.count / f
        let y = try rt.reserve(&out, x.count), h = try rt.reserve(&xhat, x.count), r = try rt.reserve(&rstd, rows)
        try rt.run("loom_norm_forward", over: rows, [.pointer(y), .pointer(h), .pointer(r), .pointer(x.pointer),
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
        _ = try layer.tokenIDs(try rt.device.copyOut(x.pointer, count: x.count, as: T.self))
        let n = x.count * layer.dim
        let y = try rt.reserve(&out, n)
        try rt.run("loom_embedding_forward", over: n, [.pointer(y), .pointer(x.pointer), .pointer(rt.param(layer.weightIndex)),
                                                        .int(x.count), .int(layer.dim)])
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

/// `DropoutLayer`: in training, the layer's own mask (`mask(count:seed:step:)`, computed on the host
/// from Philox and uploaded), applied by its `maskProgram`; the identity otherwise.
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
        let m = try rt.upload(layer.mask(count: x.count, seed: rt.seed, step: rt.step), into: &mask)
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
