import LoomCore

/// How Neural Tweening moves the weights (docs/tweening.md, with the math).
public enum TweenMode: String, Sendable, CaseIterable {
    /// Target propagation: each stage closes the gap between its output and a target; the target
    /// of its input is its activation moved, by the same distance as the output gap, in the
    /// direction the stage's backward gives (first-order gap closing).
    case gapClosing = "gap_closing"
    /// Chain rule: the output gap (target − output) propagated through every stage's backward,
    /// amplified with depth and clipped; updates clipped and budget-gated.
    case chainRule = "chain_rule"
}

/// The knobs of `TweenState` (docs/tweening.md); the defaults are the original's where it had one.
public struct TweenConfig: Sendable, Equatable {
    public var mode: TweenMode = .chainRule
    /// The base rate of every update.
    public var rate: Double = 0.01
    /// EMA momentum: `v = μ·v + (1 − μ)·Δ`, `θ += v`.
    public var momentum: Double = 0.9
    /// Stages whose link budget is below this are not updated this step.
    public var ignoreThreshold: Double = 0.2
    /// How much the link budget scales a stage's rate: `(1 − s) + s·budget`.
    public var linkBudgetScale: Double = 0.5
    /// Multiply each stage's rate by the depth barrier (the product of the budgets from the output
    /// down to it).
    public var depthBarrier: Bool = false
    /// Chain rule: the signal is multiplied by `depthScaleFactor^d` at distance d from the output
    /// (d > 10: `factor^10 · (1 + ln(d − 9))`), capped at 100.
    public var depthScaleFactor: Double = 1.2
    /// Chain rule: every propagated signal value is clipped to ±signalClip (NaN/inf become 0).
    public var signalClip: Double = 10
    /// Chain rule: every weight change is clipped to ±updateClip before momentum.
    public var updateClip: Double = 1
    /// Chain rule: the stage targets used for link budgets are `a + gradientScale·g`.
    public var gradientScale: Double = 0.1
    /// Per layer type rate factors (by `Layer.typeName`); types not listed use 1.
    public var typeRates: [String: Double] = ["rnn": 0.5, "lstm": 0.5, "gru": 0.5, "multi_head_attention": 0.2, "swiglu": 0.2,
                                              "layer_norm": 0.1, "rms_norm": 0.1, "conv1d": 0.1, "conv2d": 0.1, "embedding": 0.1]
    /// Explosion detection: the mean gap is watched; a jump (growth > 1.5, or over 10× the mean of
    /// the first 10 steps) multiplies the adaptive rate by 0.7 (0.5 after 5 such steps in a row,
    /// 0.3 after 10; at least 0.01), a calm step by 1.05 (at most 1).
    public var explosionDetection: Bool = false
    /// Pruning: a shape-preserving stage whose budget stays below `pruneThreshold` for
    /// `prunePatience` steps in a row is bypassed from then on (`pruned`, `prunedNetwork()`).
    public var pruning: Bool = false
    public var pruneThreshold: Double = 0.1
    public var prunePatience: Int = 10

    public init(mode: TweenMode = .chainRule) { self.mode = mode }

    /// Refuses settings no tween step can run with; errors name `path.field`.
    public func validate(path: String) throws(LoomError) {
        func bad(_ field: String, _ why: String) -> LoomError { LoomError(.invalidArgument, "\(path).\(field)", why) }
        guard rate > 0, rate.isFinite else { throw bad("rate", "must be positive and finite, got \(rate)") }
        guard momentum >= 0, momentum < 1 else { throw bad("momentum", "must be in [0, 1), got \(momentum)") }
        guard linkBudgetScale >= 0, linkBudgetScale <= 1 else { throw bad("link_budget_scale", "must be in [0, 1], got \(linkBudgetScale)") }
        guard depthScaleFactor > 0 else { throw bad("depth_scale_factor", "must be positive, got \(depthScaleFactor)") }
        guard signalClip > 0 else { throw bad("signal_clip", "must be positive, got \(signalClip)") }
        guard updateClip > 0 else { throw bad("update_clip", "must be positive, got \(updateClip)") }
        guard gradientScale.isFinite else { throw bad("gradient_scale", "must be finite, got \(gradientScale)") }
        guard prunePatience > 0 else { throw bad("prune_patience", "must be positive, got \(prunePatience)") }
        for (k, v) in typeRates where !(v >= 0 && v.isFinite) { throw bad("type_rates.\(k)", "must be non-negative and finite, got \(v)") }
    }

