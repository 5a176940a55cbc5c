import LoomCore

/// A built network: the IR, its layers with every shape known, and its parameters.
///
/// `forward` is a pure function of (IR, weights, input): no state changes, so it may be called
/// from several threads at once. Training goes through `Pass` objects (`trainingPass`).
public final class Network<T: LoomFloat> {
    public let spec: NetworkSpec
    public let params: ParameterStore<T>
    public let root: SequentialLayer<T>
    let layerCount: Int
    /// Σ over every layer of its output's and workspace's elements for one sample (nil: more than `Int` holds).
    let activationElementsPerSample: Int?

    /// Builds the network, initialising every parameter from `spec.seed` (with `materialize:
    /// false`, parameters are shape-only placeholders that a loader must fill before any pass).
    public init(_ spec: NetworkSpec, materialize: Bool = true) throws(LoomError) {
        guard Execution.computeType(of: spec.dtype) == T.dtype else {
            throw LoomError(.invalidIR, "dtype", "a \(spec.dtype.name) network computes in \(Execution.computeType(of: spec.dtype).name), but was built as \(T.dtype.name)")
        }
        guard !spec.inputShape.isEmpty, spec.inputShape.allSatisfy({ $0 > 0 }) else {
            throw LoomError(.invalidIR, "input.shape", "must be a non-empty list of positive sizes")
        }
        guard !spec.layers.isEmpty else { throw LoomError(.invalidIR, "layers", "must not be empty") }
        _ = try Builder<T>.checkedCount(spec.inputShape, path: "input.shape", what: "one sample")
        if materialize { try Network.checkParameterBytes(spec) }
        self.spec = spec
        let params = ParameterStore<T>()
        params.materialize = materialize
        var builder = Builder<T>(params: params, seed: spec.seed)
        root = try builder.buildSequence(spec.layers, path: "", name: "", listKey: "layers",
                                         input: spec.inputShape, kind: "network")
        layerCount = builder.nextID
        activationElementsPerSample = Network.activationElements(root)
        params.materialize = true
        self.params = params
        for (i, prefix) in (spec.training?.freeze ?? []).enumerated() where params.setFrozen(true, prefix: prefix) == 0 {
            throw LoomError(.invalidIR, "training.freeze[\(i)]", "\"\(prefix)\" names no parameter (a prefix is whole path components, e.g. \"layers.0\")")
        }
    }

    /// Refuses, before anything is allocated, a network whose parameters and gradients would not
    /// fit the memory budget (`Limits.memoryBytes`; a shape-only build sizes them), so a too-large
    /// IR is an error instead of an allocation failure that kills the host.
    static func checkParameterBytes(_ spec: NetworkSpec) throws(LoomError) {
        let probe = try Network(spec, materialize: false)
        try Limits.checkMemory(probe.parameterBytes, for: "the parameters and their gradients", path: "layers", kind: .invalidIR)
    }

    /// Bytes of every parameter and its gradient (nil: more than `Int` holds), from shapes alone.
    public var parameterBytes: Int? {
        var bytes = 0
        for v in params.values {
            guard let n = Limits.product(v.shape + [2 * MemoryLayout<T>.stride]), let b = Limits.sum(bytes, n) else { return nil }
            bytes = b
        }
        return bytes
    }

    /// Bytes of the values every layer outputs or keeps (`Layer.workspaceElementsPerSample`) in
    /// one pass over `batch` samples (what a training pass holds for backward; nil: more than
    /// `Int` holds), from shapes alone. `validateInput`
    /// checks it against the memory budget, so a batch too large for the machine is an error.
    public func activationBytes(batch: Int) -> Int? {
        guard let perSample = activationElementsPerSample, let n = Limits.product([perSample, batch, MemoryLayout<T>.stride]) else { return nil }
        return n
    }

    /// Σ over every layer under `root` (itself included) of its output's and its workspace's
    /// elements for one sample.
    static func activationElements(_ root: Layer<T>) -> Int? {
        var n: Int? = Limits.product(root.outputShape).flatMap { o in root.workspaceElementsPerSample.flatMap { Limits.sum(o, $0) } }
        for c in root.children {
            guard let a = n, let e = activationElements(c) else { return nil }
            n = Limits.sum(a, e)
        }
        return n
    }

    /// How passes compute in the network's dtype (`Execution`).
    public var execution: Execution { Execution(spec.dtype) }

