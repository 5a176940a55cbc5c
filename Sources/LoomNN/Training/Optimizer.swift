import LoomCore

/// Optimizer settings (docs/ir.md). Hyperparameters are Doubles, rounded to the compute type
/// where they meet tensors.
public enum OptimizerSpec: Equatable, Sendable {
    case sgd(lr: Double, momentum: Double, dampening: Double, nesterov: Bool, weightDecay: Double)
    case adamw(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double)
    case rmsprop(lr: Double, alpha: Double, eps: Double, momentum: Double, centered: Bool, weightDecay: Double)

    public var typeName: String {
        switch self {
        case .sgd: return "sgd"
        case .adamw: return "adamw"
        case .rmsprop: return "rmsprop"
        }
    }

    public var lr: Double {
        switch self {
        case .sgd(let lr, _, _, _, _), .adamw(let lr, _, _, _, _), .rmsprop(let lr, _, _, _, _, _): return lr
        }
    }

    /// Names of the per-parameter state tensors, in storage order.
    public var slotNames: [String] {
        switch self {
        case .sgd: return ["momentum_buffer"]
        case .adamw: return ["exp_avg", "exp_avg_sq"]
        case .rmsprop: return ["square_avg", "momentum_buffer", "grad_avg"]
        }
    }
}

/// The update rules of PyTorch's SGD, AdamW and RMSprop, written out as the canonical order
/// of operations for each element (p parameter, g gradient, all in T):
///
/// SGD: `g ← g + wd·p`; momentum: `buf ← g` on the first step, else `buf ← μ·buf + (1−dampening)·g`;
/// `g ← nesterov ? g + μ·buf : buf`; `p ← p − lr·g`.
/// AdamW (step k = 1, 2, …): `p ← p·(1 − lr·wd)`; `m ← m + (1−β₁)·(g − m)`;
/// `v ← v·β₂ + (1−β₂)·(g·g)`; `c₁ = 1 − β₁ᵏ`, `c₂ = 1 − β₂ᵏ` (Double);
/// `p ← p − (lr/c₁)·(m / (sqrt(v)/sqrt(c₂) + ε))`.
/// RMSprop: `g ← g + wd·p`; `v ← v·α + (1−α)·(g·g)`; centered: `ḡ ← ḡ + (1−α)·(g − ḡ)`,
/// `a = sqrt(v − ḡ·ḡ) + ε`, else `a = sqrt(v) + ε`; momentum: `buf ← μ·buf + g/a`, `p ← p − lr·buf`;
/// else `p ← p − lr·(g/a)`.
/// Frozen parameters are skipped (their state does not advance).
public final class Optimizer<T: LoomFloat> {
    public let spec: OptimizerSpec
    /// Optimizer steps taken so far (the scheduler's clock).
    public var stepCount: Int = 0
    /// Updates each parameter has received (frozen parameters do not advance, as in PyTorch,
    /// where a parameter without a gradient keeps its own step count and state).
    public var parameterSteps: [Int] = []
    /// slots[param][slot], allocated on first use.
    public var slots: [[Tensor<T>]] = []
    /// The dynamic loss scale of f16 training (nil for other dtypes until the first f16 step).
    public var lossScale: LossScale? = nil

    public init(_ spec: OptimizerSpec) { self.spec = spec }

    /// Advances the step counters for one update of every unfrozen parameter: returns each one's
    /// index, its update number `k` (1, 2, …) and whether this is its first update. Shared by
    /// `step` and device backends, so both count steps the same way.
    public func advance(_ params: ParameterStore<T>) -> [(index: Int, k: Int, first: Bool)] {
        if parameterSteps.count != params.count { parameterSteps = [Int](repeating: stepCount, count: params.count) }
        stepCount += 1
        var out = [(index: Int, k: Int, first: Bool)]()
        for pi in 0..<params.count where !params.frozen[pi] {
            let first = parameterSteps[pi] == 0
            parameterSteps[pi] += 1
            out.append((pi, parameterSteps[pi], first))
        }
        return out
    }

    /// Allocates the state tensors (zeros) the first time they are needed.
    public func allocateSlots(_ params: ParameterStore<T>) {
        if slots.count != params.count {
            slots = params.values.map { v in spec.slotNames.map { _ in Tensor<T>(zeros: v.shape) } }
        }
    }

