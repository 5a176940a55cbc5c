import LoomCore

/// The passes a sample's backward runs in, stage by stage: one pass for every stage (the weights as
/// they are now), or, with weight stashing, a pass per stage holding the weights that stage read
/// when the sample went through it. Each holds what the sample's layers saved. Gradients always
/// land in the master parameters' gradients.
struct StagePasses<T: LoomFloat> {
    let master: ParameterStore<T>
    /// The one pass of every stage (no weight stashing).
    let shared: Pass<T>?
    /// One pass per stage (weight stashing).
    let perStage: [Pass<T>]

    init(shared pass: Pass<T>) { master = pass.master; shared = pass; perStage = [] }
    init(master: ParameterStore<T>, perStage: [Pass<T>]) { self.master = master; shared = nil; self.perStage = perStage }

    /// Zeroes the gradients the stages will accumulate into.
    func zeroGrads() {
        if let p = shared { p.params.zeroGrads() } else { master.zeroGrads() }
    }

    /// Stage `i`'s backward of `g` in its pass.
    @_specialize(where T == Float) @_specialize(where T == Double)
    func backward(_ layer: Layer<T>, stage i: Int, _ g: Tensor<T>) -> Tensor<T> {
        if let p = shared { return layer.backward(g, p) }
        let p = perStage[i]
        // The stage accumulates into the master's gradient arrays, moved (not shared) into its
        // pass so that accumulation writes in place, and moved back after.
        p.params.grads = master.grads
        master.grads = []
        let dx = layer.backward(g, p)
        master.grads = p.params.grads
        p.params.grads = []
        return dx
    }

    /// After every stage's backward: the gradients become the master's.
    func commit() { shared?.commitGradients() }
}
