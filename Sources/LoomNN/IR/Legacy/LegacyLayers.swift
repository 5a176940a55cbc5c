import LoomCore

/// One legacy layer turned into our IR: its spec, output shape (one sample), parameters (named
/// relative to the layer) and the kind that matters for the implicit residual wiring.
struct LegacyLayer {
    enum Kind { case rmsNorm, layerNorm, other }
    var spec: LayerSpec
    var input: [Int]
    var output: [Int]
    var params: [LegacyParam]
    var kind: Kind
}

/// Translates `LayerDefinition` objects one by one (docs/ir.md, "Importing the original Loom's files").
struct LegacyLayerParser {
    let options: LegacyOptions
    /// True for a saved bundle: sizes come from `input_height`/`output_height` as in the original's
    /// `DeserializeModel`, and the filter fields (never saved by the original) are ignored by it.
    let fromBundle: Bool
    var notes: [String] = []

    init(options: LegacyOptions, fromBundle: Bool) { self.options = options; self.fromBundle = fromBundle }

    mutating func note(_ s: String) { notes.append(s) }

    static let unsupported = ["conv2d", "conv1d", "conv3d", "mha", "multi_head_attention", "rnn", "lstm", "swiglu", "kmeans"]

    // MARK: activations

    /// `stringToActivation` of the original, or what the name says (see `LegacyOptions`).
    mutating func activation(_ f: LegacyFields, path: String) throws(LoomError) -> Activation {
        let raw = try f.string("activation")
        let shown = raw.isEmpty ? "no activation" : "activation \(legacyQuote(raw))"
        switch raw {
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softplus": return .softplus(threshold: 20)
        case "leaky_relu":
            note("\(path): \"leaky_relu\" has slope 0.1 in the original CPU code (its GPU shader uses 0.01); imported as leaky_relu with slope 0.1")
            return .leakyReLU(slope: 0.1)
        default: break
        }
        if options.legacySemantics {
            note("\(path): \(shown) means scaled ReLU ×1.1 in the original; imported as scaled_relu (legacy semantics)")
            return .scaledReLU(scale: 1.1)
        }
        switch raw {
        case "relu":
            note("\(path): \"relu\" is scaled ReLU ×1.1 in the original; imported as plain relu (legacy semantics off)")
            return .relu
        case "linear", "none", "":
            note("\(path): \(shown) runs as scaled ReLU ×1.1 in the original; imported as linear (legacy semantics off)")
            return .linear
        default:
            throw LoomError(.invalidIR, path + ".activation",
                            "\(legacyQuote(raw)) is not an activation of the original Loom (relu, sigmoid, tanh, softplus, leaky_relu, linear, none; it has no name for GELU); the original would run it as scaled ReLU ×1.1 — import with legacy semantics to get that")
        }
    }

    // MARK: softmax

    /// A softmax variant with the original's temperature rule (0 → 1; the standard variant uses it too).
    mutating func softmax(variant raw: String, temperature t0: Double?, f: LegacyFields?, width: Int,
                          path: String, variantPath: String) throws(LoomError) -> SoftmaxVariant {
        let t = t0 ?? 1
        guard t > 0 else { throw LoomError(.invalidIR, variantPath, "temperature \(t) is not positive; our softmax needs a positive temperature") }
        let plain: SoftmaxVariant = t == 1 ? .standard : .temperature(t)
        switch raw {
        case "", "standard", "temperature":
            return plain
        case "grid":
            guard let f = f, let r = try f.positive("softmax_rows"), let c = try f.positive("softmax_cols") else {
                throw LoomError(.invalidIR, variantPath, "a grid softmax needs softmax_rows and softmax_cols (the original fails without them)")
            }
            guard t == 1 else { throw LoomError(.invalidIR, path + ".temperature", "a grid softmax with temperature \(t) is not supported yet by this importer") }
            guard r * c == width else {
                throw LoomError(.shapeMismatch, path + ".softmax_rows", "grid \(r)×\(c) does not cover the \(width) input features")
            }
            return .grid(rows: r, cols: c)
        case "masked":
            guard let f = f else { throw LoomError(.invalidIR, variantPath, "a masked softmax needs a mask") }
            let m = try f.array("mask")
            guard !m.isEmpty else { throw LoomError(.invalidIR, path + ".mask", "a masked softmax needs a mask (the original fails without one)") }
            var mask = [Bool]()
            for (i, b) in m.enumerated() {
                guard let x = b.boolValue else { throw LoomError(.invalidIR, path + ".mask[\(i)]", "expected true or false") }
                mask.append(x)
            }
            if mask.count != width {
                note("\(path): the mask has \(mask.count) entries for \(width) features; the original then falls back to a standard softmax, and so does the import")
                return plain
            }
            guard mask.contains(true) else {
                throw LoomError(.invalidIR, path + ".mask", "masks every entry (the original then gives a uniform distribution); not supported")
            }
            guard t == 1 else { throw LoomError(.invalidIR, path + ".temperature", "a masked softmax with temperature \(t) is not supported yet by this importer") }
            note("\(path): masked entries get logit −1e9 in the original (probability ≈ 0); imported as exactly 0")
            return .masked(mask)
        case "hierarchical", "gumbel", "sparse", "adaptive", "mixture", "entmax":
            throw LoomError(.invalidIR, variantPath, "softmax variant \(legacyQuote(raw)) is not supported by this importer (supported: standard, temperature, grid, masked)")
        default:
            if options.legacySemantics {
                note("\(path): unknown softmax variant \(legacyQuote(raw)) is a standard softmax in the original; imported as such (legacy semantics)")
                return plain
            }
            throw LoomError(.invalidIR, variantPath, "unknown softmax variant \(legacyQuote(raw)) (standard, temperature, grid, masked); the original treats it as standard — import with legacy semantics to get that")
        }
    }