    /// One update of every unfrozen parameter with learning rate `lr` (from a scheduler).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func step(_ params: ParameterStore<T>, lr lrDouble: Double, context: ComputeContext) {
        allocateSlots(params)
        for (pi, k, first) in advance(params) {
            let n = params.values[pi].count
            let g = params.grads[pi].data
            let sc: [T] = spec.updateScalars(lr: lrDouble, step: k, first: first)
            // Take the state out of `slots` so each buffer can be mutated on its own (unique, no copy).
            var s0 = slots[pi][0].data, s1 = slots[pi].count > 1 ? slots[pi][1].data : [], s2 = slots[pi].count > 2 ? slots[pi][2].data : []
            slots[pi][0].data = []
            if slots[pi].count > 1 { slots[pi][1].data = [] }
            if slots[pi].count > 2 { slots[pi][2].data = [] }
            defer {
                slots[pi][0].data = s0
                if slots[pi].count > 1 { slots[pi][1].data = s1 }
                if slots[pi].count > 2 { slots[pi][2].data = s2 }
            }
            switch spec {
            case .sgd(_, let mu, _, let nesterov, let wd):
                let lr = sc[0], muT = sc[1], dampT = sc[2], wdT = sc[3]
                params.values[pi].data.withUnsafeMutableBufferPointer { p in
                    s0.withUnsafeMutableBufferPointer { buf in
                        for i in 0..<n {
                            var d = g[i]
                            if wd != 0 { d = d + wdT * p[i] }
                            if mu != 0 {
                                buf[i] = first ? d : muT * buf[i] + dampT * d
                                d = nesterov ? d + muT * buf[i] : buf[i]
                            }
                            p[i] = p[i] - lr * d
                        }
                    }
                }
            case .adamw(_, _, _, _, let wd):
                let decay = sc[0], oneMinusB1 = sc[1], b2T = sc[2], oneMinusB2 = sc[3], stepSize = sc[4], c2sqrt = sc[5], epsT = sc[6]
                // Element-wise (each element's operations in the order above), so chunks can run on
                // any thread; plain pointers let the compiler vectorize the loop.
                params.values[pi].data.withUnsafeMutableBufferPointer { pb in
                    s0.withUnsafeMutableBufferPointer { mb in
                        s1.withUnsafeMutableBufferPointer { vb in
                            g.withUnsafeBufferPointer { gb in
                                guard let p = pb.baseAddress, let m = mb.baseAddress, let v = vb.baseAddress,
                                      let g = gb.baseAddress else { return }
                                context.parallelRanges(n, minChunk: 16384) { r in
                                    if wd != 0 { for i in r { p[i] = p[i] * decay } }
                                    for i in r {
                                        m[i] = m[i] + oneMinusB1 * (g[i] - m[i])
                                        v[i] = v[i] * b2T + oneMinusB2 * (g[i] * g[i])
                                        let denom = v[i].squareRoot() / c2sqrt + epsT
                                        p[i] = p[i] - stepSize * (m[i] / denom)
                                    }
                                }
                            }
                        }
                    }
                }
            case .rmsprop(_, _, _, let mu, let centered, let wd):
                let lr = sc[0], aT = sc[1], oneMinusA = sc[2], epsT = sc[3], muT = sc[4], wdT = sc[5]
                params.values[pi].data.withUnsafeMutableBufferPointer { p in
                    s0.withUnsafeMutableBufferPointer { v in
                        s1.withUnsafeMutableBufferPointer { buf in
                            s2.withUnsafeMutableBufferPointer { ga in
                                for i in 0..<n {
                                    var d = g[i]
                                    if wd != 0 { d = d + wdT * p[i] }
                                    v[i] = v[i] * aT + oneMinusA * (d * d)
                                    let a: T
                                    if centered {
                                        ga[i] = ga[i] + oneMinusA * (d - ga[i])
                                        a = (v[i] - ga[i] * ga[i]).squareRoot() + epsT
                                    } else {
                                        a = v[i].squareRoot() + epsT
                                    }
                                    if mu > 0 {
                                        buf[i] = muT * buf[i] + d / a
                                        p[i] = p[i] - lr * buf[i]
                                    } else {
                                        p[i] = p[i] - lr * (d / a)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
