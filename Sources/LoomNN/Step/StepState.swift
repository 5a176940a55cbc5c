import LoomCore

/// Step-based (pipelined) execution of a network (docs/step.md): the network's top-level layers
/// are the stages of a pipeline, and each `stepForward` is one tick in which every stage holding a
/// sample advances it by one layer, all stages at once (each reads what the previous stage wrote
/// on the previous tick). A sample given to `setInput` before tick t leaves the last stage at the
/// end of tick t + L − 1: the latency is `L` ticks (`latency`, the number of top-level layers).
///
/// Unlike the original's StepForward, a sample keeps its identity through the pipeline: it carries
/// its `tag`, and every stage runs it in a pass of its own (dropout's stream is the tag), so the
/// output for a tag is exactly `Network.forward` of that sample (bit for bit, for any thread count
/// and with `concurrent` stages), and in training mode what each layer saved for its backward is
/// stashed per tag: `stepBackward(tag:)` runs backward through that very sample's activations.
/// Weights are read when a stage runs; with updates between a sample's entry and its backward
/// (online training, `StepTrainer`) the forward saw the weights of each tick. With
/// `weightStashing`, each stage's backward uses the weights that stage read for that sample, so
/// the gradient is exactly that of the function the sample went through; without it, the current
/// weights — the usual asynchronous-pipeline approximation (docs/step.md). Without updates in
/// between, both equal the batch-of-one gradients bit for bit.
public final class StepState<T: LoomFloat> {
    public let network: Network<T>
    /// Training mode: dropout is active and each sample's saved values are kept for `stepBackward`.
    public let training: Bool
    /// Completed samples whose activations are kept for `stepBackward` at most (oldest dropped first).
    public let stashLimit: Int
    /// Each stage's backward uses the weights it read for that sample (PipeDream's weight
    /// stashing): a version of the weights is kept, copy-on-write, per sample per stage in flight.
    public let weightStashing: Bool
    let stages: [Layer<T>]
    /// slots[i]: the sample waiting for stage i this tick.
    var slots: [Sample?]
    var stash: [UInt64: Stashed] = [:]
    var stashOrder: [UInt64] = []
    public private(set) var ticks: UInt64 = 0
    /// The sample that left the last stage on the last tick.
    public private(set) var output: (tag: UInt64, value: Tensor<T>)? = nil
    var everFed = false

    struct Sample {
        let tag: UInt64
        var value: Tensor<T>
        /// saved[layer.id] for the layers this sample has passed (training only).
        var saved: [[Tensor<T>]]
        /// The values between stages so far, a₀ (the input) … (training only).
        var values: [Tensor<T>]
        /// The weights (execution view: values and integer codes) each stage read (weight stashing).
        var weights: [Weights] = []
    }

    typealias Weights = (values: [Tensor<T>], codes: [QuantizedRows?])

    /// What a sample that left the pipeline keeps for its backward (or a tween update).
    struct Stashed {
        let saved: [[Tensor<T>]]
        let values: [Tensor<T>]
        let weights: [Weights]
    }

    public init(_ network: Network<T>, training: Bool = false, stashLimit: Int = 1024, weightStashing: Bool = false) throws(LoomError) {
        guard stashLimit > 0 else { throw LoomError(.invalidArgument, "stash_limit", "must be positive, got \(stashLimit)") }
        guard training || !weightStashing else {
            throw LoomError(.invalidArgument, "weight_stashing", "keeps weights for backward; it needs a training state")
        }
        if training && network.params.hasExternal {
            throw LoomError(.invalidArgument, "training", "this network's weights are GGUF blocks in a mapped file (inference only); load it dequantized to train")
        }
        self.network = network
        self.training = training
        self.stashLimit = stashLimit
        self.weightStashing = weightStashing
        stages = network.root.layers
        slots = [Sample?](repeating: nil, count: stages.count)
    }

    /// Ticks from `setInput` to the sample's output (the number of top-level layers).
    public var latency: Int { stages.count }

