import LoomCore

/// Grafting (the original's `GraftNetworks`, made safe): trained networks become the branches of
/// one parallel layer — a super-network whose branch b is expert b's whole layer stack — combined
/// by any combine mode; with `.filter`, a gate learns per row how much each expert counts.
///
/// The experts' weights are **copied by value** into the graft (the original shared the weight
/// slices with its sources, so training the graft changed the experts): afterwards the graft and
/// the experts are independent. `freezeExperts` freezes every copied weight, so training the graft
/// moves only the gate.
public enum Grafting {
    /// The name prefix of expert `b`'s weights in the graft (`layers.0.branches.b.`).
    public static func prefix(expert b: Int) -> String { "layers.0.branches.\(b)." }

    /// Grafts `experts` (at least 2, the same input shape and dtype) with `combine`. For `.filter`
    /// the gate is `gate` (default: a linear dense layer with one logit per expert) over the input.
    /// Errors: too few experts, different input shapes or dtypes, branch outputs the combine mode
    /// cannot join (the builder's shape error, naming the branch).
    /// `training` becomes the graft's training block; its `freeze` list gets every expert with
    /// `freezeExperts`, else each expert's own frozen prefixes (a default block is made when none
    /// is given), so a saved graft keeps its frozen weights.
    public static func graft<T: LoomFloat>(_ experts: [Network<T>], combine: CombineMode, gate: LayerSpec? = nil,
                                           freezeExperts: Bool = false, training: TrainingSpec? = nil,
                                           name: String = "graft", seed: UInt64 = 0) throws(LoomError) -> Network<T> {
        guard experts.count >= 2 else { throw LoomError(.invalidArgument, "graft", "needs at least 2 networks, got \(experts.count)") }
        let first = experts[0].spec
        for (b, e) in experts.enumerated() {
            guard e.spec.inputShape == first.inputShape else {
                throw LoomError(.shapeMismatch, "graft.experts[\(b)]", "input \(Tensor<T>.describe(e.spec.inputShape)) differs from expert 0's \(Tensor<T>.describe(first.inputShape))")
            }
            guard e.spec.dtype == first.dtype else {
                throw LoomError(.invalidArgument, "graft.experts[\(b)]", "dtype \(e.spec.dtype.name) differs from expert 0's \(first.dtype.name)")
            }
            guard !e.params.hasExternal else {
                throw LoomError(.invalidArgument, "graft.experts[\(b)]", "its weights are GGUF blocks in a mapped file; load it dequantized to graft it")
            }
        }
        let branches = experts.enumerated().map { b, e in LayerSpec.sequential(e.spec.layers.map { retie($0, prefix(expert: b)) }) }
        var parallel = ParallelSpec(branches: branches, combine: combine)
        if combine == .filter { parallel.gate = gate ?? .dense(units: experts.count, activation: .linear, bias: true) }
        // The freeze list: every expert (with `freezeExperts`), else each expert's own frozen prefixes
        // renamed into the graft, so a saved graft reloads with the same frozen weights.
        var freeze = [String]()
        for (b, e) in experts.enumerated() {
            if freezeExperts { freeze.append(String(prefix(expert: b).dropLast())) }
            else { freeze += (e.spec.training?.freeze ?? []).map { prefix(expert: b) + $0 } }
        }
        var block = training
        if !freeze.isEmpty {
            block = block ?? TrainingSpec()
            block!.freeze += freeze
        }
        let spec = NetworkSpec(name: name, dtype: first.dtype, seed: seed, inputShape: first.inputShape, layers: [.parallel(parallel)],
                               training: block)
        let net = try Network<T>(spec)
        for (b, e) in experts.enumerated() {
            for (i, n) in e.params.names.enumerated() {
                let target = prefix(expert: b) + n
                guard let j = net.params.index(of: target) else {
                    throw LoomError(.invalidModel, "graft.experts[\(b)]", "parameter \(n) has no place \(target) in the graft")
                }
                net.params.values[j] = e.params.values[i]   // a value: later changes to either side copy first
                if e.params.frozen[i] { net.params.frozen[j] = true }
            }
        }
        return net
    }

    /// A layer spec with its tied-weight references (`tied_dense`) renamed into the graft.
    static func retie(_ s: LayerSpec, _ prefix: String) -> LayerSpec {
        switch s {
        case .tiedDense(let w, let bias): return .tiedDense(weight: prefix + w, bias: bias)
        case .sequential(let l): return .sequential(l.map { retie($0, prefix) })
        case .residual(let l): return .residual(l.map { retie($0, prefix) })
        case .parallel(var p):
            p.branches = p.branches.map { retie($0, prefix) }
            p.gate = p.gate.map { retie($0, prefix) }
            return .parallel(p)
        default: return s
        }
    }
}
