import LoomCore

/// The hidden state of a recurrent layer for a batch: `h` `[batch, hidden]`, and `c`
/// `[batch, hidden]` for an LSTM (nil for rnn and gru). Used as an initial state (h0, c0), a
/// final state (h_S, c_S), and for their gradients.
public struct RecurrentState<T: LoomFloat> {
    public var h: Tensor<T>
    public var c: Tensor<T>?
    public init(h: Tensor<T>, c: Tensor<T>? = nil) { self.h = h; self.c = c }
}

/// A recurrent layer: `rnn` (tanh), `lstm` or `gru`, one layer, batch first, as PyTorch's
/// `nn.RNN`/`nn.LSTM`/`nn.GRU(batch_first=True)`.
///
/// Shapes: x `[batch, seq, in]`; y `[batch, seq, H]` (`return_sequences`) or `[batch, H]` (the
/// last step). Parameters (PyTorch's names and layouts, G gate blocks of H rows: rnn 1, LSTM 4 in
/// the order i, f, g, o, GRU 3 in the order r, z, n): `weight_ih` `[G·H, in]`, `weight_hh`
/// `[G·H, H]`, `bias_ih`, `bias_hh` `[G·H]`, all initialised U(−1/√H, 1/√H). The network runs from
/// h0 = c0 = +0; `forward(_:initial:_:)` / `backward(_:finalGradient:_:)` take an explicit initial
/// state and return the final state and dL/dh0 (dL/dc0).
///
/// Canonical order (docs/numerics.md, "Recurrent layers"); σ = `T.detSigmoid`, tanh = `T.detTanh`:
/// 1. `xp[b,t,g] = fma-chain over i of x[b,t,i]·W_ih[g,i]` starting at `b_ih[g]` (+0 without
///    bias): one `Gemm.run` over all B·S rows.
/// 2. For t = 0…S−1: `hp[b,g] = fma-chain over j of h_{t−1}[b,j]·W_hh[g,j]` starting at `b_hh[g]`
///    (one `Gemm.run` over the batch); then per unit u, with `a_k = xp[k·H+u] + hp[k·H+u]`:
///    - rnn: `h = tanh(a_0)`;
///    - lstm: `i = σ(a_0)`, `f = σ(a_1)`, `g = tanh(a_2)`, `o = σ(a_3)`, `c = fma(f, c_{t−1}, i·g)`,
///      `h = o·tanh(c)`;
///    - gru: `r = σ(a_0)`, `z = σ(a_1)`, `n = tanh(fma(r, hp[2H+u], xp[2H+u]))`,
///      `h = fma(z, h_{t−1}, (1 − z)·n)`.
/// Backward (BPTT), t = S−1…0, with `dh = carried + dy[t]` (carried starts at the final-state
/// gradient, +0 by default; without `return_sequences` dy is added once to it before the loop):
/// - rnn: `da = dh·(1 − h·h)`;
/// - lstm: `tc = tanh(c)`, `dc = fma(dh·o, 1 − tc·tc, dc_carried)`; `da_i = (dc·g)·(i·(1−i))`,
///   `da_f = (dc·c_{t−1})·(f·(1−f))`, `da_g = (dc·i)·(1 − g·g)`, `da_o = (dh·tc)·(o·(1−o))`;
///   `dc_carried = dc·f`;
/// - gru: `dn = (dh·(1−z))·(1 − n·n)`, `dz = (dh·(h_{t−1} − n))·(z·(1−z))`,
///   `dr = (dn·hp_n)·(r·(1−r))`; the hp-side gradient of the n block is `dn·r`;
/// - `dh_{t−1} = fma-chain over g of dhp[b,t,g]·W_hh[g,j]` (one `Gemm.run`), starting at +0
///   (gru: at `dh·z`).
/// After the loop, over the rows r = b·S + t in increasing order (sample outer, step inner):
/// `dW_ih[g,i] += fma-chain dxp[r,g]·x[r,i]`, `dW_hh[g,j] += fma-chain dhp[r,g]·h_{t−1}[r,j]`,
/// `db_ih[g] += Σ_r dxp[r,g]`, `db_hh[g] += Σ_r dhp[r,g]` (each a sequential chain continuing
/// from the gradient already there), `dx[r,i] = fma-chain over g of dxp[r,g]·W_ih[g,i]` from +0.
/// Samples never mix: work is split over batch rows or gemm outputs only.
public final class RecurrentLayer<T: LoomFloat>: Layer<T> {
    public let spec: RecurrentSpec
    public let inFeatures: Int
    public let steps: Int
    public var hiddenSize: Int { spec.hiddenSize }
    public let weightIH: Int, weightHH: Int
    public let biasIH: Int?, biasHH: Int?

