import LoomCore

/// Builds layers from specs, inferring every shape and checking it, with errors that name the
/// place in the IR (`layers[3].units`).
struct Builder<T: LoomFloat> {
    let params: ParameterStore<T>
    let seed: UInt64
    var nextID = 0

    mutating func takeID() -> Int { defer { nextID += 1 }; return nextID }

    mutating func buildSequence(_ specs: [LayerSpec], path: String, name: String, listKey: String,
                                input: [Int], kind: String) throws(LoomError) -> SequentialLayer<T> {
        let id = takeID()
        var shape = input
        var layers = [Layer<T>]()
        for (i, s) in specs.enumerated() {
            let l = try build(s, path: "\(path.isEmpty ? "" : path + ".")\(listKey)[\(i)]",
                              name: "\(name.isEmpty ? "" : name + ".")\(listKey).\(i)", input: shape)
            shape = l.outputShape
            layers.append(l)
        }
        return SequentialLayer(path: path, name: name, id: id, inputShape: input, layers: layers, kind: kind)
    }

    /// The most elements one tensor may have (`Limits.maxElements`). Larger requests are refused
    /// before anything is allocated, so an absurd size in a file is an error, not a crash.
    static var maxElements: Int { Limits.maxElements }

    /// The element count of `dims`, or an error naming `path` when it overflows or exceeds the limit.
    static func checkedCount(_ dims: [Int], path: String, what: String) throws(LoomError) -> Int {
        guard let n = Limits.product(dims), n <= maxElements else {
            throw LoomError(.invalidIR, path, "\(what) \(Tensor<T>.describe(dims)) has more than 2^31 elements")
        }
        return n
    }

    mutating func build(_ spec: LayerSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        let layer = try buildUnchecked(spec, path: path, name: name, input: input)
        _ = try Builder.checkedCount(layer.outputShape, path: path, what: "the output of one sample,")
        return layer
    }

