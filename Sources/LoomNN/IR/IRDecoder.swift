import LoomCore

/// JSON → `NetworkSpec` (docs/ir.md). Every error names its path.
public enum IRDecoder {
    public static func decode(json text: String, source: String = "") throws(LoomError) -> NetworkSpec {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch { throw LoomError.json(error, source: source) }
        return try decode(v)
    }

    public static func decode(_ root: JSONValue) throws(LoomError) -> NetworkSpec {
        var f = try IRFields(root, path: "")
        let format = try f.string("format")
        guard format == "loom" else {
            throw LoomError(.invalidIR, "format", "expected \"loom\", got \"\(format)\" (for files of the original Go Loom use the legacy importer: `loom import`)")
        }
        let version = try f.int("version")
        guard version == NetworkSpec.currentVersion else {
            throw LoomError(.unsupportedVersion, "version", "this Loom reads IR version \(NetworkSpec.currentVersion), the file has \(version)")
        }
        let name = try f.string("name", "")
        let dtypeName = try f.string("dtype", "f32")
        guard let dtype = DType(name: dtypeName) else {
            throw LoomError(.invalidIR, "dtype", "must be one of \(DType.allCases.map { $0.name }.joined(separator: ", ")), got \"\(dtypeName)\"")
        }
        let seed = try f.uint64("seed", 0)
        var inF = try IRFields(try f.required("input"), path: "input")
        guard let shapeV = try inF.array("shape") else { throw LoomError(.invalidIR, "input.shape", "is required") }
        var shape = [Int]()
        for (i, d) in shapeV.enumerated() { shape.append(try IRFields.int(d, path: "input.shape[\(i)]", min: 1)) }
        guard !shape.isEmpty else { throw LoomError(.invalidIR, "input.shape", "must not be empty") }
        try inF.finish()
        guard let layersV = try f.array("layers") else { throw LoomError(.invalidIR, "layers", "is required") }
        let layers = try decodeLayers(layersV, path: "layers")
        var training: TrainingSpec? = nil
        if let t = f.value("training") { training = try TrainingDecoder.decode(t, path: "training") }
        try f.finish(known: ["weights", "optimizer_state"])
        return NetworkSpec(name: name, dtype: dtype, seed: seed, inputShape: shape, layers: layers, training: training)
    }

    static func decodeLayers(_ a: [JSONValue], path: String) throws(LoomError) -> [LayerSpec] {
        var out = [LayerSpec]()
        for (i, l) in a.enumerated() { out.append(try decodeLayer(l, path: "\(path)[\(i)]")) }
        return out
    }

    public static func decodeActivation(_ v: JSONValue, path: String) throws(LoomError) -> Activation {
        if let s = v.stringValue {
            guard let a = Activation.named(s) else {
                throw LoomError(.invalidIR, path, "unknown activation \"\(s)\" (known: \(Activation.allNames.joined(separator: ", ")))")
            }
            return a
        }
        var f = try IRFields(v, path: path)
        let name = try f.string("name")
        guard let base = Activation.named(name) else {
            throw LoomError(.invalidIR, path + ".name", "unknown activation \"\(name)\" (known: \(Activation.allNames.joined(separator: ", ")))")
        }
        var a = base
        switch base {
        case .scaledReLU(let d): a = .scaledReLU(scale: try f.double("scale", d))
        case .leakyReLU(let d): a = .leakyReLU(slope: try f.double("slope", d))
        case .softplus(let d): a = .softplus(threshold: try f.double("threshold", d))
        case .elu(let d): a = .elu(alpha: try f.double("alpha", d))
        default: break
        }
        try f.finish()
        return a
    }

    static func decodeSoftmax(_ f: inout IRFields) throws(LoomError) -> SoftmaxVariant {
        let variant = try f.string("variant", "standard")
        switch variant {
        case "standard": return .standard
        case "temperature": return .temperature(try f.double("temperature"))
        case "masked":
            guard let m = try f.array("mask") else { throw LoomError(.invalidIR, f.at("mask"), "is required for a masked softmax") }
            var mask = [Bool]()
            for (i, b) in m.enumerated() {
                guard let v = b.boolValue else { throw LoomError(.invalidIR, f.at("mask") + "[\(i)]", "expected true or false") }
                mask.append(v)
            }
            return .masked(mask)
        case "grid": return .grid(rows: try f.int("rows", min: 1), cols: try f.int("cols", min: 1))
        default:
            if let v = try decodeSoftmaxFamily(variant, &f) { return v }
            throw LoomError(.invalidIR, f.at("variant"), "unknown softmax variant \"\(variant)\" (standard, temperature, masked, grid, hierarchical, gumbel, sparsemax, entmax, adaptive, mixture)")
        }
    }