    /// A pass over this network's parameters in its execution.
    func makePass(context: ComputeContext, training: Bool, step: UInt64 = 0, dropout: Bool = true) -> Pass<T> {
        Pass(context: context, params: params, training: training, layerCount: layerCount, seed: spec.seed, step: step,
             dropout: dropout, execution: execution)
    }

    public var inputShape: [Int] { spec.inputShape }
    public var outputShape: [Int] { root.outputShape }

    /// Checks that `x` is `[batch] + inputShape` with finite values.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func validateInput(_ x: Tensor<T>) throws(LoomError) {
        guard x.rank == inputShape.count + 1, Array(x.shape.dropFirst()) == inputShape, x.batch > 0 else {
            throw LoomError(.shapeMismatch, "input", "expected [batch, \(inputShape.map { String($0) }.joined(separator: ", "))], got \(Tensor<T>.describe(x.shape))")
        }
        try Limits.checkMemory(activationBytes(batch: x.batch), for: "a pass over \(x.batch) samples", path: "input")
        if let i = x.firstNonFinite {
            throw LoomError(.nonFinite, "input", "value \(x.data[i].double) at index \(i) (sample \(i / Swift.max(1, x.count / x.batch)))")
        }
    }

    /// Inference: `[batch] + inputShape` → `[batch] + outputShape`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func forward(_ x: Tensor<T>, context: ComputeContext = SerialContext()) throws(LoomError) -> Tensor<T> {
        try validateInput(x)
        return try root.forward(x, makePass(context: context, training: false))
    }

    /// A pass in training mode (dropout active, values saved for backward).
    /// `dropout: false` records for backward but keeps dropout off (inference semantics).
    public func trainingPass(context: ComputeContext, step: UInt64, dropout: Bool = true) -> Pass<T> {
        makePass(context: context, training: true, step: step, dropout: dropout)
    }

    /// Training-mode forward on `pass`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func forward(_ x: Tensor<T>, pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        try validateInput(x)
        if pass.training && params.hasExternal {
            throw LoomError(.invalidArgument, "training", "this network's weights are GGUF blocks in a mapped file (inference only); load it dequantized to train")
        }
        return try root.forward(x, pass)
    }

    /// Backward through the whole network: adds dL/dθ into `params.grads` and returns dL/dx.
    /// (In rounded and quantized execution the gradient with respect to the executed parameter
    /// values is the master parameters' gradient: straight through the rounding.)
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func backward(_ dy: Tensor<T>, pass: Pass<T>) -> Tensor<T> {
        let dx = root.backward(dy, pass)
        pass.commitGradients()
        return dx
    }

    /// Zeroes the gradients, runs forward and backward for `loss`, and returns the loss and output.
    /// `gradientScale` multiplies the loss gradient before backward (f16 loss scaling; a power of two).
    public func computeGradients(_ x: Tensor<T>, target: Tensor<T>, loss: LossKind, context: ComputeContext,
                                 step: UInt64, gradientScale: T = 1) throws(LoomError) -> (loss: T, output: Tensor<T>) {
        params.zeroGrads()
        let pass = trainingPass(context: context, step: step)
        let y = try forward(x, pass: pass)
        var (l, g) = try Loss.compute(loss, output: y, target: target)
        if gradientScale != 1 { g = Tensor(uncheckedShape: g.shape, data: g.data.map { $0 * gradientScale }) }
        _ = backward(g, pass: pass)
        return (l, y)
    }

    /// Every layer, depth first (containers before their children).
    public var allLayers: [Layer<T>] {
        var out = [Layer<T>]()
        func walk(_ l: Layer<T>) { out.append(l); for c in l.children { walk(c) } }
        for l in root.layers { walk(l) }
        return out
    }

    /// Replaces parameter values by name (shapes must match; values must be finite).
    public func setParameter(_ name: String, _ value: Tensor<T>) throws(LoomError) {
        guard let i = params.index(of: name) else {
            throw LoomError(.invalidModel, name, "the network has no parameter of this name")
        }
        guard params.values[i].shape == value.shape else {
            throw LoomError(.shapeMismatch, name, "expected \(Tensor<T>.describe(params.values[i].shape)), got \(Tensor<T>.describe(value.shape))")
        }
        if let j = value.firstNonFinite {
            throw LoomError(.nonFinite, name, "value \(value.data[j].double) at index \(j)")
        }
        params.values[i] = value
    }
}
