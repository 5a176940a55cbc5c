import LoomCore

/// How to read the original Loom's files.
public struct LegacyOptions: Equatable, Sendable {
    /// Reproduce the original's quirks (the "legacy semantics switch"): "relu"/"linear"/"none"/unknown activation
    /// names → scaled_relu (×1.1); LeakyReLU slope 0.1; the implicit residual adds of the float32 ForwardCPU (§3.1:
    /// RMSNorm/MHA/SwiGLU/LayerNorm residual threading) where they can be expressed; a `residual` layer = activation only.
    /// When false (the default), names mean what they say: "relu" → relu, "linear"/"none" → linear, "leaky_relu" → slope 0.1
    /// still (that is the original CPU's definition), unknown names are an error.
    public var legacySemantics: Bool
    public init(legacySemantics: Bool = false) { self.legacySemantics = legacySemantics }
}

/// The result of an import: our IR, the weights of a saved bundle (named as in our parameter
/// registry, layout `[out][in]`), and one sentence per quirk of the original that was mapped.
public struct LegacyImport {
    public var spec: NetworkSpec
    public var weights: [(name: String, shape: [Int], values: [Double])]
    public var notes: [String]

    public init(spec: NetworkSpec, weights: [(name: String, shape: [Int], values: [Double])], notes: [String]) {
        self.spec = spec; self.weights = weights; self.notes = notes
    }
}

/// Reads the original (Go) Loom's network configs and saved `modelhost/bundle` files.
///
/// Mapping rules (also in docs/ir.md, "Importing the original Loom's files"):
/// - **Grid**: `len(layers)` must equal `grid_rows·grid_cols·layers_per_cell`; the grid is only
///   addressing in the original (its forward walks row → col → layer), so the layers become one
///   flat list in that order.
/// - **Input shape**: `[n]` with n from the first layer as in the original (`input_height` >
///   `input_size` > channels·height·width > channels·length > channels), else the width the first
///   layer declares (dense input, `norm_size`, softmax mask/grid, first branch of a container).
/// - **dense**: input `input_height` > `input_size` > `width`, output `output_height` > `output_size` >
///   `height` (the original's config builder prefers width/height, which its own saved configs set to
///   1: we prefer the *_height fields and note any disagreement); a bundle reads only
///   `input_height`/`output_height`, as the original's loader does. Consecutive widths must match.
///   Kernels are `[in][out]` in the original and are transposed to our `[out][in]`.
/// - **Activations**: sigmoid, tanh, softplus as named; leaky_relu with slope 0.1. With legacy
///   semantics every other name (relu, linear, none, missing, unknown) is scaled ReLU ×1.1;
///   without, relu → relu, linear/none/missing → linear, unknown → error.
/// - **Norms**: `norm_size` must equal the width, `epsilon` default 1e-5 (float32 as in Go),
///   gamma → weight, beta → bias.
/// - **softmax**: standard/temperature (temperature 0 → 1; the standard variant also divides by it),
///   grid, masked; other variants are errors.
/// - **parallel**: concat, add, avg/average, grid_scatter (positions in array order — the
///   original ignores `branch_index`), filter (a dense `filter_gate` becomes a linear gate whose
///   weights the original reads as `[out][in]`, so they are not transposed; no dense gate →
///   uniform weights → `average`). **sequential**: its `branches` in order.
/// - **Implicit residuals** (legacy semantics): an RMSNorm makes its input the pending residual;
///   a LayerNorm adds the pending residual to its input (then its output becomes the residual).
///   That is expressed exactly as `residual([layers from the source up to the LayerNorm])`
///   followed by the LayerNorm. MHA/SwiGLU threading is not importable (those types are not).
/// - **Bundles**: weights (`jsonModelB64`: base64 of JSON) are mapped to our parameter names with
///   every length checked; the first model unless `modelIndex` says otherwise.
public enum LegacyImporter {
    /// Accepts either a legacy network config ({"id","batch_size","grid_rows","grid_cols","layers_per_cell","layers":[...]})
    /// or a saved bundle ({"type":"modelhost/bundle","version":1,"models":[{"id","cfg":{...},"weights":{"fmt":"jsonModelB64","data":"<base64 of JSON>"}}]}).
    public static func convert(_ root: JSONValue, options: LegacyOptions, modelIndex: Int = 0) throws(LoomError) -> LegacyImport {
        guard let o = root.objectValue else { throw LoomError(.invalidIR, "(root)", "expected an object, got \(root.kindName)") }
        if o["format"]?.stringValue == "loom" {
            throw LoomError(.invalidIR, "format", "this is already a Loom IR file; no import needed")
        }
        if let t = o["type"] {
            guard t.stringValue == "modelhost/bundle" else {
                throw LoomError(.invalidModel, "type", "expected \"modelhost/bundle\" for a saved bundle of the original Loom")
            }
            return try bundle(o, options: options, modelIndex: modelIndex)
        }
        guard o["layers"] != nil else {
            throw LoomError(.invalidIR, "layers", "is required: expected a network config of the original Loom (id, grid_rows, grid_cols, layers_per_cell, layers) or a saved bundle (type \"modelhost/bundle\")")
        }
        guard modelIndex == 0 else {
            throw LoomError(.invalidArgument, "model", "a network config holds one model; --model \(modelIndex) applies only to bundles")
        }
        return try config(root, prefix: "", weights: nil, options: options)
    }