    mutating func buildUnchecked(_ spec: LayerSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        let features = input.last ?? 0
        func needFeatures() throws(LoomError) {
            guard !input.isEmpty, features > 0 else {
                throw LoomError(.shapeMismatch, path, "\(spec.typeName) needs an input with a feature axis, got \(Tensor<T>.describe(input))")
            }
        }
        switch spec {
        case .dense(let units, let act, let bias):
            try needFeatures()
            guard units > 0 else { throw LoomError(.invalidIR, path + ".units", "must be a positive integer, got \(units)") }
            _ = try Builder.checkedCount([units, features], path: path + ".units", what: "the weight")
            return DenseLayer(path: path, name: name, id: takeID(), inputShape: input, units: units, activation: act,
                              bias: bias, stitch: false, params: params, seed: seed)
        case .stitch(let units, let bias):
            try needFeatures()
            guard units > 0 else { throw LoomError(.invalidIR, path + ".units", "must be a positive integer, got \(units)") }
            _ = try Builder.checkedCount([units, features], path: path + ".units", what: "the weight")
            return DenseLayer(path: path, name: name, id: takeID(), inputShape: input, units: units, activation: .linear,
                              bias: bias, stitch: true, params: params, seed: seed)
        case .embedding(let vocab, let dim):
            guard vocab > 0 else { throw LoomError(.invalidIR, path + ".vocab_size", "must be a positive integer, got \(vocab)") }
            guard dim > 0 else { throw LoomError(.invalidIR, path + ".dim", "must be a positive integer, got \(dim)") }
            _ = try Builder.checkedCount([vocab, dim], path: path, what: "the embedding table")
            return EmbeddingLayer(path: path, name: name, id: takeID(), inputShape: input, vocab: vocab, dim: dim,
                                  params: params, seed: seed)
        case .layerNorm(let eps, let affine), .rmsNorm(let eps, let affine):
            try needFeatures()
            guard eps > 0, eps.isFinite else { throw LoomError(.invalidIR, path + ".epsilon", "must be a positive number") }
            var rms = false
            if case .rmsNorm = spec { rms = true }
            return NormLayer(path: path, name: name, id: takeID(), inputShape: input, rms: rms, epsilon: eps,
                             affine: affine, params: params)
        case .softmax(let variant):
            try needFeatures()
            try Builder.check(variant, features: features, path: path)
            return SoftmaxLayer(path: path, name: name, id: takeID(), inputShape: input, variant: variant)
        case .dropout(let rate):
            guard rate >= 0, rate < 1 else { throw LoomError(.invalidIR, path + ".rate", "must be in [0, 1), got \(rate)") }
            return DropoutLayer(path: path, name: name, id: takeID(), inputShape: input, rate: rate)
        case .activation(let act):
            return ActivationLayer(path: path, name: name, id: takeID(), inputShape: input, activation: act)
        case .sequential(let specs):
            guard !specs.isEmpty else { throw LoomError(.invalidIR, path + ".layers", "must not be empty") }
            return try buildSequence(specs, path: path, name: name, listKey: "layers", input: input, kind: "sequential")
        case .residual(let specs):
            guard !specs.isEmpty else { throw LoomError(.invalidIR, path + ".layers", "must not be empty") }
            let id = takeID()
            let block = try buildSequence(specs, path: path, name: name, listKey: "layers", input: input, kind: "block")
            guard block.outputShape == input else {
                throw LoomError(.shapeMismatch, path, "a residual block must keep its shape: input \(Tensor<T>.describe(input)), block output \(Tensor<T>.describe(block.outputShape))")
            }
            return ResidualLayer(path: path, name: name, id: id, inputShape: input, block: block)
        case .parallel(let p):
            return try buildParallel(p, path: path, name: name, input: input)
        case .conv(let c):
            return try buildConv(c, path: path, name: name, input: input)
        case .pool(let p):
            return try buildPool(p, path: path, name: name, input: input)
        case .globalAvgPool, .flatten, .reshape:
            return try buildShapeLayer(spec, path: path, name: name, input: input)
        case .recurrent(let r):
            return try buildRecurrent(r, path: path, name: name, input: input)
        case .kmeans(let s):
            return try buildKMeans(s, path: path, name: name, input: input)
        case .multiHeadAttention(let a):
            return try buildAttention(a, path: path, name: name, input: input)
        case .swiglu(let hidden, let units, let bias):
            return try buildSwiGLU(hidden: hidden, units: units, bias: bias, path: path, name: name, input: input)
        case .tiedDense(let weight, let bias):
            try needFeatures()
            guard let wi = params.index(of: weight) else {
                throw LoomError(.invalidIR, path + ".weight", "no parameter named \"\(weight)\" is defined before this layer")
            }
            let shape = params.values[wi].shape
            guard shape.count == 2, shape[1] == features else {
                throw LoomError(.shapeMismatch, path + ".weight", "\(weight) is \(Tensor<T>.describe(shape)); a dense layer on \(features) features needs [units, \(features)]")
            }
            return DenseLayer(path: path, name: name, id: takeID(), inputShape: input, tiedWeight: wi, units: shape[0],
                              bias: bias, params: params, seed: seed)
        case .positionEmbedding(let maxPositions):
            guard input.count == 2, features > 0 else {
                throw LoomError(.shapeMismatch, path, "position_embedding needs [positions, features], got \(Tensor<T>.describe(input))")
            }
            guard maxPositions >= input[0] else {
                throw LoomError(.invalidIR, path + ".max_positions", "is \(maxPositions), smaller than the input's \(input[0]) positions")
            }
            _ = try Builder.checkedCount([maxPositions, features], path: path + ".max_positions", what: "the table")
            return PositionEmbeddingLayer(path: path, name: name, id: takeID(), inputShape: input, maxPositions: maxPositions,
                                          params: params, seed: seed)
        case .bias:
            try needFeatures()
            return BiasLayer(path: path, name: name, id: takeID(), inputShape: input, params: params)
        }
    }

    static func check(_ variant: SoftmaxVariant, features: Int, path: String) throws(LoomError) {
        switch variant {
        case .standard: break
        case .temperature(let t):
            guard t > 0, t.isFinite else { throw LoomError(.invalidIR, path + ".temperature", "must be a positive number, got \(t)") }
        case .masked(let m):
            guard m.count == features else {
                throw LoomError(.shapeMismatch, path + ".mask", "has \(m.count) entries but the input has \(features) features")
            }
            guard m.contains(true) else { throw LoomError(.invalidIR, path + ".mask", "masks every entry") }
        case .grid(let r, let c):
            guard r > 0, c > 0, Limits.product(r, c) == features else {
                throw LoomError(.shapeMismatch, path, "grid \(r)×\(c) does not cover the \(features) input features")
            }
        default:
            try checkFamily(variant, features: features, path: path)
        }
    }

