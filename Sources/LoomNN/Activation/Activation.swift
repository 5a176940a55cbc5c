import LoomCore

/// An elementwise activation function and its derivative.
///
/// The formulas below are the canonical definitions (docs/numerics.md): each operation rounds
/// once, in the order written; transcendental functions are the project's own (`DetMath`).
/// Parameters are stored as `Double` and converted to the compute type by round-to-nearest-even.
public enum Activation: Equatable, Sendable {
    case linear
    case relu
    case scaledReLU(scale: Double)
    case leakyReLU(slope: Double)
    case sigmoid
    case tanh
    case softplus(threshold: Double)
    case gelu
    case geluTanh
    case silu
    case mish
    case elu(alpha: Double)
    case selu

    public static let seluLambda = 1.0507009873554804934193349852946
    public static let seluAlpha = 1.6732632423543772848170429916717

    /// The canonical name written to JSON.
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .scaledReLU: return "scaled_relu"
        case .leakyReLU: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softplus: return "softplus"
        case .gelu: return "gelu"
        case .geluTanh: return "gelu_tanh"
        case .silu: return "silu"
        case .mish: return "mish"
        case .elu: return "elu"
        case .selu: return "selu"
        }
    }

    public static let allNames = ["linear", "relu", "scaled_relu", "leaky_relu", "sigmoid", "tanh", "softplus",
                                  "gelu", "gelu_tanh", "silu", "swish", "mish", "elu", "selu"]

    /// The activation with default parameters for a name (`swish` is an alias of `silu`).
    public static func named(_ name: String) -> Activation? {
        switch name {
        case "linear": return .linear
        case "relu": return .relu
        case "scaled_relu": return .scaledReLU(scale: 1.1)
        case "leaky_relu": return .leakyReLU(slope: 0.01)
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softplus": return .softplus(threshold: 20)
        case "gelu": return .gelu
        case "gelu_tanh": return .geluTanh
        case "silu", "swish": return .silu
        case "mish": return .mish
        case "elu": return .elu(alpha: 1)
        case "selu": return .selu
        default: return nil
        }
    }

    /// True when the derivative needs nothing (identity).
    public var isLinear: Bool { self == .linear }

    /// y = f(x).
    @inline(__always)
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func apply<T: LoomFloat>(_ x: T) -> T {
        switch self {
        case .linear: return x
        case .relu: return (x > 0 || x.isNaN) ? x : 0
        case .scaledReLU(let s): return (x > 0 || x.isNaN) ? T(s) * x : 0
        case .leakyReLU(let a): return x > 0 ? x : T(a) * x
        case .sigmoid: return T.detSigmoid(x)
        case .tanh: return T.detTanh(x)
        case .softplus(let t): return x > T(t) ? x : T.detSoftplus(x)
        case .gelu:
            // x · 0.5 · (1 + erf(x · (1/√2)))
            return x * 0.5 * (1 + T.detErf(x * T(0.70710678118654752440)))
        case .geluTanh:
            // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
            let inner = T(0.79788456080286535588) * (x + T(0.044715) * (x * x * x))
            return 0.5 * x * (1 + T.detTanh(inner))
        case .silu: return x * T.detSigmoid(x)
        case .mish:
            let sp = x > 20 ? x : T.detSoftplus(x)
            return x * T.detTanh(sp)
        case .elu(let a): return x > 0 ? x : T(a) * T.detExpm1(x)
        case .selu:
            let l = T(Activation.seluLambda)
            return x > 0 ? l * x : l * (T(Activation.seluAlpha) * T.detExpm1(x))
        }
    }

    /// dy/dx at input `x`, given `y = f(x)`.
    @inline(__always)
    public func derivative<T: LoomFloat>(x: T, y: T) -> T {
        switch self {
        case .linear: return 1
        case .relu: return x > 0 ? 1 : 0
        case .scaledReLU(let s): return x > 0 ? T(s) : 0
        case .leakyReLU(let a): return x > 0 ? 1 : T(a)
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        case .softplus(let t): return x > T(t) ? 1 : T.detSigmoid(x)
        case .gelu:
            // Φ(x) + x·φ(x), φ(x) = exp(−x²/2) / √(2π)
            let cdf = 0.5 * (1 + T.detErf(x * T(0.70710678118654752440)))
            let pdf = T.detExp(-(x * x) * 0.5) * T(0.39894228040143267794)
            return cdf + x * pdf
        case .geluTanh:
            let c = T(0.79788456080286535588), k = T(0.044715)
            let t = T.detTanh(c * (x + k * (x * x * x)))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (c * (1 + 3 * k * (x * x)))
        case .silu:
            let s = T.detSigmoid(x)
            return s * (1 + x * (1 - s))
        case .mish:
            let sp = x > 20 ? x : T.detSoftplus(x)
            let t = T.detTanh(sp)
            return t + x * (1 - t * t) * T.detSigmoid(x)
        case .elu(let a): return x > 0 ? 1 : T(a) * T.detExp(x)
        case .selu:
            let l = T(Activation.seluLambda)
            return x > 0 ? l : l * (T(Activation.seluAlpha) * T.detExp(x))
        }
    }
}