    public static func convert(json text: String, options: LegacyOptions) throws(LoomError) -> LegacyImport {
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch { throw LoomError.json(error, source: "") }
        return try convert(root, options: options)
    }

    /// Builds the network in f32 and loads the imported weights (when any) — convenience for the CLI.
    public static func network(_ imp: LegacyImport) throws(LoomError) -> Network<Float> {
        var spec = imp.spec
        spec.dtype = .f32
        let net = try Network<Float>(spec)
        for w in imp.weights {
            try net.setParameter(w.name, Tensor(uncheckedShape: w.shape, data: w.values.map { Float($0) }))
        }
        return net
    }

    // MARK: bundles

    static func bundle(_ o: JSONObject, options: LegacyOptions, modelIndex: Int) throws(LoomError) -> LegacyImport {
        var notes = [String]()
        if let v = o["version"], v.numberValue?.int != 1 {
            notes.append("version: the bundle says \(v.numberValue?.text ?? v.kindName); the original writes 1 and never checks it")
        }
        guard let models = o["models"]?.arrayValue else { throw LoomError(.invalidModel, "models", "is required (an array of models)") }
        guard !models.isEmpty else { throw LoomError(.invalidModel, "models", "the bundle holds no model") }
        guard modelIndex >= 0, modelIndex < models.count else {
            throw LoomError(.invalidArgument, "model", "the bundle holds \(models.count) model(s): 0..<\(models.count), got \(modelIndex)")
        }
        let mp = "models[\(modelIndex)]"
        let m = try LegacyFields(models[modelIndex], path: mp)
        if models.count > 1 {
            var ids = [String]()
            for x in models { ids.append(legacyQuote(x["id"]?.stringValue ?? "")) }
            notes.append("models: the bundle holds \(models.count) models (\(ids.joined(separator: ", "))) in file order, which the original wrote in Go map order (not meaningful); imported \(mp) \(legacyQuote(try m.string("id")))")
        }
        guard let cfg = m.value("cfg") else { throw LoomError(.invalidModel, mp + ".cfg", "is required") }
        guard let wv = m.value("weights") else { throw LoomError(.invalidModel, mp + ".weights", "is required") }
        let wf = try LegacyFields(wv, path: mp + ".weights")
        let fmt = try wf.string("fmt")
        guard fmt == "jsonModelB64" else {
            throw LoomError(.invalidModel, wf.at("fmt"), "weight format \(legacyQuote(fmt)) is not supported (only \"jsonModelB64\"; multiPrecisionB64 is not)")
        }
        let text = try wf.string("data")
        let bytes: [UInt8]
        do { bytes = try Base64.decode(text) } catch {
            throw LoomError(.invalidModel, wf.at("data"), "bad base64: \(error.description)")
        }
        guard let json = String(validating: bytes, as: UTF8.self) else {
            throw LoomError(.invalidModel, wf.at("data"), "the decoded weights are not UTF-8 JSON text")
        }
        let weights: JSONValue
        do { weights = try JSONValue.parse(json) } catch {
            throw LoomError(.invalidModel, wf.at("data"), "the decoded weights are not valid JSON (truncated?): \(error.description)")
        }
        var imp = try config(cfg, prefix: mp + ".cfg", weights: (weights, wf.at("data")), options: options)
        if imp.spec.name.isEmpty, let id = m.object["id"]?.stringValue { imp.spec.name = id }
        imp.notes = notes + imp.notes
        return imp
    }