    static func decodeLayer(_ v: JSONValue, path: String) throws(LoomError) -> LayerSpec {
        var f = try IRFields(v, path: path)
        let type = try f.string("type")
        let spec: LayerSpec
        switch type {
        case "dense":
            let act = try f.value("activation").map { (a) throws(LoomError) in try decodeActivation(a, path: f.at("activation")) } ?? .linear
            spec = .dense(units: try f.int("units", min: 1), activation: act, bias: try f.bool("bias", true))
        case "stitch":
            spec = .stitch(units: try f.int("units", min: 1), bias: try f.bool("bias", true))
        case "embedding":
            spec = .embedding(vocab: try f.int("vocab_size", min: 1), dim: try f.int("dim", min: 1))
        case "layer_norm":
            spec = .layerNorm(epsilon: try f.double("epsilon", 1e-5), affine: try f.bool("affine", true))
        case "rms_norm":
            spec = .rmsNorm(epsilon: try f.double("epsilon", 1e-6), affine: try f.bool("affine", true))
        case "softmax":
            spec = .softmax(try decodeSoftmax(&f))
        case "dropout":
            spec = .dropout(rate: try f.double("rate"))
        case "activation":
            spec = .activation(try decodeActivation(try f.required("activation"), path: f.at("activation")))
        case "sequential", "residual":
            guard let ls = try f.array("layers") else { throw LoomError(.invalidIR, f.at("layers"), "is required") }
            let inner = try decodeLayers(ls, path: f.at("layers"))
            spec = type == "residual" ? .residual(inner) : .sequential(inner)
        case "parallel":
            guard let bs = try f.array("branches") else { throw LoomError(.invalidIR, f.at("branches"), "is required") }
            let branches = try decodeLayers(bs, path: f.at("branches"))
            let combineName = try f.string("combine", "concat")
            guard let combine = CombineMode(rawValue: combineName) else {
                throw LoomError(.invalidIR, f.at("combine"), "unknown combine mode \"\(combineName)\" (\(CombineMode.allCases.map { $0.rawValue }.joined(separator: ", ")))")
            }
            var p = ParallelSpec(branches: branches, combine: combine)
            if let g = f.value("gate") { p.gate = try decodeLayer(g, path: f.at("gate")) }
            if let gs = f.value("gate_softmax") {
                var sf = try IRFields(gs, path: f.at("gate_softmax"))
                let t = try sf.string("type", "softmax")
                guard t == "softmax" else { throw LoomError(.invalidIR, sf.at("type"), "the gate softmax must be a softmax layer") }
                p.gateSoftmax = try decodeSoftmax(&sf)
                try sf.finish()
            }
            if let g = f.value("grid") {
                var gf = try IRFields(g, path: f.at("grid"))
                var positions = [[Int]]()
                for (i, pv) in (try gf.array("positions") ?? []).enumerated() {
                    guard let pa = pv.arrayValue else { throw LoomError(.invalidIR, gf.at("positions") + "[\(i)]", "expected [row, col, layer]") }
                    var cell = [Int]()
                    for (j, x) in pa.enumerated() { cell.append(try IRFields.int(x, path: gf.at("positions") + "[\(i)][\(j)]", min: 0)) }
                    positions.append(cell)
                }
                p.grid = GridSpec(rows: try gf.int("rows", min: 1), cols: try gf.int("cols", min: 1),
                                  layers: try gf.int("layers", 1, min: 1), positions: positions)
                try gf.finish()
            }
            if combine != .filter && p.gate != nil { throw LoomError(.invalidIR, f.at("gate"), "only the filter combine mode uses a gate") }
            if combine != .gridScatter && p.grid != nil { throw LoomError(.invalidIR, f.at("grid"), "only the grid_scatter combine mode uses a grid") }
            spec = .parallel(p)
        case "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "global_avg_pool", "flatten", "reshape":
            spec = try decodeConvFamily(type, &f)!
        case "rnn", "lstm", "gru":
            spec = try decodeRecurrent(&f, cell: RecurrentCell(rawValue: type)!)
        case "kmeans":
            spec = .kmeans(try decodeKMeans(&f))
        case "multi_head_attention":
            spec = .multiHeadAttention(try decodeAttention(&f))
        case "swiglu":
            spec = try decodeSwiGLU(&f)
        case "tied_dense":
            spec = .tiedDense(weight: try f.string("weight"), bias: try f.bool("bias", false))
        case "position_embedding":
            spec = .positionEmbedding(maxPositions: try f.int("max_positions", min: 1))
        case "bias":
            spec = .bias
        default:
            throw LoomError(.invalidIR, f.at("type"), "unknown layer type \"\(type)\" (known: \(LayerSpec.typeNames.joined(separator: ", ")))")
        }
        try f.finish()
        return spec
    }
}