    public init(path: String, name: String, id: Int, inputShape: [Int], spec: RecurrentSpec,
                params: ParameterStore<T>, seed: UInt64) {
        self.spec = spec
        steps = inputShape[0]
        inFeatures = inputShape[1]
        let h = spec.hiddenSize, gh = spec.cell.gates * h
        let bound = 1.0 / Double(h).squareRoot()
        func reg(_ n: String, _ shape: [Int]) -> Int {
            params.register(name + "." + n, shape: shape, Init.uniform(shape, bound: bound, seed: seed, name: name + "." + n))
        }
        weightIH = reg("weight_ih", [gh, inputShape[1]])
        weightHH = reg("weight_hh", [gh, h])
        biasIH = spec.bias ? reg("bias_ih", [gh]) : nil
        biasHH = spec.bias ? reg("bias_hh", [gh]) : nil
        super.init(path: path, name: name, id: id, inputShape: inputShape,
                   outputShape: spec.returnSequences ? [inputShape[0], h] : [h])
    }

    public override var typeName: String { spec.cell.rawValue }
    /// Every step's gate values and states (hidden and, for an LSTM, cell) saved for backward.
    public override var workspaceElementsPerSample: Int? { Limits.product([steps, spec.cell.gates + 2, spec.hiddenSize]) }
    public override var summary: String {
        "\(inFeatures)→\(hiddenSize) seq \(steps)" + (spec.returnSequences ? " all steps" : " last step") + (spec.bias ? "" : " no-bias")
    }
    public override var parameterIndices: [Int] { [weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 } }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        run(x, h0: nil, c0: nil, pass).output
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        backprop(dy, dhS: nil, dcS: nil, pass).dx
    }

    /// Runs the sequence from `initial` (h0, and c0 for an LSTM; nil: zeros) and returns the
    /// output and the final state (h_S, c_S). In a training pass, `backward(_:finalGradient:_:)`
    /// then gives dL/dx and dL/d(h0, c0).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func forward(_ x: Tensor<T>, initial: RecurrentState<T>?, _ pass: Pass<T>) throws(LoomError)
        -> (output: Tensor<T>, final: RecurrentState<T>) {
        guard x.rank == 3, x.shape[1] == steps, x.shape[2] == inFeatures, x.shape[0] > 0 else {
            throw LoomError(.shapeMismatch, path, "\(typeName) expects input [batch, \(steps), \(inFeatures)], got \(Tensor<T>.describe(x.shape))")
        }
        if let i = x.firstNonFinite { throw LoomError(.nonFinite, path, "input value at index \(i)") }
        let b = x.shape[0]
        if let s = initial {
            try check(s.h, batch: b, what: "h0")
            if spec.cell == .lstm {
                guard let c = s.c else { throw LoomError(.invalidInput, path, "an LSTM needs c0 as well as h0") }
                try check(c, batch: b, what: "c0")
            } else if s.c != nil {
                throw LoomError(.invalidInput, path, "\(typeName) has no cell state: c0 must be nil")
            }
        }
        let r = run(x, h0: initial?.h, c0: initial?.c, pass)
        return (r.output, RecurrentState(h: r.hS, c: r.cS))
    }

    /// BPTT from dL/dy and dL/d(final state) (nil: zeros); adds the parameter gradients and
    /// returns dL/dx and dL/d(h0, c0). Needs the training pass of `forward(_:initial:_:)`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func backward(_ dy: Tensor<T>, finalGradient: RecurrentState<T>?, _ pass: Pass<T>)
        -> (input: Tensor<T>, initial: RecurrentState<T>) {
        let r = backprop(dy, dhS: finalGradient?.h, dcS: finalGradient?.c, pass)
        return (r.dx, RecurrentState(h: r.dh0, c: r.dc0))
    }

    /// Inference from an explicit state without building a pass by hand.
    public func run(_ x: Tensor<T>, initial: RecurrentState<T>?, params: ParameterStore<T>,
                    context: ComputeContext = SerialContext()) throws(LoomError) -> (output: Tensor<T>, final: RecurrentState<T>) {
        try forward(x, initial: initial, Pass(context: context, params: params, training: false, layerCount: 0))
    }

    func check(_ s: Tensor<T>, batch: Int, what: String) throws(LoomError) {
        guard s.shape == [batch, hiddenSize] else {
            throw LoomError(.shapeMismatch, path, "\(what) must be [\(batch), \(hiddenSize)], got \(Tensor<T>.describe(s.shape))")
        }
        if let i = s.firstNonFinite { throw LoomError(.nonFinite, path, "\(what) value at index \(i)") }
    }
}

extension Network {
    /// The recurrent layer at IR path `path` (e.g. `layers[0]`, `layers[2].layers[1]`), for the
    /// explicit-state API of `RecurrentLayer`; nil if there is none there.
    public func recurrentLayer(at path: String) -> RecurrentLayer<T>? {
        for l in allLayers where l.path == path { return l as? RecurrentLayer<T> }
        return nil
    }
}