    // MARK: configs

    static func config(_ root: JSONValue, prefix: String, weights: (JSONValue, String)?,
                       options: LegacyOptions) throws(LoomError) -> LegacyImport {
        let f = try LegacyFields(root, path: prefix)
        var parser = LegacyLayerParser(options: options, fromBundle: weights != nil)
        let rows = try f.int("grid_rows") ?? 0, cols = try f.int("grid_cols") ?? 0, lpc = try f.int("layers_per_cell") ?? 0
        let layers = try f.array("layers")
        guard rows >= 1, cols >= 1, lpc >= 1 else {
            throw LoomError(.invalidIR, f.at(rows < 1 ? "grid_rows" : cols < 1 ? "grid_cols" : "layers_per_cell"), "must be a positive integer")
        }
        guard layers.count == rows * cols * lpc else {
            throw LoomError(.invalidIR, f.at("layers"), "has \(layers.count) layers but grid_rows·grid_cols·layers_per_cell = \(rows)·\(cols)·\(lpc) = \(rows * cols * lpc) (the original's \"layer count mismatch\")")
        }
        guard !layers.isEmpty else { throw LoomError(.invalidIR, f.at("layers"), "must not be empty") }
        var notes = [String]()
        notes.append("grid: the \(rows)×\(cols)×\(lpc) grid is only addressing in the original (its forward runs the layers in row → col → layer order); imported as a flat list of \(layers.count) layers")
        if let b = try f.int("batch_size") {
            notes.append("batch_size: \(b) is not part of our IR (the batch is the first axis of the input); ignored")
        }
        let dt = try f.string("dtype")
        if !dt.isEmpty && dt != "float32" {
            notes.append("dtype: \(legacyQuote(dt)) only selects the original's multi-precision storage; imported as f32")
        }
        var seed: UInt64 = 0
        if let v = f.value("seed") {
            guard let s = v.numberValue?.int64 else { throw LoomError(.invalidIR, f.at("seed"), "expected an integer") }
            if s >= 0 { seed = UInt64(s) } else { notes.append("seed: \(s) is negative; using 0") }
        }

        // Weights of the bundle: one LayerWeights per layer.
        var layerWeights = [LegacyWeights](repeating: .none, count: layers.count)
        if let (wroot, wpath) = weights {
            let wf = try LegacyFields(wroot, path: wpath)
            let ty = try wf.string("type")
            if !ty.isEmpty && ty != "float32" {
                throw LoomError(.invalidModel, wf.at("type"), "weights of type \(legacyQuote(ty)) are not supported (float32 only)")
            }
            let wl = try wf.array("layers")
            guard wl.count == layers.count else {
                throw LoomError(.invalidModel, wf.at("layers"), "has \(wl.count) entries for \(layers.count) layers (the original's \"layer count mismatch\")")
            }
            for i in 0..<wl.count { layerWeights[i] = try LegacyWeights(wl[i], path: wf.at("layers") + "[\(i)]") }
        } else {
            notes.append("weights: a config has none; every parameter is initialised by Loom from seed \(seed) (the original initialises them with its own random scheme)")
        }

        // Input shape (§1.1).
        let l0 = try LegacyFields(layers[0], path: f.at("layers") + "[0]")
        var inputSize: Int? = nil
        if let h = try l0.positive("input_height") { inputSize = h } else if let s = try l0.positive("input_size") { inputSize = s }
        else if let c = try l0.positive("input_channels") {
            if let h = try l0.positive("input_height"), let w = try l0.positive("input_width") { inputSize = c * h * w }
            else if let len = try l0.positive("input_length") { inputSize = c * len } else { inputSize = c }
        }
        let firstType = try l0.string("type")
        if firstType == "embedding" {
            if inputSize == nil {
                notes.append("input: the first layer is an embedding without input_size; imported for sequences of 1 token (edit input.shape for longer ones)")
            }
        } else if inputSize == nil {
            guard let w = LegacyLayerParser.declaredWidth(layers[0]) else {
                throw LoomError(.invalidIR, l0.path, "cannot infer the network's input size: the first layer declares none (give input_size or input_height)")
            }
            inputSize = w
        }
        let inputShape = [inputSize ?? 1]

        // Layers, then the implicit residual wiring.
        var parsed = [LegacyLayer]()
        var shape = inputShape
        for (i, l) in layers.enumerated() {
            let p = try parser.layer(l, path: f.at("layers") + "[\(i)]", input: shape, weights: layerWeights[i], inBranch: false)
            shape = p.output
            parsed.append(p)
        }
        notes += parser.notes
        let (top, names, residualNotes) = try wire(parsed, pathPrefix: f.at("layers"), legacy: options.legacySemantics)
        notes += residualNotes

        var out = [(name: String, shape: [Int], values: [Double])]()
        for (i, p) in parsed.enumerated() {
            for w in p.params { out.append((name: names[i] + "." + w.local, shape: w.shape, values: w.values)) }
        }
        let name = try f.string("id")
        let spec = NetworkSpec(name: name, dtype: .f32, seed: seed, inputShape: inputShape, layers: top)
        return LegacyImport(spec: spec, weights: out, notes: notes)
    }