    // MARK: sizes

    /// Dense sizes: input `input_height` > `input_size` > `width`, output `output_height` >
    /// `output_size` > `height`; a bundle reads only `input_height`/`output_height` (as `DeserializeModel`).
    mutating func denseSizes(_ f: LegacyFields, path: String) throws(LoomError) -> (inKey: String, inputs: Int, outputs: Int) {
        let inKeys = fromBundle ? ["input_height"] : ["input_height", "input_size", "width"]
        let outKeys = fromBundle ? ["output_height"] : ["output_height", "output_size", "height"]
        var inKey = "", n = 0, outN = 0
        for k in inKeys { if let v = try f.positive(k) { inKey = k; n = v; break } }
        for k in outKeys { if let v = try f.positive(k) { outN = v; break } }
        guard n > 0 else { throw LoomError(.invalidIR, path + "." + inKeys[0], "a dense layer needs its input size (\(inKeys.joined(separator: ", ")))") }
        guard outN > 0 else { throw LoomError(.invalidIR, path + "." + outKeys[0], "a dense layer needs its output size (\(outKeys.joined(separator: ", ")))") }
        if !fromBundle {
            let w = try f.positive("width"), h = try f.positive("height")
            if (w != nil && w! != n) || (h != nil && h! != outN) {
                note("\(path): width/height (\(w ?? 0)/\(h ?? 0)) disagree with the sizes used (\(n)→\(outN)); the original's BuildNetworkFromJSON prefers width/height (the saved-config bug writes width:1,height:1), the import prefers input_height/output_height")
            }
        }
        return (inKey, n, outN)
    }

    /// The input width a layer declares, for inferring the network's input shape.
    static func declaredWidth(_ v: JSONValue) -> Int? {
        guard let f = try? LegacyFields(v, path: "") else { return nil }
        let type = (try? f.string("type")) ?? ""
        switch type {
        case "dense":
            for k in ["input_height", "input_size", "width"] { if let x = (try? f.positive(k)) ?? nil { return x } }
        case "layer_norm", "layernorm", "rms_norm", "rmsnorm":
            return (try? f.positive("norm_size")) ?? nil
        case "softmax":
            if let r = (try? f.positive("softmax_rows")) ?? nil, let c = (try? f.positive("softmax_cols")) ?? nil { return r * c }
            let m = (try? f.array("mask")) ?? []
            if !m.isEmpty { return m.count }
        case "parallel", "sequential":
            for b in (try? f.array("branches")) ?? [] { if let w = declaredWidth(b) { return w } }
        default: break
        }
        return nil
    }

    // MARK: layers