    func typeRate(_ typeName: String) -> Double { typeRates[typeName] ?? 1 }

    func depthScale(_ d: Int) -> Double {
        var s = 1.0
        for _ in 0..<Swift.min(d, 10) { s *= depthScaleFactor }
        if d > 10 { s *= 1 + DetMath.log(Double(d - 9)) }
        return Swift.min(s, 100)
    }
}

/// What a tween step is aimed at: class indices (one per row of the output's last axis: the
/// target is one-hot) or target values (the output's shape).
public enum TweenTarget<T: LoomFloat> {
    case classes([Int])
    case values(Tensor<T>)
}

/// One tween step's measurements: per stage (input to output order) the link budget, the gap and
/// the depth barrier; whether each stage was updated; the sum of squared output errors.
public struct TweenReport: Sendable {
    public var loss: Double
    public var linkBudgets: [Double]
    public var gaps: [Double]
    public var depthBarrier: [Double]
    public var updated: [Bool]
    public var adaptiveRate: Double
    public var pruned: [Int]
}

/// Neural Tweening (docs/tweening.md): a training method that, per step, measures how well each
/// stage's activation aligns with a target for it (its link budget) and how far apart they are
/// (its gap), and moves each stage's weights toward closing its gap, at a rate the budget gates.
/// Works on every layer type, through each layer's own backward. Deterministic: the same bits for
/// any thread count.
public final class TweenState<T: LoomFloat> {
    public let network: Network<T>
    public var config: TweenConfig
    let stages: [Layer<T>]
    /// Parameter indices of each stage (by name: `layers.i.`).
    let stageParams: [[Int]]
    var velocity: [Tensor<T>]
    public private(set) var steps: UInt64 = 0
    public private(set) var adaptiveRate = 1.0
    var gapHistory: [Double] = []
    var exploding = 0
    var lowBudget: [Int]
    /// Stages bypassed by pruning (shape-preserving stages only).
    public private(set) var pruned: Set<Int> = []

    public init(_ network: Network<T>, config: TweenConfig = TweenConfig()) throws(LoomError) {
        guard !network.params.hasExternal else {
            throw LoomError(.invalidArgument, "tween", "this network's weights are GGUF blocks in a mapped file (inference only); load it dequantized to train")
        }
        try config.validate(path: "tween")
        self.network = network
        self.config = config
        stages = network.root.layers
        let names = network.params.names
        stageParams = (0..<stages.count).map { i in names.indices.filter { names[$0].hasPrefix("layers.\(i).") } }
        velocity = network.params.values.map { Tensor(zeros: $0.shape) }
        lowBudget = [Int](repeating: 0, count: stages.count)
    }

    /// One tween step on a batch: a training forward (dropout's stream is the step count), then
    /// the mode's backward targets, link budgets and gaps, and the weight updates.
    @discardableResult
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func step(_ x: Tensor<T>, target: TweenTarget<T>, context: ComputeContext = SerialContext()) throws(LoomError) -> TweenReport {
        try network.validateInput(x)
        let pass = network.trainingPass(context: context, step: steps)
        let exec = network.execution
        var a = [x]
        if !exec.isNative && !(stages.first is EmbeddingLayer<T>) { exec.roundActivation(&a[0], context) }
        for (i, l) in stages.enumerated() {
            if pruned.contains(i) { a.append(a[i]); continue }
            var h = try l.forward(a[i], pass)
            exec.roundActivation(&h, context)
            a.append(h)
        }
        return try update(activations: a, passes: StagePasses(shared: pass), target: target, context: context)
    }

