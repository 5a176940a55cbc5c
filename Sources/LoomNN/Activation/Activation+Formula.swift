import LoomCore

/// The activations as `ScalarExpr` formulas: the same operations, in the same order, as `apply`
/// and `derivative` (Activation.swift). A device backend prints these as kernel source; the tests
/// check, bit for bit, that they equal `apply`, `derivative`, `applyAll` and `backpropagate`.
extension Activation {
    /// `y = f(x)` as a formula of the name `x`.
    public var forwardFormula: ScalarExpr {
        let x = ScalarExpr.name("x"), zero = ScalarExpr.c(0), one = ScalarExpr.c(1)
        switch self {
        case .linear: return x
        case .relu: return .select(x > zero || .isNaN(x), x, zero)
        case .scaledReLU(let s): return .select(x > zero || .isNaN(x), .c(s) * x, zero)
        case .leakyReLU(let a): return .select(x > zero, x, .c(a) * x)
        case .sigmoid: return .call(.sigmoid, x)
        case .tanh: return .call(.tanh, x)
        case .softplus(let t): return .select(x > .c(t), x, .call(.softplus, x))
        case .gelu: return (x * .c(0.5)) * (one + .call(.erf, x * .c(0.70710678118654752440)))
        case .geluTanh:
            let inner = ScalarExpr.c(0.79788456080286535588) * (x + .c(0.044715) * ((x * x) * x))
            return (.c(0.5) * x) * (one + .call(.tanh, inner))
        case .silu: return x * .call(.sigmoid, x)
        case .mish: return x * .call(.tanh, Activation.mishSoftplus(x))
        case .elu(let a): return .select(x > zero, x, .c(a) * .call(.expm1, x))
        case .selu:
            let l = ScalarExpr.c(Activation.seluLambda)
            return .select(x > zero, l * x, l * (.c(Activation.seluAlpha) * .call(.expm1, x)))
        }
    }

    /// `dy/dx` as a formula of the names `x` and `y`.
    public var derivativeFormula: ScalarExpr {
        let x = ScalarExpr.name("x"), y = ScalarExpr.name("y"), zero = ScalarExpr.c(0), one = ScalarExpr.c(1)
        switch self {
        case .linear: return one
        case .relu: return .select(x > zero, one, zero)
        case .scaledReLU(let s): return .select(x > zero, .c(s), zero)
        case .leakyReLU(let a): return .select(x > zero, one, .c(a))
        case .sigmoid: return y * (one - y)
        case .tanh: return one - y * y
        case .softplus(let t): return .select(x > .c(t), one, .call(.sigmoid, x))
        case .gelu:
            let cdf = ScalarExpr.c(0.5) * (one + .call(.erf, x * .c(0.70710678118654752440)))
            let pdf = ScalarExpr.call(.exp, -(x * x) * .c(0.5)) * .c(0.39894228040143267794)
            return cdf + x * pdf
        case .geluTanh:
            let c = ScalarExpr.c(0.79788456080286535588), k = ScalarExpr.c(0.044715)
            let t = ScalarExpr.call(.tanh, c * (x + k * ((x * x) * x)))
            return ScalarExpr.c(0.5) * (one + t) + ((.c(0.5) * x) * (one - t * t)) * (c * (one + (.c(3) * k) * (x * x)))
        case .silu:
            let s = ScalarExpr.call(.sigmoid, x)
            return s * (one + x * (one - s))
        case .mish:
            let t = ScalarExpr.call(.tanh, Activation.mishSoftplus(x))
            return t + (x * (one - t * t)) * .call(.sigmoid, x)
        case .elu(let a): return .select(x > zero, one, .c(a) * .call(.exp, x))
        case .selu:
            let l = ScalarExpr.c(Activation.seluLambda)
            return .select(x > zero, l, l * (.c(Activation.seluAlpha) * .call(.exp, x)))
        }
    }

    static func mishSoftplus(_ x: ScalarExpr) -> ScalarExpr { .select(x > .c(20), x, .call(.softplus, x)) }

    /// `y = f(x)` per element (what `applyAll` computes).
    public var forwardProgram: ScalarProgram {
        ScalarProgram(inputs: ["x"], statements: [.init("y", forwardFormula)], outputs: ["y"])
    }

    /// `g = g·f'(x, y)` per element (what `backpropagate` computes).
    public var backwardProgram: ScalarProgram {
        ScalarProgram(inputs: ["g", "x", "y"], statements: [.init("g", .name("g") * derivativeFormula)], outputs: ["g"])
    }
}
