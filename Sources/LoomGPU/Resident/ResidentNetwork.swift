import LoomCore
import LoomNN

/// A network whose parameters, gradients, optimizer state and activations live on a GPU: a
/// `TrainingAccelerator` for `Trainer` (attach it with `trainer.accelerator = try
/// ResidentNetwork(…)`). Every layer runs as device kernels that repeat its CPU canonical order,
/// so each step's bits equal the host's; per step only the batch goes in and the output comes
/// out (the loss and its gradient are computed on the host by `Loss.compute`, from that output).
///
/// Built for native (f32, f64) and rounded (f16, bf16: the layers read a rounded copy of the master
/// parameters, values between layers are rounded, f16's loss scale is applied on the device) execution
/// of networks whose every layer has device kernels:
/// dense (with stitch and tied dense), activation, conv1d/conv2d, max/avg pooling, global average
/// pooling, flatten/reshape, softmax (every variant), layer and RMS norm,
/// embedding, position embedding, bias, dropout, swiglu, multi-head attention (with RoPE), rnn, lstm,
/// gru, kmeans, parallel (every combine mode), sequential and residual blocks. Anything else is a `device` error
/// naming the layer; `CUDAContext` still runs such networks' products on the GPU.
public final class ResidentNetwork<T: LoomFloat>: TrainingAccelerator<T> {
    public let network: Network<T>
    let rt: ResidentRuntime<T>
    let root: ResidentOp<T>
    var input: CUDABuffer?, outputGrad: CUDABuffer?
    var slots: [CUDABuffer] = []
    var slotSpec: OptimizerSpec? = nil
    var update: ResidentRuntime<T>.Formula? = nil
    let clamp: ResidentRuntime<T>.Formula
    let scale: ResidentRuntime<T>.Formula
    var partials: CUDABuffer?, offsetTable: CUDABuffer?, nonFinite: CUDABuffer?

    public init(_ network: Network<T>, device: CUDADevice) throws(LoomError) {
        guard !network.params.hasExternal else {
            throw LoomError(.device, "weights", "GGUF block weights do not run device-resident yet")
        }
        self.network = network
        rt = try ResidentRuntime(device: device, store: network.params, seed: network.spec.seed, execution: network.execution)
        root = try SequenceOp(network.root, rt)
        clamp = rt.formula(GradientClip.clampProgram)
        scale = rt.formula(GradientClip.scaleProgram)
        super.init()
    }

    /// Per-kernel wall times (each launch waited for), when `profiling` is on.
    public var profiling: Bool {
        get { rt.profile != nil }
        set { rt.profile = newValue ? [:] : nil }
    }

    /// The profile as lines `seconds calls key`, slowest first.
    public var profileLines: [String] { rt.profileLines }

    public override var name: String { "cuda:\(rt.device.index) \(rt.device.name), resident" }

    /// Forward on the device; the output stays there.
    func deviceForward(_ x: Tensor<T>) throws(LoomError) -> DeviceTensor {
        try network.validateInput(x)
        let p = try rt.reserve(&input, x.count)
        try x.data.withUnsafeBufferPointer { (b) throws(LoomError) in try rt.device.copyIn(b, to: p) }
        rt.hostInput = (p, x.data)
        return try root.forward(DeviceTensor(pointer: p, shape: x.shape))
    }

    func download(_ y: DeviceTensor) throws(LoomError) -> Tensor<T> {
        Tensor(uncheckedShape: y.shape, data: try rt.device.copyOut(y.pointer, count: y.count, as: T.self))
    }

    public override func forward(_ x: Tensor<T>) throws(LoomError) -> Tensor<T> {
        rt.training = false
        return try download(try deviceForward(x))
    }

    public override func computeGradients(_ x: Tensor<T>, _ t: Tensor<T>, loss: LossKind, step: UInt64,
                                          gradientScale: T) throws(LoomError) -> (loss: T, output: Tensor<T>) {
        try rt.zero(rt.grads.pointer, rt.total)
        rt.training = true
        rt.step = step
        let yd = try deviceForward(x)
        let y = try download(yd)
        var (l, g) = try Loss.compute(loss, output: y, target: t)
        if gradientScale != 1 { g = Tensor(uncheckedShape: g.shape, data: g.data.map { $0 * gradientScale }) }
        let gp = try rt.reserve(&outputGrad, g.count)
        try g.data.withUnsafeBufferPointer { (b) throws(LoomError) in try rt.device.copyIn(b, to: gp) }
        _ = try root.backward(DeviceTensor(pointer: gp, shape: y.shape))
        return (l, y)
    }

    public override func unscale(_ lossScale: inout LossScale) throws(LoomError) -> Bool {
        let flag = try rt.reserveBytes(&nonFinite, 4)
        try rt.device.zero(flag, bytes: 4)
        try rt.run("loom_flag_nonfinite", over: rt.total, [.pointer(flag), .pointer(rt.grads.pointer), .int(rt.total)])
        let finite = try rt.device.copyOut(flag, count: 1, as: Int32.self)[0] == 0
        if finite { try rt.run(scale, n: rt.total, inputs: [rt.grads.pointer], outputs: [rt.grads.pointer], scalars: [lossScale.inverse()]) }
        return lossScale.record(finite: finite)
    }