    /// The update of one step from a forward that left `activations` (a₀ … a_L, the values between
    /// stages) and, in `passes`, what each layer saved (a whole pass, or a sample's stash in step
    /// execution, with the weights each stage read when the pipeline stashes weights).
    @_specialize(where T == Float) @_specialize(where T == Double)
    func update(activations a: [Tensor<T>], passes: StagePasses<T>, target: TweenTarget<T>, context: ComputeContext) throws(LoomError) -> TweenReport {
        let L = stages.count
        let out = a[L]
        let goal = try targetTensor(target, shape: out.shape)
        let exec = network.execution
        passes.zeroGrads()   // the gradient arrays hold this step's per-stage directions
        var budgets = [Double](repeating: 0.5, count: L), gaps = [Double](repeating: 0, count: L)
        switch config.mode {
        case .chainRule:
            var g = TweenState.map2(goal, out) { $0 - $1 }
            var stageTarget = goal
            for i in (0..<L).reversed() {
                (budgets[i], gaps[i]) = TweenState.link(a[i + 1], stageTarget)
                if pruned.contains(i) { continue }
                let s = T(config.depthScale(L - 1 - i)), c = T(config.signalClip)
                var local = TweenState.map1(g) { TweenState.sanitize($0 * s, c) }
                exec.roundGradient(&local, context)
                let v = passes.backward(stages[i], stage: i, local)
                g = TweenState.map1(v) { TweenState.sanitize($0, c) }
                let gs = T(config.gradientScale)
                stageTarget = TweenState.map2(a[i], g) { $0 + gs * $1 }
            }
        case .gapClosing:
            var stageTarget = goal
            for i in (0..<L).reversed() {
                (budgets[i], gaps[i]) = TweenState.link(a[i + 1], stageTarget)
                if pruned.contains(i) { continue }
                var delta = TweenState.map2(stageTarget, a[i + 1]) { $0 - $1 }
                exec.roundGradient(&delta, context)
                let v = passes.backward(stages[i], stage: i, delta)
                let nd = TweenState.norm(delta), nv = TweenState.norm(v)
                if nv > 1e-12 && nd.isFinite && nv.isFinite {
                    let k = T(nd / nv)
                    stageTarget = TweenState.map2(a[i], v) { $0 + k * $1 }
                } else {
                    stageTarget = a[i]
                }
            }
        }
        passes.commit()
        // Depth barrier: the budgets multiplied from the output down to each stage.
        var barrier = [Double](repeating: 1, count: L)
        var acc = 1.0
        for i in (0..<L).reversed() { acc *= budgets[i]; barrier[i] = acc }
        if config.explosionDetection { watch(gaps) }
        var updated = [Bool](repeating: false, count: L)
        let store = network.params
        for i in 0..<L where !pruned.contains(i) && budgets[i] >= config.ignoreThreshold {
            var r = config.rate * adaptiveRate * config.typeRate(stages[i].typeName) * ((1 - config.linkBudgetScale) + config.linkBudgetScale * budgets[i])
            if config.depthBarrier { r *= barrier[i] }
            let rate = T(r), mu = T(config.momentum), keep = T(1 - config.momentum), clip = T(config.updateClip)
            let clipped = config.mode == .chainRule
            for p in stageParams[i] where !store.frozen[p] {
                let grad = store.grads[p].data
                var v = velocity[p].data, w = store.values[p].data
                for j in 0..<w.count {
                    // The backward of a stage given its signal (target − output) yields J_θᵀ·signal:
                    // moving along it moves the output toward the target.
                    var d = rate * grad[j]
                    if clipped { d = Swift.min(Swift.max(d, -clip), clip) }
                    v[j] = mu * v[j] + keep * d
                    w[j] = w[j] + v[j]
                }
                velocity[p].data = v
                store.values[p].data = w
                updated[i] = true
            }
        }
        if config.pruning { prune(budgets) }
        steps += 1
        var loss = 0.0
        for j in 0..<out.count { let e = (out.data[j] - goal.data[j]).double; loss += e * e }
        return TweenReport(loss: loss, linkBudgets: budgets, gaps: gaps, depthBarrier: barrier, updated: updated,
                           adaptiveRate: adaptiveRate, pruned: pruned.sorted())
    }