    mutating func buildParallel(_ p: ParallelSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        guard !p.branches.isEmpty else { throw LoomError(.invalidIR, path + ".branches", "must not be empty") }
        let id = takeID()
        var branches = [Layer<T>]()
        for (i, b) in p.branches.enumerated() {
            branches.append(try build(b, path: "\(path).branches[\(i)]", name: "\(name).branches.\(i)", input: input))
        }
        var order = Array(0..<branches.count)
        var gate: Layer<T>? = nil
        var gateSoftmax: SoftmaxLayer<T>? = nil
        switch p.combine {
        case .concat, .gridScatter:
            let lead = branches[0].outputShape.dropLast()
            for (i, b) in branches.enumerated() where b.outputShape.dropLast() != lead || b.outputShape.isEmpty {
                throw LoomError(.shapeMismatch, "\(path).branches[\(i)]", "output \(Tensor<T>.describe(b.outputShape)) cannot be concatenated with \(Tensor<T>.describe(branches[0].outputShape))")
            }
            if p.combine == .gridScatter {
                guard let g = p.grid else { throw LoomError(.invalidIR, path + ".grid", "grid_scatter needs a grid") }
                order = try Builder.gridOrder(g, branches: branches.count, path: path + ".grid")
            }
        case .add, .multiply, .average, .filter:
            for (i, b) in branches.enumerated() where b.outputShape != branches[0].outputShape {
                throw LoomError(.shapeMismatch, "\(path).branches[\(i)]", "output \(Tensor<T>.describe(b.outputShape)) differs from branch 0's \(Tensor<T>.describe(branches[0].outputShape)); \(p.combine.rawValue) needs equal shapes (use a stitch layer to project)")
            }
            if p.combine == .filter {
                guard let gs = p.gate else { throw LoomError(.invalidIR, path + ".gate", "filter needs a gate layer") }
                let g = try build(gs, path: path + ".gate", name: name + ".gate", input: input)
                guard g.outputShape.last == branches.count, g.outputShape.dropLast() == input.dropLast() else {
                    throw LoomError(.shapeMismatch, path + ".gate", "the gate must output one logit per branch (\(branches.count)) per row, got \(Tensor<T>.describe(g.outputShape))")
                }
                try Builder.check(p.gateSoftmax, features: branches.count, path: path + ".gate_softmax")
                guard SoftmaxLayer<T>.outputShape(p.gateSoftmax, input: g.outputShape) == g.outputShape else {
                    throw LoomError(.invalidIR, path + ".gate_softmax", "a gate softmax must keep its width (not \(p.gateSoftmax.name))")
                }
                gateSoftmax = SoftmaxLayer(path: path + ".gate_softmax", name: name + ".gate_softmax", id: takeID(),
                                           inputShape: g.outputShape, variant: p.gateSoftmax)
                gate = g
            }
        }
        return ParallelLayer(path: path, name: name, id: id, inputShape: input, branches: branches, mode: p.combine,
                             gate: gate, gateSoftmax: gateSoftmax, order: order)
    }

    /// Branch order of a grid_scatter output: by cell index r·C·L + c·L + l.
    static func gridOrder(_ g: GridSpec, branches: Int, path: String) throws(LoomError) -> [Int] {
        guard g.rows > 0, g.cols > 0, g.layers > 0 else { throw LoomError(.invalidIR, path, "rows, cols and layers must be positive") }
        guard (Limits.product([g.rows, g.cols, g.layers]) ?? Int.max) <= maxElements else {
            throw LoomError(.invalidIR, path, "a \(g.rows)×\(g.cols)×\(g.layers) grid has more than 2^31 cells")
        }
        guard g.positions.count == branches else {
            throw LoomError(.invalidIR, path + ".positions", "has \(g.positions.count) entries for \(branches) branches")
        }
        var cells = [(cell: Int, branch: Int)]()
        for (i, p) in g.positions.enumerated() {
            guard p.count == 3, p[0] >= 0, p[0] < g.rows, p[1] >= 0, p[1] < g.cols, p[2] >= 0, p[2] < g.layers else {
                throw LoomError(.invalidIR, "\(path).positions[\(i)]", "must be [row, col, layer] inside the grid")
            }
            let cell = p[0] * g.cols * g.layers + p[1] * g.layers + p[2]
            if cells.contains(where: { $0.cell == cell }) {
                throw LoomError(.invalidIR, "\(path).positions[\(i)]", "cell already used by another branch")
            }
            cells.append((cell, i))
        }
        cells.sort { $0.cell < $1.cell }
        return cells.map { $0.branch }
    }
}