    /// The tag of the sample waiting for each stage (nil: the stage idles this tick).
    public var occupancy: [UInt64?] { slots.map { $0?.tag } }

    /// Puts one sample (`inputShape`, or `[1] + inputShape`) before the first stage; it enters at
    /// the next tick. Errors: a wrong shape or non-finite value, a first stage already holding a
    /// sample (tick first), a tag already in flight or stashed.
    public func setInput(_ x: Tensor<T>, tag: UInt64) throws(LoomError) {
        let shape = x.shape == network.inputShape ? [1] + x.shape : x.shape
        let sample = Tensor(uncheckedShape: shape, data: x.data)
        guard shape.count == network.inputShape.count + 1, shape[0] == 1, Array(shape.dropFirst()) == network.inputShape else {
            throw LoomError(.shapeMismatch, "step input", "expected one sample \(Tensor<T>.describe(network.inputShape)), got \(Tensor<T>.describe(x.shape))")
        }
        try network.validateInput(sample)
        if let waiting = slots.first ?? nil {
            throw LoomError(.invalidArgument, "step input", "the first stage already holds sample \(waiting.tag); call stepForward before the next setInput")
        }
        if slots.contains(where: { $0?.tag == tag }) || stash[tag] != nil {
            throw LoomError(.invalidArgument, "step input", "tag \(tag) is already in the pipeline or stashed; tags must be unique")
        }
        var h = sample
        let exec = network.execution
        if !exec.isNative && !(stages.first is EmbeddingLayer<T>) { exec.roundActivation(&h, SerialContext()) }
        slots[0] = Sample(tag: tag, value: h, saved: training ? [[Tensor<T>]](repeating: [], count: network.layerCount) : [],
                          values: training ? [h] : [])
        everFed = true
    }