    /// The target as a tensor of the output's `shape`: one-hot rows for classes.
    func targetTensor(_ target: TweenTarget<T>, shape: [Int]) throws(LoomError) -> Tensor<T> {
        let count = shape.reduce(1, *)
        switch target {
        case .values(let t):
            guard t.count == count else {
                throw LoomError(.shapeMismatch, "tween target", "expected \(count) values (output \(Tensor<T>.describe(shape))), got \(Tensor<T>.describe(t.shape))")
            }
            if let i = t.firstNonFinite { throw LoomError(.nonFinite, "tween target", "value \(t.data[i].double) at index \(i)") }
            return Tensor(uncheckedShape: shape, data: t.data)
        case .classes(let cs):
            let width = shape.last ?? 1, rows = count / Swift.max(width, 1)
            guard cs.count == rows else {
                throw LoomError(.shapeMismatch, "tween target", "expected \(rows) class indices (one per output row), got \(cs.count)")
            }
            var d = [T](repeating: 0, count: count)
            for (r, c) in cs.enumerated() {
                guard c >= 0 && c < width else { throw LoomError(.invalidInput, "tween target", "class \(c) of row \(r) is outside 0..<\(width)") }
                d[r * width + c] = 1
            }
            return Tensor(uncheckedShape: shape, data: d)
        }
    }

    /// (link budget, gap) of an activation and its target: ((cos + 1)/2, or 0.5 when either squared
    /// norm is below 0.001; mean squared difference). Sums in Double, in index order.
    static func link(_ a: Tensor<T>, _ t: Tensor<T>) -> (Double, Double) {
        var dot = 0.0, na = 0.0, nt = 0.0, sq = 0.0
        for j in 0..<a.count {
            let x = a.data[j].double, y = t.data[j].double
            dot += x * y; na += x * x; nt += y * y
            sq += (x - y) * (x - y)
        }
        let gap = sq / Double(Swift.max(a.count, 1))
        guard na >= 1e-3, nt >= 1e-3 else { return (0.5, gap) }
        let cos = dot / ((na.squareRoot()) * (nt.squareRoot()))
        return ((Swift.min(Swift.max(cos, -1), 1) + 1) / 2, gap)
    }

    static func norm(_ t: Tensor<T>) -> Double {
        var s = 0.0
        for v in t.data { s += v.double * v.double }
        return s.squareRoot()
    }

    @inline(__always) static func sanitize(_ v: T, _ c: T) -> T { v.isFinite ? Swift.min(Swift.max(v, -c), c) : 0 }

    static func map1(_ a: Tensor<T>, _ f: (T) -> T) -> Tensor<T> { Tensor(uncheckedShape: a.shape, data: a.data.map(f)) }
    static func map2(_ a: Tensor<T>, _ b: Tensor<T>, _ f: (T, T) -> T) -> Tensor<T> {
        Tensor(uncheckedShape: a.shape, data: (0..<a.count).map { f(a.data[$0], b.data[$0]) })
    }

    /// Explosion detection (docs/tweening.md).
    func watch(_ gaps: [Double]) {
        let g = gaps.reduce(0, +) / Double(Swift.max(gaps.count, 1))
        let baseline = gapHistory.isEmpty ? g : gapHistory.prefix(10).reduce(0, +) / Double(Swift.min(gapHistory.count, 10))
        let growth = gapHistory.last.map { $0 > 0 ? g / $0 : 1 } ?? 1
        if growth > 1.5 || (gapHistory.count >= 10 && baseline > 0 && g > 10 * baseline) || !g.isFinite {
            exploding += 1
            adaptiveRate = Swift.max(0.01, adaptiveRate * (exploding >= 10 ? 0.3 : exploding >= 5 ? 0.5 : 0.7))
        } else {
            exploding = 0
            adaptiveRate = Swift.min(1, adaptiveRate * 1.05)
        }
        gapHistory.append(g)
    }

    /// Pruning: shape-preserving stages whose budget stayed low long enough are bypassed.
    func prune(_ budgets: [Double]) {
        for i in 0..<stages.count where !pruned.contains(i) {
            lowBudget[i] = budgets[i] < config.pruneThreshold ? lowBudget[i] + 1 : 0
            if lowBudget[i] >= config.prunePatience && stages[i].inputShape == stages[i].outputShape && pruned.count + 1 < stages.count {
                pruned.insert(i)
            }
        }
    }
}
