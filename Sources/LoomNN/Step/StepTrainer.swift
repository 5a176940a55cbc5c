import LoomCore

/// Online backpropagation on a pipeline (StepBP, docs/step.md): every `tick` takes one sample and
/// its target; when a sample leaves the last stage (L ticks later), its loss gradient runs back
/// through the activations that sample left in each layer (`StepState.stepBackward`), and every
/// `updateEvery` completed samples the optimizer applies the mean of their gradients. The
/// inference path never waits for a batch: each tick does one layer step per stage and at most one
/// sample's backward and update.
public final class StepTrainer<T: LoomFloat> {
    public let state: StepState<T>
    public let optimizer: Optimizer<T>
    public let loss: LossKind
    public let updateEvery: Int
    public var learningRate: Double
    public var clip: GradientClip?
    var targets: [UInt64: Tensor<T>] = [:]
    var sinceUpdate = 0
    public private(set) var nextTag: UInt64 = 0
    /// Optimizer updates applied so far.
    public private(set) var updates = 0

    /// What a tick completed: the sample that left the pipeline, its output and its loss.
    public struct Completed {
        public let tag: UInt64
        public let output: Tensor<T>
        public let loss: T
    }

    public init(network: Network<T>, optimizer: OptimizerSpec, loss: LossKind, learningRate: Double? = nil,
                updateEvery: Int = 1, clip: GradientClip? = nil, stashLimit: Int = 1024) throws(LoomError) {
        guard updateEvery > 0 else { throw LoomError(.invalidArgument, "update_every", "must be positive, got \(updateEvery)") }
        state = try StepState(network, training: true, stashLimit: stashLimit)
        self.optimizer = Optimizer(optimizer)
        self.loss = loss
        self.learningRate = learningRate ?? optimizer.lr
        self.updateEvery = updateEvery
        self.clip = clip
        network.params.zeroGrads()
    }

    /// Feeds `x` (tag `nextTag`) with its `target` (as `Loss.compute` takes it for a batch of one),
    /// ticks the pipeline, and trains on the sample that completed, if any.
    @discardableResult
    public func tick(_ x: Tensor<T>, target: Tensor<T>, context: ComputeContext = SerialContext(),
                     concurrent: Bool = false) throws(LoomError) -> Completed? {
        try state.setInput(x, tag: nextTag)
        targets[nextTag] = target
        nextTag += 1
        return try advance(context: context, concurrent: concurrent)
    }

    /// A tick without a new sample (drains the pipeline).
    @discardableResult
    public func flush(context: ComputeContext = SerialContext(), concurrent: Bool = false) throws(LoomError) -> Completed? {
        try advance(context: context, concurrent: concurrent)
    }

    func advance(context: ComputeContext, concurrent: Bool) throws(LoomError) -> Completed? {
        guard let (tag, y) = try state.stepForward(context: context, concurrent: concurrent) else { return nil }
        let t = targets.removeValue(forKey: tag)!
        var (l, g) = try Loss.compute(loss, output: y, target: t)
        guard l.isFinite else {
            throw LoomError(.nonFinite, "step training, sample \(tag)", "the loss became \(l.double); lower the learning rate or clip gradients")
        }
        if updateEvery > 1 {
            let inv = T(1.0 / Double(updateEvery))
            g = Tensor(uncheckedShape: g.shape, data: g.data.map { $0 * inv })
        }
        try state.stepBackward(tag: tag, outputGradient: g, context: context)
        sinceUpdate += 1
        if sinceUpdate == updateEvery {
            if let c = clip { c.apply(state.network.params) }
            optimizer.step(state.network.params, lr: learningRate, context: context)
            state.network.params.zeroGrads()
            sinceUpdate = 0
            updates += 1
        }
        return Completed(tag: tag, output: y, loss: l)
    }
}