    /// One tick: every stage holding a sample runs its layer on it (in a pass of its own, the
    /// weights as they are now), all from the previous tick's buffers. With `concurrent`, the
    /// stages run as parallel tasks of `context` (each stage's layer then computes on one
    /// thread); the results are the same bits either way. Returns the sample that left the last
    /// stage, if any (also kept in `output`). Error: ticking a state that was never given an input.
    @discardableResult
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func stepForward(context: ComputeContext = SerialContext(), concurrent: Bool = false) throws(LoomError) -> (tag: UInt64, value: Tensor<T>)? {
        guard everFed else {
            throw LoomError(.invalidArgument, "step", "the pipeline has never been given an input: feed a sample (setInput, or a tick with one) before ticking without one")
        }
        let exec = network.execution
        let view = exec.view(of: network.params, context)
        let active = (0..<stages.count).filter { slots[$0] != nil }
        var results = [Result<Sample, LoomError>?](repeating: nil, count: stages.count)
        func run(_ i: Int, _ ctx: ComputeContext) -> Result<Sample, LoomError> {
            var s = slots[i]!
            let pass = Pass(context: ctx, master: network.params, view: view, training: training, layerCount: network.layerCount,
                            seed: network.spec.seed, step: s.tag, dropout: true, execution: exec)
            do throws(LoomError) {
                var h = try stages[i].forward(s.value, pass)
                exec.roundActivation(&h, ctx)
                s.value = h
                // What the stage's layers saved (only they write to this pass).
                if training {
                    for (id, v) in pass.saved.enumerated() where !v.isEmpty { s.saved[id] = v }
                    s.values.append(h)
                    if weightStashing { s.weights.append((view.0.values, view.1)) }
                }
                return .success(s)
            } catch {
                return .failure(error)
            }
        }
        if concurrent && active.count > 1 {
            results.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                context.parallelRanges(active.count, minChunk: 1) { r in
                    for j in r { base[active[j]] = run(active[j], SerialContext()) }
                }
            }
        } else {
            for i in active { results[i] = run(i, context) }
        }
        var next = [Sample?](repeating: nil, count: stages.count)
        var done: Sample? = nil
        for i in active {
            switch results[i]! {
            case .failure(let e): throw e
            case .success(let s): if i + 1 < stages.count { next[i + 1] = s } else { done = s }
            }
        }
        slots = next
        ticks += 1
        guard let d = done else { return nil }
        if training { keep(d.tag, Stashed(saved: d.saved, values: d.values, weights: d.weights)) }
        output = (d.tag, d.value)
        return output
    }

    func keep(_ tag: UInt64, _ s: Stashed) {
        stash[tag] = s
        stashOrder.append(tag)
        while stashOrder.count > stashLimit { stash[stashOrder.removeFirst()] = nil }
    }

    /// The value the sample waiting for stage `i` carries (its input to layer i), with its tag.
    public func stageInput(_ i: Int) throws(LoomError) -> (tag: UInt64, value: Tensor<T>)? {
        guard i >= 0 && i < stages.count else {
            throw LoomError(.invalidArgument, "stage", "stage \(i) does not exist (the network has \(stages.count) stages)")
        }
        return slots[i].map { ($0.tag, $0.value) }
    }

    /// Tags whose activations are stashed for `stepBackward`, oldest first.
    public var stashedTags: [UInt64] { stashOrder }

    /// Backward for the sample `tag` (its output reached the end of the pipeline): `dy` is dL/dy
    /// for its output (`[1] + outputShape`, or `outputShape`). Adds dL/dθ into
    /// `network.params.grads` through the activations that sample left in each layer, and returns
    /// dL/dx. The stash entry is used up. Errors: an inference state, a tag with nothing stashed
    /// (not yet at the output, already used, or dropped past `stashLimit`), a wrong shape.
    @discardableResult
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func stepBackward(tag: UInt64, outputGradient dy: Tensor<T>, context: ComputeContext = SerialContext()) throws(LoomError) -> Tensor<T> {
        guard training else {
            throw LoomError(.invalidArgument, "step backward", "this StepState runs inference; create it with training: true")
        }
        let outShape = network.outputShape
        let shape = dy.shape == outShape ? [1] + outShape : dy.shape
        guard shape == [1] + outShape else {
            throw LoomError(.shapeMismatch, "step backward", "expected the gradient of one output \(Tensor<T>.describe(outShape)), got \(Tensor<T>.describe(dy.shape))")
        }
        let (passes, _) = try take(tag: tag, context: context)
        let exec = network.execution
        var g = Tensor(uncheckedShape: shape, data: dy.data)
        for i in stages.indices.reversed() {
            exec.roundGradient(&g, context)
            g = passes.backward(stages[i], stage: i, g)
        }
        exec.roundGradient(&g, context)
        passes.commit()
        return g
    }

    /// Takes `tag`'s stash: the training passes holding what its layers saved (the weights as
    /// they are now, or as each stage read them with weight stashing; dropout's stream the tag),
    /// and the values between its stages.
    func take(tag: UInt64, context: ComputeContext) throws(LoomError) -> (StagePasses<T>, [Tensor<T>]) {
        guard let s = stash.removeValue(forKey: tag) else {
            throw LoomError(.invalidArgument, "step backward", "tag \(tag) has no stashed activations (not yet at the output, already used, or dropped past the stash limit of \(stashLimit))")
        }
        stashOrder.removeAll { $0 == tag }
        let exec = network.execution
        func pass(_ view: (ParameterStore<T>, [QuantizedRows?])) -> Pass<T> {
            let p = Pass(context: context, master: network.params, view: view, training: true,
                         layerCount: network.layerCount, seed: network.spec.seed, step: tag, dropout: true, execution: exec)
            p.saved = s.saved
            return p
        }
        if weightStashing {
            let passes = s.weights.map { w in pass((network.params.copy(values: w.values, grads: []), w.codes)) }
            return (StagePasses(master: network.params, perStage: passes), s.values)
        }
        let p = pass(exec.view(of: network.params, context))
        if p.params !== network.params { p.params.grads = network.params.grads }
        return (StagePasses(shared: p), s.values)
    }
}