/// JSON → `TrainingSpec`.
public enum TrainingDecoder {
    public static func decode(_ v: JSONValue, path: String) throws(LoomError) -> TrainingSpec {
        var f = try IRFields(v, path: path)
        var t = TrainingSpec()
        let lossName = try f.string("loss", "cross_entropy")
        guard let loss = LossKind(rawValue: lossName) else {
            throw LoomError(.invalidIR, f.at("loss"), "unknown loss \"\(lossName)\" (mse, cross_entropy, bce)")
        }
        t.loss = loss
        if let o = f.value("optimizer") { t.optimizer = try decodeOptimizer(o, path: f.at("optimizer")) }
        if let s = f.value("scheduler") { t.scheduler = try decodeScheduler(s, path: f.at("scheduler")) }
        t.epochs = try f.int("epochs", t.epochs, min: 0)
        t.batchSize = try f.int("batch_size", t.batchSize, min: 1)
        t.shuffle = try f.bool("shuffle", true)
        t.validationSplit = try f.double("validation_split", 0)
        guard t.validationSplit >= 0, t.validationSplit < 1 else {
            throw LoomError(.invalidIR, f.at("validation_split"), "must be in [0, 1)")
        }
        if let e = f.value("early_stopping") {
            var ef = try IRFields(e, path: f.at("early_stopping"))
            t.earlyStopping = .init(patience: try ef.int("patience", 3, min: 1), minDelta: try ef.double("min_delta", 0))
            try ef.finish()
        }
        if let c = f.value("clip") {
            var cf = try IRFields(c, path: f.at("clip"))
            let hasValue = cf.object.contains("value"), hasNorm = cf.object.contains("norm")
            guard hasValue != hasNorm else { throw LoomError(.invalidIR, cf.path, "give exactly one of \"value\" or \"norm\"") }
            let x = try cf.double(hasValue ? "value" : "norm")
            guard x > 0 else { throw LoomError(.invalidIR, cf.at(hasValue ? "value" : "norm"), "must be positive") }
            t.clip = hasValue ? .value(x) : .norm(x)
            try cf.finish()
        }
        if let fr = try f.array("freeze") {
            for (i, v) in fr.enumerated() {
                guard let p = v.stringValue, !p.isEmpty else { throw LoomError(.invalidIR, f.at("freeze") + "[\(i)]", "expected a parameter name prefix (a non-empty string)") }
                t.freeze.append(p)
            }
        }
        try f.finish()
        return t
    }

    public static func decodeOptimizer(_ v: JSONValue, path: String) throws(LoomError) -> OptimizerSpec {
        var f = try IRFields(v, path: path)
        let type = try f.string("type")
        let spec: OptimizerSpec
        switch type {
        case "sgd":
            spec = .sgd(lr: try f.double("lr", 0.01), momentum: try f.double("momentum", 0), dampening: try f.double("dampening", 0),
                        nesterov: try f.bool("nesterov", false), weightDecay: try f.double("weight_decay", 0))
            if case .sgd(_, let m, let d, let n, _) = spec, n && (m <= 0 || d != 0) {
                throw LoomError(.invalidIR, f.at("nesterov"), "Nesterov momentum needs momentum > 0 and dampening 0")
            }
        case "adamw":
            spec = .adamw(lr: try f.double("lr", 0.001), beta1: try f.double("beta1", 0.9), beta2: try f.double("beta2", 0.999),
                          eps: try f.double("eps", 1e-8), weightDecay: try f.double("weight_decay", 0.01))
        case "rmsprop":
            spec = .rmsprop(lr: try f.double("lr", 0.01), alpha: try f.double("alpha", 0.99), eps: try f.double("eps", 1e-8),
                            momentum: try f.double("momentum", 0), centered: try f.bool("centered", false),
                            weightDecay: try f.double("weight_decay", 0))
        default:
            throw LoomError(.invalidIR, f.at("type"), "unknown optimizer \"\(type)\" (sgd, adamw, rmsprop)")
        }
        guard spec.lr > 0 else { throw LoomError(.invalidIR, f.at("lr"), "must be positive") }
        try f.finish()
        return spec
    }

    public static func decodeScheduler(_ v: JSONValue, path: String) throws(LoomError) -> SchedulerSpec {
        var f = try IRFields(v, path: path)
        let type = try f.string("type")
        let s: SchedulerSpec
        switch type {
        case "constant": s = .constant
        case "linear":
            s = .linear(startFactor: try f.double("start_factor", 1), endFactor: try f.double("end_factor", 0),
                        totalSteps: try f.int("total_steps", min: 1))
        case "cosine": s = .cosine(totalSteps: try f.int("total_steps", min: 1), minLR: try f.double("min_lr", 0))
        case "cosine_restarts":
            s = .cosineRestarts(period: try f.int("period", min: 1), mult: try f.int("mult", 1, min: 1), minLR: try f.double("min_lr", 0))
        case "exponential": s = .exponential(gamma: try f.double("gamma"))
        case "step": s = .step(stepSize: try f.int("step_size", min: 1), gamma: try f.double("gamma", 0.1))
        case "polynomial": s = .polynomial(totalSteps: try f.int("total_steps", min: 1), power: try f.double("power", 1))
        case "warmup":
            let after = try f.value("after").map { (a) throws(LoomError) in try decodeScheduler(a, path: f.at("after")) } ?? .constant
            s = .warmup(steps: try f.int("steps", min: 1), startFactor: try f.double("start_factor", 0), after: after)
        default:
            throw LoomError(.invalidIR, f.at("type"), "unknown scheduler \"\(type)\" (constant, linear, cosine, cosine_restarts, exponential, step, polynomial, warmup)")
        }
        try f.finish()
        return s
    }
}
