/// An element-wise formula written once, as data: the canonical definition that a backend prints
/// as kernel source (LoomGPU prints CUDA C) and that `evaluate` computes in Swift, so a test can
/// check, bit for bit, that the formula equals the CPU's hand-written loop (activations, their
/// derivatives, optimizer updates, loss gradients).
///
/// Semantics, in the element type T (Float or Double): every node rounds once, in the order of the
/// tree; `constant(c)` is `T(c)` (round to nearest even); `fma(a, b, c)` is `c.addingProduct(a, b)`
/// (one rounding); the functions are `DetMath`'s (for Float: `Float(DetMath.f(Double(x)))`);
/// `maximum`/`minimum` are Swift's `T.maximum`/`T.minimum` (a NaN, even a signaling one, loses to
/// a number); `select`
/// evaluates only the branch it takes.
public indirect enum ScalarExpr: Sendable, Equatable {
    /// A named value: an element operand, a launch-wide scalar, or an earlier `let`.
    case name(String)
    case constant(Double)
    case unary(ScalarUnary, ScalarExpr)
    case binary(ScalarBinary, ScalarExpr, ScalarExpr)
    /// `a·b + c` with one rounding.
    case fma(ScalarExpr, ScalarExpr, ScalarExpr)
    case select(ScalarCondition, ScalarExpr, ScalarExpr)

    // Building blocks, so formulas read like the code they mirror.
    public static func + (a: ScalarExpr, b: ScalarExpr) -> ScalarExpr { .binary(.add, a, b) }
    public static func - (a: ScalarExpr, b: ScalarExpr) -> ScalarExpr { .binary(.sub, a, b) }
    public static func * (a: ScalarExpr, b: ScalarExpr) -> ScalarExpr { .binary(.mul, a, b) }
    public static func / (a: ScalarExpr, b: ScalarExpr) -> ScalarExpr { .binary(.div, a, b) }
    public static prefix func - (a: ScalarExpr) -> ScalarExpr { .unary(.neg, a) }
    public static func > (a: ScalarExpr, b: ScalarExpr) -> ScalarCondition { .greater(a, b) }
    public static func >= (a: ScalarExpr, b: ScalarExpr) -> ScalarCondition { .greaterEqual(a, b) }
    public static func < (a: ScalarExpr, b: ScalarExpr) -> ScalarCondition { .greater(b, a) }
    public static func == (a: ScalarExpr, b: ScalarExpr) -> ScalarCondition { .equal(a, b) }
    public static func c(_ v: Double) -> ScalarExpr { .constant(v) }
    public static func call(_ f: ScalarUnary, _ a: ScalarExpr) -> ScalarExpr { .unary(f, a) }
    public static func maximum(_ a: ScalarExpr, _ b: ScalarExpr) -> ScalarExpr { .binary(.maximum, a, b) }
    public static func minimum(_ a: ScalarExpr, _ b: ScalarExpr) -> ScalarExpr { .binary(.minimum, a, b) }
}

public enum ScalarUnary: String, Sendable, CaseIterable {
    case neg, abs, sqrt
    case exp, expm1, log, log1p, tanh, sigmoid, softplus, erf
}

public enum ScalarBinary: String, Sendable, CaseIterable {
    case add, sub, mul, div, maximum, minimum
}

public indirect enum ScalarCondition: Sendable, Equatable {
    case greater(ScalarExpr, ScalarExpr)
    case greaterEqual(ScalarExpr, ScalarExpr)
    case equal(ScalarExpr, ScalarExpr)
    case isNaN(ScalarExpr)
    case or(ScalarCondition, ScalarCondition)
    case and(ScalarCondition, ScalarCondition)
    case not(ScalarCondition)

    public static func || (a: ScalarCondition, b: ScalarCondition) -> ScalarCondition { .or(a, b) }
    public static func && (a: ScalarCondition, b: ScalarCondition) -> ScalarCondition { .and(a, b) }
}