    mutating func layer(_ v: JSONValue, path: String, input: [Int], weights: LegacyWeights,
                        inBranch: Bool) throws(LoomError) -> LegacyLayer {
        let f = try LegacyFields(v, path: path)
        let type = try f.string("type")
        let width = input.last ?? 1
        if LegacyLayerParser.unsupported.contains(type) {
            throw LoomError(.invalidIR, path + ".type", "layer type \(legacyQuote(type)) is not supported yet by this importer (conv2d arrives with the layer-set issue)")
        }
        switch type {
        case "dense":
            let (inKey, n, outN) = try denseSizes(f, path: path)
            guard n == width else {
                throw LoomError(.shapeMismatch, path + "." + inKey, "the dense layer takes \(n) inputs but receives \(width) features")
            }
            let act = try activation(f, path: path)
            var params = [LegacyParam]()
            if weights.present {
                let k = try weights.floats("kernel", count: n * outN, what: "a \(n)→\(outN) dense kernel [in][out]")
                var t = [Double](repeating: 0, count: n * outN)
                for i in 0..<n { for o in 0..<outN { t[o * n + i] = k[i * outN + o] } }
                params.append(LegacyParam(local: "weight", shape: [outN, n], values: t))
                params.append(LegacyParam(local: "bias", shape: [outN],
                                          values: try weights.floats("biases", count: outN, what: "a dense layer of \(outN) outputs")))
            }
            var out = input
            out[out.count - 1] = outN
            return LegacyLayer(spec: .dense(units: outN, activation: act, bias: true), input: input, output: out, params: params, kind: .other)

        case "layer_norm", "layernorm", "rms_norm", "rmsnorm":
            let rms = type.hasPrefix("rms")
            if let ns = try f.positive("norm_size"), ns != width {
                throw LoomError(.shapeMismatch, path + ".norm_size", "is \(ns) but the layer receives \(width) features (per-chunk normalisation is not supported by this importer)")
            }
            if !f.has("norm_size") {
                note("\(path): no norm_size; normalising over the whole feature axis (\(width))")
            }
            let eps = try f.float32("epsilon") ?? Double(Float(1e-5))
            var params = [LegacyParam]()
            if weights.present {
                params.append(LegacyParam(local: "weight", shape: [width], values: try weights.floats("gamma", count: width, what: "a norm over \(width) features")))
                if !rms {
                    params.append(LegacyParam(local: "bias", shape: [width], values: try weights.floats("beta", count: width, what: "a norm over \(width) features")))
                }
            }
            let spec: LayerSpec = rms ? .rmsNorm(epsilon: eps, affine: true) : .layerNorm(epsilon: eps, affine: true)
            return LegacyLayer(spec: spec, input: input, output: input, params: params, kind: rms ? .rmsNorm : .layerNorm)

        case "softmax":
            let variant = try softmax(variant: try f.string("softmax_variant"), temperature: try f.float32("temperature"), f: f,
                                      width: width, path: path, variantPath: path + ".softmax_variant")
            if case .grid = variant {} else {
                note("\(path): the original picks the softmax's row length at run time (the layer's InputHeight, the network's InputSize or the whole vector, all samples together); imported as one softmax per sample over its \(width) features (the same for a single sample)")
            }
            return LegacyLayer(spec: .softmax(variant), input: input, output: input, params: [], kind: .other)

        case "embedding":
            if inBranch { throw LoomError(.invalidIR, path + ".type", "the original rejects an embedding inside a parallel layer") }
            guard let vocab = try f.positive("vocab_size") else { throw LoomError(.invalidIR, path + ".vocab_size", "an embedding needs vocab_size") }
            guard let dim = try f.positive("embedding_dim") else { throw LoomError(.invalidIR, path + ".embedding_dim", "an embedding needs embedding_dim") }
            var params = [LegacyParam]()
            if weights.present {
                params.append(LegacyParam(local: "weight", shape: [vocab, dim],
                                          values: try weights.floats("embedding_weights", count: vocab * dim, what: "a \(vocab)×\(dim) embedding table [vocab][dim]")))
            }
            note("\(path): the original flattens the looked-up vectors of all ids into one vector; imported with an extra axis of \(dim) features per id")
            return LegacyLayer(spec: .embedding(vocab: vocab, dim: dim), input: input, output: input + [dim], params: params, kind: .other)

        case "residual":
            if inBranch { throw LoomError(.invalidIR, path + ".type", "the original rejects a residual layer inside a parallel layer") }
            guard options.legacySemantics else {
                throw LoomError(.invalidIR, path + ".type", "a \"residual\" layer has no block in the original: its float32 CPU applies only the layer's activation, its generic path adds the previous layer's input; import with legacy semantics for the float32 CPU's behaviour, or write an explicit residual block")
            }
            let act = try activation(f, path: path)
            note("\(path): a \"residual\" layer only applies its activation in the original's float32 CPU forward (no skip connection); imported as an activation layer (legacy semantics)")
            return LegacyLayer(spec: .activation(act), input: input, output: input, params: [], kind: .other)

        case "sequential":
            let bs = try f.array("branches")
            guard !bs.isEmpty else { throw LoomError(.invalidIR, path + ".branches", "a sequential layer needs at least one layer in branches") }
            let ws = try weights.branches(count: bs.count)
            var shape = input, specs = [LegacyLayer]()
            var params = [LegacyParam]()
            for (i, b) in bs.enumerated() {
                let l = try layer(b, path: path + ".branches[\(i)]", input: shape, weights: ws[i], inBranch: inBranch)
                params += l.params.map { $0.under("layers.\(i)") }
                shape = l.output
                specs.append(l)
            }
            return LegacyLayer(spec: .sequential(specs.map { $0.spec }), input: input, output: shape, params: params, kind: .other)

        case "parallel":
            return try parallel(f, path: path, input: input, weights: weights)

        default:
            throw LoomError(.invalidIR, path + ".type", "unknown layer type \(legacyQuote(type)) (the original's types: dense, conv1d, conv2d, conv3d, mha, rnn, lstm, softmax, layer_norm, rms_norm, swiglu, embedding, residual, parallel, sequential, kmeans)")
        }
    }

