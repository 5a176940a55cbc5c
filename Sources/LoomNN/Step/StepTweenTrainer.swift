import LoomCore

/// StepTween and StepTweenChain (docs/tweening.md): Neural Tweening on the pipeline. Every tick
/// takes one sample and its target; when a sample leaves the last stage, its tween update (the
/// config's mode: `gapClosing` is StepTween, `chainRule` StepTweenChain) runs on the activations
/// and saved values that very sample left in each stage (`StepState`'s stash), not on a fresh
/// forward pass. One sample fed and drained at a time, it is exactly `TweenState.step` on that
/// sample (the tests check the weights bit for bit).
public final class StepTweenTrainer<T: LoomFloat>: StepLearner<T, TweenTarget<T>, TweenReport> {
    public let tween: TweenState<T>

    public init(network: Network<T>, config: TweenConfig = TweenConfig(), stashLimit: Int = 1024, weightStashing: Bool = false) throws(LoomError) {
        guard !config.pruning else {
            throw LoomError(.invalidArgument, "tween.pruning", "pruning bypasses stages of whole passes (TweenState.step); the pipeline keeps every stage")
        }
        tween = try TweenState(network, config: config)
        super.init(state: try StepState(network, training: true, stashLimit: stashLimit, weightStashing: weightStashing))
    }

    override func check(_ target: TweenTarget<T>) throws(LoomError) {
        _ = try tween.targetTensor(target, shape: [1] + state.network.outputShape)
    }

    /// The tween update of the completed sample, on the activations it left in each stage.
    override func learn(tag: UInt64, output: Tensor<T>, target: TweenTarget<T>, context: ComputeContext) throws(LoomError) -> TweenReport {
        let (passes, values) = try state.take(tag: tag, context: context)
        return try tween.update(activations: values, passes: passes, target: target, context: context)
    }
}
