import LoomCore

/// A learning-rate schedule: the rate of optimizer step t (t = 0, 1, …) from the base rate.
/// Formulas follow PyTorch's closed forms (docs/ir.md) and are evaluated in Double with the
/// project's math, so every platform gets the same rates.
public indirect enum SchedulerSpec: Equatable, Sendable {
    case constant
    case linear(startFactor: Double, endFactor: Double, totalSteps: Int)
    /// PyTorch's CosineAnnealingLR up to `totalSteps`; after that the rate stays at `minLR`.
    case cosine(totalSteps: Int, minLR: Double)
    case cosineRestarts(period: Int, mult: Int, minLR: Double)
    case exponential(gamma: Double)
    case step(stepSize: Int, gamma: Double)
    case polynomial(totalSteps: Int, power: Double)
    case warmup(steps: Int, startFactor: Double, after: SchedulerSpec)

    public var typeName: String {
        switch self {
        case .constant: return "constant"
        case .linear: return "linear"
        case .cosine: return "cosine"
        case .cosineRestarts: return "cosine_restarts"
        case .exponential: return "exponential"
        case .step: return "step"
        case .polynomial: return "polynomial"
        case .warmup: return "warmup"
        }
    }

    public func lr(base: Double, step t: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .linear(let s, let e, let total):
            let f = total <= 0 ? e : s + (e - s) * Double(Swift.min(t, total)) / Double(total)
            return base * f
        case .cosine(let total, let minLR):
            return minLR + (base - minLR) * (1 + DetMath.cos(Double.pi * Double(Swift.min(t, total)) / Double(total))) / 2
        case .cosineRestarts(let period, let mult, let minLR):
            var tCur = t, tI = period
            while tCur >= tI { tCur -= tI; tI *= mult }
            return minLR + (base - minLR) * (1 + DetMath.cos(Double.pi * Double(tCur) / Double(tI))) / 2
        case .exponential(let g):
            return base * DetMath.pow(g, Double(t))
        case .step(let size, let g):
            return base * DetMath.pow(g, Double(t / size))
        case .polynomial(let total, let power):
            let f = 1 - Double(Swift.min(t, total)) / Double(total)
            return base * DetMath.pow(f, power)
        case .warmup(let w, let s, let after):
            if t < w { return base * (s + (1 - s) * Double(t) / Double(w)) }
            return after.lr(base: base, step: t - w)
        }
    }
}
