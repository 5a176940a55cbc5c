import LoomCore

/// StepTween and StepTweenChain (docs/tweening.md): Neural Tweening on the pipeline. Every tick
/// takes one sample and its target; when a sample leaves the last stage, its tween update (the
/// config's mode: `gapClosing` is StepTween, `chainRule` StepTweenChain) runs on the activations
/// and saved values that very sample left in each stage (`StepState`'s stash), not on a fresh
/// forward pass. One sample fed and drained at a time, it is exactly `TweenState.step` on that
/// sample (the tests check the weights bit for bit).
public final class StepTweenTrainer<T: LoomFloat> {
    public let state: StepState<T>
    public let tween: TweenState<T>
    var targets: [UInt64: TweenTarget<T>] = [:]
    public private(set) var nextTag: UInt64 = 0

    /// What a tick completed: the sample that left the pipeline, its output and its tween report.
    public struct Completed {
        public let tag: UInt64
        public let output: Tensor<T>
        public let report: TweenReport
    }

    public init(network: Network<T>, config: TweenConfig = TweenConfig(), stashLimit: Int = 1024) throws(LoomError) {
        guard !config.pruning else {
            throw LoomError(.invalidArgument, "tween.pruning", "pruning bypasses stages of whole passes (TweenState.step); the pipeline keeps every stage")
        }
        state = try StepState(network, training: true, stashLimit: stashLimit)
        tween = try TweenState(network, config: config)
    }

    /// Feeds `x` (tag `nextTag`) with its target, ticks, and tweens the sample that completed.
    @discardableResult
    public func tick(_ x: Tensor<T>, target: TweenTarget<T>, context: ComputeContext = SerialContext(),
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
        let target = targets.removeValue(forKey: tag)!
        let (pass, values) = try state.take(tag: tag, context: context)
        let report = try tween.update(activations: values, pass: pass, target: target, context: context)
        return Completed(tag: tag, output: y, report: report)
    }
}