    mutating func parallel(_ f: LegacyFields, path: String, input: [Int], weights: LegacyWeights) throws(LoomError) -> LegacyLayer {
        let bs = try f.array("branches")
        guard !bs.isEmpty else { throw LoomError(.invalidIR, path + ".branches", "a parallel layer needs at least one branch") }
        let ws = try weights.branches(count: bs.count)
        var branches = [LegacyLayer]()
        var params = [LegacyParam]()
        for (i, b) in bs.enumerated() {
            let l = try layer(b, path: path + ".branches[\(i)]", input: input, weights: ws[i], inBranch: true)
            params += l.params.map { $0.under("branches.\(i)") }
            branches.append(l)
        }
        let mode = try f.string("combine_mode")
        var p = ParallelSpec(branches: branches.map { $0.spec }, combine: .concat)
        var out = input
        func sameShapes(_ what: String) throws(LoomError) {
            for (i, b) in branches.enumerated() where b.output != branches[0].output {
                throw LoomError(.shapeMismatch, path + ".branches[\(i)]", "gives \(b.output.last ?? 0) features, branch 0 gives \(branches[0].output.last ?? 0); \(what) needs equal widths")
            }
        }
        func concatWidth() throws(LoomError) -> Int {
            var total = 0
            for (i, b) in branches.enumerated() {
                guard b.output.dropLast() == branches[0].output.dropLast() else {
                    throw LoomError(.shapeMismatch, path + ".branches[\(i)]", "output \(b.output) cannot be concatenated with branch 0's \(branches[0].output)")
                }
                total += b.output.last ?? 0
            }
            return total
        }
        switch mode {
        case "", "concat":
            out = branches[0].output
            out[out.count - 1] = try concatWidth()
            note("\(path): the original concatenates whole branch outputs (for a batch: branch 0 of every sample, then branch 1…); imported as a per-sample concat (the same for a single sample)")
        case "add", "avg", "average":
            try sameShapes(mode)
            p.combine = mode == "add" ? .add : .average
            out = branches[0].output
        case "grid_scatter":
            guard let r = try f.positive("grid_output_rows"), let c = try f.positive("grid_output_cols"),
                  let l = try f.positive("grid_output_layers") else {
                throw LoomError(.invalidIR, path + ".grid_output_rows", "grid_scatter needs grid_output_rows, grid_output_cols and grid_output_layers (the original fails without them)")
            }
            let gp = try f.array("grid_positions")
            guard gp.count == bs.count else {
                throw LoomError(.invalidIR, path + ".grid_positions", "has \(gp.count) entries for \(bs.count) branches")
            }
            var positions = [[Int]]()
            var used = [Int]()
            for (i, g) in gp.enumerated() {
                let gf = try LegacyFields(g, path: path + ".grid_positions[\(i)]")
                let row = try gf.int("target_row") ?? 0, col = try gf.int("target_col") ?? 0, lay = try gf.int("target_layer") ?? 0
                guard row >= 0, row < r, col >= 0, col < c, lay >= 0, lay < l else {
                    throw LoomError(.invalidIR, gf.path, "position (\(row), \(col), \(lay)) is outside the \(r)×\(c)×\(l) grid")
                }
                let cell = row * c * l + col * l + lay
                guard !used.contains(cell) else { throw LoomError(.invalidIR, gf.path, "cell (\(row), \(col), \(lay)) is already used by another branch") }
                used.append(cell)
                if let bi = try gf.int("branch_index"), bi != i {
                    note("\(gf.path): branch_index \(bi) is ignored by the original (entry i places branch i); imported the same way")
                }
                positions.append([row, col, lay])
            }
            p.combine = .gridScatter
            p.grid = GridSpec(rows: r, cols: c, layers: l, positions: positions)
            out = branches[0].output
            out[out.count - 1] = try concatWidth()
        case "filter":
            try sameShapes("filter")
            out = branches[0].output
            try filter(f, path: path, input: input, weights: weights, p: &p, params: &params)
        default:
            throw LoomError(.invalidIR, path + ".combine_mode", "unknown combine mode \(legacyQuote(mode)) (concat, add, avg, average, grid_scatter, filter)")
        }
        return LegacyLayer(spec: .parallel(p), input: input, output: out, params: params, kind: .other)
    }