    public override func update(clip: GradientClip?, optimizer: Optimizer<T>, lr: Double) throws(LoomError) {
        let store = network.params
        switch clip {
        case .value(let v)?:
            try rt.run(clamp, n: rt.total, inputs: [rt.grads.pointer], outputs: [rt.grads.pointer], scalars: [-T(v), T(v)])
        case .norm(let maxNorm)?:
            if let c = GradientClip.normScale(maxNorm: maxNorm, sumsOfSquares: try sumsOfSquares()) {
                try rt.run(scale, n: rt.total, inputs: [rt.grads.pointer], outputs: [rt.grads.pointer], scalars: [T(c)])
            }
        case nil: break
        }
        try prepareSlots(optimizer)
        let spec = optimizer.spec, program = update!.program
        // Neighbouring parameters with the same update number share every scalar: one launch per
        // run of them over the arenas (usually one per step).
        var runs = [(first: Int, last: Int, k: Int, isFirst: Bool)]()
        for (pi, k, first) in optimizer.advance(store) {
            if let r = runs.last, r.last == pi - 1, r.k == k, r.isFirst == first { runs[runs.count - 1].last = pi } else { runs.append((pi, pi, k, first)) }
        }
        for r in runs {
            let start = rt.offsets[r.first], n = rt.offsets[r.last + 1] - start
            let offset = CUdeviceptr(start * rt.size)
            var pointers = [CUdeviceptr]()
            for name in program.inputs + program.outputs {
                switch name {
                case "p": pointers.append(rt.params.pointer + offset)
                case "g": pointers.append(rt.grads.pointer + offset)
                default: pointers.append(slots[spec.slotNames.firstIndex(of: name)!].pointer + offset)
                }
            }
            try rt.run(update!, n: n, inputs: Array(pointers[0..<program.inputs.count]),
                       outputs: Array(pointers[program.inputs.count...]), scalars: spec.updateScalars(lr: lr, step: r.k, first: r.isFirst))
        }
        try rt.refreshView()
    }

    /// Each parameter's Double fma chain of squared gradients, in registry order.
    func sumsOfSquares() throws(LoomError) -> [Double] {
        let count = rt.offsets.count - 1
        if offsetTable == nil {
            offsetTable = try CUDABuffer(rt.device, bytes: rt.offsets.count * 8)
            let table = rt.offsets.map { Int64($0) }
            try table.withUnsafeBufferPointer { (b) throws(LoomError) in try rt.device.copyIn(b, to: offsetTable!.pointer) }
            partials = try CUDABuffer(rt.device, bytes: Swift.max(count, 1) * 8)
        }
        try rt.run("loom_sum_squares", over: count, [.pointer(partials!.pointer), .pointer(rt.grads.pointer),
                                                     .pointer(offsetTable!.pointer), .int(count)])
        return try rt.device.copyOut(partials!.pointer, count: count, as: Double.self)
    }

    /// The optimizer's state arenas (one per slot, every parameter at its offset): zeros, or the
    /// optimizer's host state when it has some.
    func prepareSlots(_ optimizer: Optimizer<T>) throws(LoomError) {
        if slotSpec == optimizer.spec { return }
        slots = []
        for s in 0..<optimizer.spec.slotNames.count {
            let b = try CUDABuffer(rt.device, bytes: rt.total * rt.size)
            try rt.zero(b.pointer, rt.total)
            if optimizer.slots.count == network.params.count {
                for pi in 0..<network.params.count {
                    try optimizer.slots[pi][s].data.withUnsafeBufferPointer { (v) throws(LoomError) in
                        try rt.device.copyIn(v, to: b.pointer + CUdeviceptr(rt.offsets[pi] * rt.size))
                    }
                }
            }
            slots.append(b)
        }
        update = rt.formula(optimizer.spec.updateProgram)
        slotSpec = optimizer.spec
    }

    public override func finish() throws(LoomError) { try rt.device.synchronize() }

    public override func synchronize(optimizer: Optimizer<T>) throws(LoomError) {
        let store = network.params
        let values = try rt.device.copyOut(rt.params.pointer, count: rt.total, as: T.self)
        let grads = try rt.device.copyOut(rt.grads.pointer, count: rt.total, as: T.self)
        for i in 0..<store.count {
            let r = rt.offsets[i]..<rt.offsets[i + 1]
            store.values[i] = Tensor(uncheckedShape: store.values[i].shape, data: Array(values[r]))
            store.grads[i] = Tensor(uncheckedShape: store.values[i].shape, data: Array(grads[r]))
        }
        guard slotSpec == optimizer.spec else { return }
        optimizer.allocateSlots(store)
        for (s, b) in slots.enumerated() {
            let all = try rt.device.copyOut(b.pointer, count: rt.total, as: T.self)
            for i in 0..<store.count {
                optimizer.slots[i][s] = Tensor(uncheckedShape: store.values[i].shape, data: Array(all[rt.offsets[i]..<rt.offsets[i + 1]]))
            }
        }
    }
}
