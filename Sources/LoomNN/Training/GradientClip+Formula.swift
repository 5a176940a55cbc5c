import LoomCore

/// `GradientClip.apply`'s element-wise steps as `ScalarProgram`s (for device backends; the tests
/// check them against `apply`): `value` clamps `g = minimum(maximum(g, lo), hi)` with
/// `hi = T(v)`, `lo = −T(v)`; `norm` scales `g = g·c` with `c = T(max_norm/(‖g‖₂ + 1e-6))` when
/// that factor is below 1 (the norm itself is a Double fma chain per parameter, summed in
/// registry order).
extension GradientClip {
    public static let clampProgram = ScalarProgram(
        inputs: ["g"], scalars: ["lo", "hi"],
        statements: [.init("g", .minimum(.maximum(.name("g"), .name("lo")), .name("hi")))], outputs: ["g"])

    public static let scaleProgram = ScalarProgram(
        inputs: ["g"], scalars: ["c"], statements: [.init("g", .name("g") * .name("c"))], outputs: ["g"])

    /// The scale factor of `norm` clipping for per-parameter sums of squares (Double fma chains,
    /// in registry order), or nil when no scaling happens.
    public static func normScale(maxNorm: Double, sumsOfSquares: [Double]) -> Double? {
        var total = 0.0
        for s in sumsOfSquares { total += s }
        let coef = maxNorm / (total.squareRoot() + 1e-6)
        return coef < 1 ? coef : nil
    }
}

/// The element-wise steps of the containers (`residual`, `parallel`): `Elementwise.add` and the
/// products and scalings of `ParallelLayer`, each one rounding in the order written.
public enum ElementwiseProgram {
    /// `y = a + b`.
    public static let sum = ScalarProgram(inputs: ["a", "b"], statements: [.init("y", .name("a") + .name("b"))], outputs: ["y"])
    /// `y = a·b`.
    public static let product = ScalarProgram(inputs: ["a", "b"], statements: [.init("y", .name("a") * .name("b"))], outputs: ["y"])
    /// `y = x·c` (c a scalar).
    public static let scale = ScalarProgram(inputs: ["x"], scalars: ["c"], statements: [.init("y", .name("x") * .name("c"))], outputs: ["y"])
}