    /// The original's float32 `ForwardCPU` threads a hidden `residualInput`: an RMSNorm sets it to
    /// its own input; a LayerNorm adds it to its input before normalising and, when it was set,
    /// replaces it with its output. With legacy semantics that is rebuilt exactly as
    /// `residual([source … layer before the LayerNorm])` + LayerNorm (`residual([activation linear])`
    /// when the source is the LayerNorm's own input: x + x). Returns the top-level layers, the
    /// parameter-name prefix of every legacy layer, and the notes.
    static func wire(_ parsed: [LegacyLayer], pathPrefix: String, legacy: Bool) throws(LoomError) -> ([LayerSpec], [String], [String]) {
        // Entries of the top level: each a list of legacy layer indices; `grouped` marks a residual.
        var entries = [(members: [Int], grouped: Bool)]()
        var notes = [String]()
        var source: Int? = nil  // legacy index whose input is the pending residual
        var sourceEntry = 0     // entries index where that legacy layer sits
        var sourceWhat = ""
        for (j, l) in parsed.enumerated() {
            switch l.kind {
            case .rmsNorm:
                source = j; sourceEntry = entries.count; sourceWhat = "the input of \(pathPrefix)[\(j)] (an RMSNorm)"
                entries.append(([j], false))
            case .layerNorm:
                if let s = source {
                    let from = s < parsed.count ? parsed[s].input : l.input
                    guard from == l.input || !legacy else {
                        throw LoomError(.shapeMismatch, "\(pathPrefix)[\(j)]", "in the original this LayerNorm adds \(sourceWhat) (\(from.last ?? 0) features) to its input (\(l.input.last ?? 0) features); the widths differ, so the original's behaviour cannot be reproduced")
                    }
                    if legacy {
                        if sourceEntry == entries.count {
                            entries.append(([], true))
                        } else {
                            var members = [Int]()
                            for e in entries[sourceEntry...] { members += e.members }
                            entries.removeSubrange(sourceEntry...)
                            entries.append((members, true))
                        }
                        notes.append("\(pathPrefix)[\(j)]: the original's LayerNorm adds \(sourceWhat) to its input (implicit residual); imported as an explicit residual block before the layer norm (legacy semantics)")
                    } else {
                        notes.append("\(pathPrefix)[\(j)]: the original's LayerNorm adds \(sourceWhat) to its input (implicit residual); NOT reproduced (legacy semantics off)")
                    }
                    entries.append(([j], false))
                    source = j + 1; sourceEntry = entries.count; sourceWhat = "the output of \(pathPrefix)[\(j)] (a LayerNorm)"
                } else {
                    entries.append(([j], false))
                }
            case .other:
                entries.append(([j], false))
            }
        }
        var top = [LayerSpec]()
        var names = [String](repeating: "", count: parsed.count)
        for (k, e) in entries.enumerated() {
            if e.grouped {
                if e.members.isEmpty {
                    top.append(.residual([.activation(.linear)]))
                } else {
                    for (m, j) in e.members.enumerated() { names[j] = "layers.\(k).layers.\(m)" }
                    top.append(.residual(e.members.map { parsed[$0].spec }))
                }
            } else {
                names[e.members[0]] = "layers.\(k)"
                top.append(parsed[e.members[0]].spec)
            }
        }
        return (top, names, notes)
    }
}
