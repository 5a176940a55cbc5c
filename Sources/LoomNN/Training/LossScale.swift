import LoomCore

/// Dynamic loss scaling for f16 training, with the rules of PyTorch's `GradScaler`: the loss
/// gradient is multiplied by `scale` (a power of two, initially 2^16) before backward, so small
/// gradients survive the f16 rounding between layers; the parameter gradients are then multiplied
/// by `1/scale` (exact). A step whose gradients hold an infinity or NaN is skipped and halves the
/// scale; `growthInterval` (2000) good steps in a row double it. Saved with the optimizer state.
public struct LossScale: Sendable, Equatable {
    public var scale: Double = 65536
    public var goodSteps: Int = 0
    public static let growthInterval = 2000

    public init(scale: Double = 65536, goodSteps: Int = 0) { self.scale = scale; self.goodSteps = goodSteps }

    /// After backward with `scale`: unscales `params.grads` and returns true, or returns false
    /// (skip the optimizer step) when a gradient is not finite. Updates the scale either way.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public mutating func unscale<T: LoomFloat>(_ params: ParameterStore<T>) -> Bool {
        let finite = !params.grads.contains { $0.firstNonFinite != nil }
        if finite {
            let inv: T = inverse()
            for i in 0..<params.grads.count {
                params.grads[i].data.withUnsafeMutableBufferPointer { p in for j in 0..<p.count { p[j] *= inv } }
            }
        }
        return record(finite: finite)
    }

    /// The factor that unscales a gradient: `1/scale` (exact, a power of two).
    public func inverse<T: LoomFloat>() -> T { T(1 / scale) }

    /// The scale's rule after a step whose gradients were all finite (`finite`, the step is taken:
    /// returns true) or not (halve the scale, skip the step: returns false).
    public mutating func record(finite: Bool) -> Bool {
        guard finite else {
            scale /= 2
            goodSteps = 0
            return false
        }
        goodSteps += 1
        if goodSteps == LossScale.growthInterval { scale *= 2; goodSteps = 0 }
        return true
    }
}
