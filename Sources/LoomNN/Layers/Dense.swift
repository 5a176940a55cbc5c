import LoomCore

/// A fully connected layer: `y = act(x · Wᵀ + b)` on the last axis.
///
/// Shapes: x `[rows…, in]`, W `[out, in]` (PyTorch layout), b `[out]`, y `[rows…, out]`.
/// Canonical order (docs/numerics.md): for each output, `acc = b[o]` (or +0 without bias), then
/// `acc = fma(x[i], W[o,i], acc)` for i = 0…in−1, then `y = act(acc)`.
/// Backward: `g = dy ⊙ act'(pre)`; `dW[o,i] += Σ_r g[r,o]·x[r,i]` (fma chain over rows r in
/// order); `db[o] += Σ_r g[r,o]` (adds in row order); `dx[r,i] = Σ_o g[r,o]·W[o,i]` (fma chain over o).
/// `stitch` is this layer with a linear activation.
public final class DenseLayer<T: LoomFloat>: Layer<T> {
    public let inFeatures: Int
    public let units: Int
    public let activation: Activation
    public let weightIndex: Int
    public let biasIndex: Int?
    public let isStitch: Bool

    public init(path: String, name: String, id: Int, inputShape: [Int], units: Int, activation: Activation,
                bias: Bool, stitch: Bool, params: ParameterStore<T>, seed: UInt64) {
        let inF = inputShape.last ?? 1
        self.inFeatures = inF
        self.units = units
        self.activation = activation
        self.isStitch = stitch
        // PyTorch's default: U(−1/√in, 1/√in) for weight and bias.
        let bound = 1.0 / Double(Swift.max(inF, 1)).squareRoot()
        weightIndex = params.register(name + ".weight", shape: [units, inF],
                                      Init.uniform([units, inF], bound: bound, seed: seed, name: name + ".weight"))
        biasIndex = bias ? params.register(name + ".bias", shape: [units],
                                           Init.uniform([units], bound: bound, seed: seed, name: name + ".bias")) : nil
        var out = inputShape
        if out.isEmpty { out = [units] } else { out[out.count - 1] = units }
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: out)
    }

    /// A dense layer (linear) whose weight is the existing parameter `tiedWeight` (`[units, in]`);
    /// its gradient adds into that parameter's.
    public init(path: String, name: String, id: Int, inputShape: [Int], tiedWeight: Int, units: Int, bias: Bool,
                params: ParameterStore<T>, seed: UInt64) {
        let inF = inputShape.last ?? 1
        self.inFeatures = inF
        self.units = units
        self.activation = .linear
        self.isStitch = false
        self.tiedTo = params.names[tiedWeight]
        weightIndex = tiedWeight
        let bound = 1.0 / Double(Swift.max(inF, 1)).squareRoot()
        biasIndex = bias ? params.register(name + ".bias", shape: [units], Init.uniform([units], bound: bound, seed: seed, name: name + ".bias")) : nil
        var out = inputShape
        out[out.count - 1] = units
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: out)
    }

    /// The name of the shared weight for a tied layer.
    public private(set) var tiedTo: String? = nil

    public override var typeName: String { tiedTo != nil ? "tied_dense" : isStitch ? "stitch" : "dense" }
    public override var summary: String {
        "\(inFeatures)→\(units)" + (activation.isLinear ? "" : " \(activation.name)") + (biasIndex == nil ? " no-bias" : "")
            + (tiedTo.map { " weight tied to \($0)" } ?? "")
    }
    /// A tied layer owns only its bias (the weight belongs to the layer that defined it).
    public override var parameterIndices: [Int] {
        let own = tiedTo == nil ? [weightIndex] : []
        return own + (biasIndex.map { [$0] } ?? [])
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        guard x.lastDim == inFeatures else {
            throw LoomError(.shapeMismatch, path, "expects \(inFeatures) features, got \(Tensor<T>.describe(x.shape))")
        }
        let pre = Projection.forward(pass, x.data, rows: x.rows, inF: inFeatures, weight: weightIndex, outF: units, bias: biasIndex)
        var shape = x.shape
        shape[shape.count - 1] = units
        let preT = Tensor(uncheckedShape: shape, data: pre)
        if activation.isLinear {
            pass.save(id, [x])
            return preT
        }
        let act = activation
        let y = Tensor(uncheckedShape: shape, data: act.applyAll(pass.context, pre))
        pass.save(id, [x, preT, y])
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let saved = pass.saved[id]
        let x = saved[0]
        let rows = x.rows
        var g = dy.data
        if !activation.isLinear {
            let act = activation
            act.backpropagate(pass.context, &g, x: saved[1].data, y: saved[2].data)
        }
        Projection.paramGrads(pass, g, rows: rows, outF: units, x.data, inF: inFeatures, weight: weightIndex, bias: biasIndex)
        var dx = [T](repeating: 0, count: rows * inFeatures)
        Projection.inputGrad(pass.context, g, rows: rows, outF: units, pass.params.values[weightIndex].data, inF: inFeatures,
                             into: &dx, accumulate: false)
        return Tensor(uncheckedShape: x.shape, data: dx)
    }
}