    /// `filter` (softmax-gated mixture). The original's float32 CPU runs the gate only when it is a
    /// dense layer, as a linear layer (its activation is ignored) that reads its kernel as
    /// [out][in]; without a dense gate every branch gets weight 1/N (= `average`).
    mutating func filter(_ f: LegacyFields, path: String, input: [Int], weights: LegacyWeights,
                         p: inout ParallelSpec, params: inout [LegacyParam]) throws(LoomError) {
        let n = p.branches.count
        let width = input.last ?? 1
        note("\(path): the original pads branch outputs of different sizes with zeros (imported: equal widths required) and computes a dense gate from the first sample only, for the whole batch (imported: a gate per sample; the same for a single sample)")
        let gateDef = f.value("filter_gate")
        if fromBundle && options.legacySemantics {
            note("\(path): the original's DeserializeModel ignores filter_gate, filter_softmax and filter_temperature (its saved files never contain them), so a loaded filter layer gives every branch weight 1/\(n); imported as combine \"average\" (legacy semantics)")
            p.combine = .average
            return
        }
        guard let gv = gateDef else {
            note("\(path): no filter_gate: the original gives every branch weight 1/\(n); imported as combine \"average\"")
            p.combine = .average
            return
        }
        let gf = try LegacyFields(gv, path: path + ".filter_gate")
        let gtype = try gf.string("type")
        guard gtype == "dense" else {
            note("\(path): the filter gate is \(legacyQuote(gtype)), which the original ignores (only a dense gate runs): every branch gets weight 1/\(n); imported as combine \"average\"")
            p.combine = .average
            return
        }
        var gin = width, gout = n
        for k in ["input_height", "input_size", "width"] { if let x = try gf.positive(k) { gin = x; break } }
        for k in ["output_height", "output_size", "height"] { if let x = try gf.positive(k) { gout = x; break } }
        guard gin == width else { throw LoomError(.shapeMismatch, gf.path, "the gate takes \(gin) inputs but the layer receives \(width) features") }
        guard gout == n else { throw LoomError(.shapeMismatch, gf.path, "the gate gives \(gout) logits for \(n) branches") }
        let act = try gf.string("activation")
        if !act.isEmpty {
            note("\(path).filter_gate: activation \(legacyQuote(act)) is ignored by the original's filter (the gate is linear); imported as a linear gate")
        }
        p.combine = .filter
        p.gate = .dense(units: n, activation: .linear, bias: true)
        let sm = try softmax(variant: try f.string("filter_softmax"), temperature: try f.float32("filter_temperature"), f: nil,
                             width: n, path: path, variantPath: path + ".filter_softmax")
        if case .grid = sm { throw LoomError(.invalidIR, path + ".filter_softmax", "a grid gate softmax is not supported") }
        p.gateSoftmax = sm
        if let gw = weights.object?["filter_gate"] {
            let w = try LegacyWeights(gw, path: weights.at("filter_gate"))
            // Not transposed: the original's gate reads w[o*in+i], i.e. [out][in] — our layout already.
            params.append(LegacyParam(local: "gate.weight", shape: [n, width],
                                      values: try w.floats("kernel", count: n * width, what: "a \(width)→\(n) gate kernel, read as [out][in] by the original")))
            params.append(LegacyParam(local: "gate.bias", shape: [n], values: try w.floats("biases", count: n, what: "a gate of \(n) logits")))
            note("\(path).filter_gate: the original's gate reads its kernel as [out][in] (w[o·in+i]), the opposite of a dense layer's [in][out]; so its weights are already in our layout and were NOT transposed")
        } else {
            note("\(path).filter_gate: the original's gate reads its kernel as [out][in] (w[o·in+i]), not a dense layer's [in][out]; the original never saves gate weights, so the gate is initialised by Loom")
        }
    }
}
