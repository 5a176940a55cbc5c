import LoomCore

/// The optimizers' per-element updates as `ScalarProgram`s (what `Optimizer.step` computes, in the
/// same order), and the per-update constants both use. A device backend prints the program as
/// kernel source; the tests check it against `step` bit for bit.
///
/// Program names: `p` (parameter), `g` (gradient), the state slots by their names
/// (`momentum_buffer`, `exp_avg`, `exp_avg_sq`, `square_avg`, `grad_avg`); scalars as listed in
/// `scalarNames`, their values from `updateScalars`.
extension OptimizerSpec {
    /// The launch-wide scalars of one update, in order.
    public var scalarNames: [String] {
        switch self {
        case .sgd: return ["lr", "momentum", "one_minus_dampening", "weight_decay", "first"]
        case .adamw: return ["decay", "one_minus_beta1", "beta2", "one_minus_beta2", "step_size", "bias2_sqrt", "eps"]
        case .rmsprop: return ["lr", "alpha", "one_minus_alpha", "eps", "momentum", "weight_decay"]
        }
    }

    /// The scalars of update number `k` (1, 2, …) of a parameter at learning rate `lr`, rounded
    /// to T: for AdamW `decay = 1 − lr·wd`, `step_size = lr/(1 − β₁ᵏ)`, `bias2_sqrt = √(1 − β₂ᵏ)`
    /// (Double, `DetMath.pow`); `first` is 1 on a parameter's first update, else 0.
    public func updateScalars<T: LoomFloat>(lr: Double, step k: Int, first: Bool) -> [T] {
        switch self {
        case .sgd(_, let mu, let damp, _, let wd):
            return [T(lr), T(mu), T(1 - damp), T(wd), first ? 1 : 0]
        case .adamw(_, let b1, let b2, let eps, let wd):
            let c1 = 1 - DetMath.pow(b1, Double(k)), c2 = 1 - DetMath.pow(b2, Double(k))
            return [T(1 - lr * wd), T(1 - b1), T(b2), T(1 - b2), T(lr / c1), T(c2.squareRoot()), T(eps)]
        case .rmsprop(_, let alpha, let eps, let mu, _, let wd):
            return [T(lr), T(alpha), T(1 - alpha), T(eps), T(mu), T(wd)]
        }
    }

    /// The element-wise update.
    public var updateProgram: ScalarProgram {
        let p = ScalarExpr.name("p"), g = ScalarExpr.name("g"), d = ScalarExpr.name("d")
        func n(_ s: String) -> ScalarExpr { .name(s) }
        typealias S = ScalarProgram.Statement
        switch self {
        case .sgd(_, let mu, _, let nesterov, let wd):
            var st: [S] = [S("d", g)]
            if wd != 0 { st.append(S("d", d + n("weight_decay") * p)) }
            var slots = [String]()
            if mu != 0 {
                let buf = n("momentum_buffer")
                st.append(S("momentum_buffer", .select(n("first") > .c(0), d, n("momentum") * buf + n("one_minus_dampening") * d)))
                st.append(S("d", nesterov ? d + n("momentum") * buf : buf))
                slots = ["momentum_buffer"]
            }
            st.append(S("p", p - n("lr") * d))
            return ScalarProgram(inputs: ["p", "g"] + slots, scalars: scalarNames, statements: st, outputs: ["p"] + slots)
        case .adamw(_, _, _, _, let wd):
            let m = n("exp_avg"), v = n("exp_avg_sq")
            var st: [S] = []
            if wd != 0 { st.append(S("p", p * n("decay"))) }
            st.append(S("exp_avg", m + n("one_minus_beta1") * (g - m)))
            st.append(S("exp_avg_sq", v * n("beta2") + n("one_minus_beta2") * (g * g)))
            st.append(S("denom", .call(.sqrt, v) / n("bias2_sqrt") + n("eps")))
            st.append(S("p", p - n("step_size") * (m / n("denom"))))
            return ScalarProgram(inputs: ["p", "g", "exp_avg", "exp_avg_sq"], scalars: scalarNames, statements: st,
                                 outputs: ["p", "exp_avg", "exp_avg_sq"])
        case .rmsprop(_, _, _, let mu, let centered, let wd):
            let v = n("square_avg"), buf = n("momentum_buffer"), ga = n("grad_avg")
            var st: [S] = [S("d", g)]
            if wd != 0 { st.append(S("d", d + n("weight_decay") * p)) }
            st.append(S("square_avg", v * n("alpha") + n("one_minus_alpha") * (d * d)))
            if centered {
                st.append(S("grad_avg", ga + n("one_minus_alpha") * (d - ga)))
                st.append(S("a", .call(.sqrt, v - ga * ga) + n("eps")))
            } else {
                st.append(S("a", .call(.sqrt, v) + n("eps")))
            }
            if mu > 0 {
                st.append(S("momentum_buffer", n("momentum") * buf + d / n("a")))
                st.append(S("p", p - n("lr") * buf))
            } else {
                st.append(S("p", p - n("lr") * (d / n("a"))))
            }
            let slots = ["square_avg", "momentum_buffer", "grad_avg"]
            return ScalarProgram(inputs: ["p", "g"] + slots, scalars: scalarNames, statements: st, outputs: ["p"] + slots)
        }
    }
}
