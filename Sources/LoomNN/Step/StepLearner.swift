import LoomCore

/// A sample that left the pipeline of a `StepLearner`: its tag, its output, and what learning from
/// it gave (the loss for `StepTrainer`, the tween report for `StepTweenTrainer`).
public struct StepCompleted<T: LoomFloat, Result> {
    public let tag: UInt64
    public let output: Tensor<T>
    public let result: Result
}

/// What the online learners on a pipeline share (`StepTrainer`, `StepTweenTrainer`): every tick
/// feeds one sample with its target under the next tag and advances the pipeline; the sample that
/// leaves it is learned from (`learn`, the subclass's method) with its own target.
public class StepLearner<T: LoomFloat, Target, Result> {
    public let state: StepState<T>
    var targets: [UInt64: Target] = [:]
    /// The tag the next sample gets (0, 1, 2, …).
    public private(set) var nextTag: UInt64 = 0

    init(state: StepState<T>) { self.state = state }

    /// Feeds `x` (tag `nextTag`) with its `target`, ticks the pipeline, and learns from the sample
    /// that completed, if any.
    @discardableResult
    public func tick(_ x: Tensor<T>, target: Target, context: ComputeContext = SerialContext(),
                     concurrent: Bool = false) throws(LoomError) -> StepCompleted<T, Result>? {
        try check(target)
        try state.setInput(x, tag: nextTag)
        targets[nextTag] = target
        nextTag += 1
        return try advance(context: context, concurrent: concurrent)
    }

    /// A tick without a new sample (drains the pipeline).
    @discardableResult
    public func flush(context: ComputeContext = SerialContext(), concurrent: Bool = false) throws(LoomError) -> StepCompleted<T, Result>? {
        try advance(context: context, concurrent: concurrent)
    }

    func advance(context: ComputeContext, concurrent: Bool) throws(LoomError) -> StepCompleted<T, Result>? {
        guard let (tag, y) = try state.stepForward(context: context, concurrent: concurrent) else { return nil }
        let target = targets.removeValue(forKey: tag)!
        return StepCompleted(tag: tag, output: y, result: try learn(tag: tag, output: y, target: target, context: context))
    }

    /// Refuses a target the learner could not learn from, when it is given (overridden).
    func check(_ target: Target) throws(LoomError) {}

    /// Learns from the completed sample `tag` (overridden).
    func learn(tag: UInt64, output: Tensor<T>, target: Target, context: ComputeContext) throws(LoomError) -> Result {
        fatalError("StepLearner.learn is overridden by each learner")
    }
}
