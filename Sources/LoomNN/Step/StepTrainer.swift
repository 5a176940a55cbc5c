import LoomCore

/// Online backpropagation on a pipeline (StepBP, docs/step.md): every `tick` takes one sample and
/// its target; when a sample leaves the last stage (L ticks later), its loss gradient runs back
/// through the activations that sample left in each layer (`StepState.stepBackward`), and every
/// `updateEvery` completed samples the optimizer applies the mean of their gradients. The
/// inference path never waits for a batch: each tick does one layer step per stage and at most one
/// sample's backward and update.
public final class StepTrainer<T: LoomFloat>: StepLearner<T, Tensor<T>, T> {
    public let optimizer: Optimizer<T>
    public let loss: LossKind
    public let updateEvery: Int
    public var learningRate: Double
    public var clip: GradientClip?
    var sinceUpdate = 0
    /// Optimizer updates applied so far.
    public private(set) var updates = 0

    public init(network: Network<T>, optimizer: OptimizerSpec, loss: LossKind, learningRate: Double? = nil,
                updateEvery: Int = 1, clip: GradientClip? = nil, stashLimit: Int = 1024, weightStashing: Bool = false) throws(LoomError) {
        guard updateEvery > 0 else { throw LoomError(.invalidArgument, "update_every", "must be positive, got \(updateEvery)") }
        self.optimizer = Optimizer(optimizer)
        self.loss = loss
        self.learningRate = learningRate ?? optimizer.lr
        self.updateEvery = updateEvery
        self.clip = clip
        super.init(state: try StepState(network, training: true, stashLimit: stashLimit, weightStashing: weightStashing))
        network.params.zeroGrads()
    }

    override func check(_ target: Tensor<T>) throws(LoomError) {
        _ = try Loss.validate(loss, target: target, output: [1] + state.network.outputShape, path: "step target")
    }

    /// The loss of the completed sample (`Loss.compute` on a batch of one; the target as it takes
    /// it), backpropagated through the sample's own activations; an update every `updateEvery`.
    override func learn(tag: UInt64, output y: Tensor<T>, target t: Tensor<T>, context: ComputeContext) throws(LoomError) -> T {
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
        return l
    }
}