/// A straight-line element-wise program: `inputs` are read per element, `scalars` are the same
/// for every element (launch arguments), `statements` assign names in order (a name may be
/// assigned again), and `outputs` are the names written back per element.
public struct ScalarProgram: Sendable, Equatable {
    public var inputs: [String]
    public var scalars: [String]
    public var statements: [Statement]
    public var outputs: [String]

    public struct Statement: Sendable, Equatable {
        public var name: String
        public var value: ScalarExpr
        public init(_ name: String, _ value: ScalarExpr) { self.name = name; self.value = value }
    }

    public init(inputs: [String], scalars: [String] = [], statements: [Statement], outputs: [String]) {
        self.inputs = inputs; self.scalars = scalars; self.statements = statements; self.outputs = outputs
    }

    /// Runs the program on one element: `inputs` and `scalars` in declaration order; returns the
    /// outputs in order.
    public func evaluate<T: LoomFloat>(inputs ins: [T], scalars sc: [T]) -> [T] {
        var env = ScalarEnvironment<T>()
        for (n, v) in zip(inputs, ins) { env.set(n, v) }
        for (n, v) in zip(scalars, sc) { env.set(n, v) }
        for s in statements { env.set(s.name, s.value.evaluate(env)) }
        return outputs.map { env.value($0) }
    }
}

/// Names bound to values while a program runs (a short list: programs have a few names).
public struct ScalarEnvironment<T: LoomFloat> {
    var names: [String] = []
    var values: [T] = []
    public init() {}
    public mutating func set(_ name: String, _ v: T) {
        for i in 0..<names.count where names[i] == name { values[i] = v; return }
        names.append(name); values.append(v)
    }
    public func value(_ name: String) -> T {
        for i in 0..<names.count where names[i] == name { return values[i] }
        fatalError("ScalarExpr: unbound name " + name)
    }
}

extension ScalarExpr {
    public func evaluate<T: LoomFloat>(_ env: ScalarEnvironment<T>) -> T {
        switch self {
        case .name(let n): return env.value(n)
        case .constant(let c): return T(c)
        case .unary(let f, let a):
            let x = a.evaluate(env)
            switch f {
            case .neg: return -x
            case .abs: return Swift.abs(x)
            case .sqrt: return x.squareRoot()
            case .exp: return T.detExp(x)
            case .expm1: return T.detExpm1(x)
            case .log: return T.detLog(x)
            case .log1p: return T.detLog1p(x)
            case .tanh: return T.detTanh(x)
            case .sigmoid: return T.detSigmoid(x)
            case .softplus: return T.detSoftplus(x)
            case .erf: return T.detErf(x)
            }
        case .binary(let op, let a, let b):
            let x = a.evaluate(env), y = b.evaluate(env)
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .mul: return x * y
            case .div: return x / y
            case .maximum: return T.maximum(x, y)
            case .minimum: return T.minimum(x, y)
            }
        case .fma(let a, let b, let c): return c.evaluate(env).addingProduct(a.evaluate(env), b.evaluate(env))
        case .select(let cond, let a, let b): return cond.evaluate(env) ? a.evaluate(env) : b.evaluate(env)
        }
    }
}

extension ScalarCondition {
    public func evaluate<T: LoomFloat>(_ env: ScalarEnvironment<T>) -> Bool {
        switch self {
        case .greater(let a, let b): return a.evaluate(env) > b.evaluate(env)
        case .greaterEqual(let a, let b): return a.evaluate(env) >= b.evaluate(env)
        case .equal(let a, let b): return a.evaluate(env) == b.evaluate(env)
        case .isNaN(let a): return a.evaluate(env).isNaN
        case .or(let a, let b): return a.evaluate(env) || b.evaluate(env)
        case .and(let a, let b): return a.evaluate(env) && b.evaluate(env)
        case .not(let a): return !a.evaluate(env)
        }
    }
}
