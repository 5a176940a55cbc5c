import LoomCore

/// Saved models: the IR plus `weights` (and `optimizer_state`), every tensor as little-endian
/// bytes in base64 so values round-trip bit for bit (docs/ir.md, "Saved models").
public enum ModelCodec {
    // MARK: tensors

    public static func encodeTensor<T: LoomFloat>(_ t: Tensor<T>) -> JSONValue {
        let width = T.dtype == .f32 ? 4 : 8
        var bytes = [UInt8]()
        bytes.reserveCapacity(t.count * width)
        for v in t.data {
            var b = v.bits64
            for _ in 0..<width { bytes.append(UInt8(truncatingIfNeeded: b)); b >>= 8 }
        }
        return .object(JSONObject([("dtype", .string(T.dtype.name)),
                                   ("shape", .array(t.shape.map { .number(JSONNumber($0)) })),
                                   ("data", .string(Base64.encode(bytes)))]))
    }

    public static func decodeTensor<T: LoomFloat>(_ v: JSONValue, path: String, as: T.Type) throws(LoomError) -> Tensor<T> {
        var f = try IRFields(v, path: path)
        let dtName = try f.string("dtype")
        guard let dt = DType(name: dtName), dt == .f32 || dt == .f64 else {
            throw LoomError(.invalidModel, f.at("dtype"), "weights are stored as \"f32\" or \"f64\", got \"\(dtName)\"")
        }
        guard let shapeV = try f.array("shape") else { throw LoomError(.invalidModel, f.at("shape"), "is required") }
        var shape = [Int]()
        for (i, d) in shapeV.enumerated() { shape.append(try IRFields.int(d, path: f.at("shape") + "[\(i)]", min: 0)) }
        let text = try f.string("data")
        try f.finish()
        let bytes: [UInt8]
        do { bytes = try Base64.decode(text) } catch {
            throw LoomError(.invalidModel, f.at("data"), "bad base64: \(error.message)")
        }
        let width = dt == .f32 ? 4 : 8
        guard let n = Limits.product(shape), n <= Limits.maxElements else {
            throw LoomError(.invalidModel, f.at("shape"), "\(Tensor<T>.describe(shape)) has more than 2^31 elements")
        }
        guard bytes.count == n * width else {
            throw LoomError(.invalidModel, f.at("data"), "holds \(bytes.count) bytes, shape \(Tensor<T>.describe(shape)) of \(dt.name) needs \(n * width) (truncated file?)")
        }
        var data = [T](repeating: 0, count: n)
        for i in 0..<n {
            var b: UInt64 = 0
            for j in 0..<width { b |= UInt64(bytes[i * width + j]) << (8 * UInt64(j)) }
            let value: Double = dt == .f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: b))) : Double(bitPattern: b)
            data[i] = T.dtype == dt ? T(bits64: b) : T(value)
        }
        return Tensor(uncheckedShape: shape, data: data)
    }

    // MARK: models

    /// The model as JSON text: IR, weights, and the optimizer's state when given.
    public static func encode<T: LoomFloat>(_ net: Network<T>, optimizer: Optimizer<T>? = nil, pretty: Bool = true) -> String {
        var o = IREncoder.encode(net.spec)
        var w = JSONObject()
        for i in 0..<net.params.count { w.set(net.params.names[i], encodeTensor(net.params.values[i])) }
        o.set("weights", .object(w))
        if let opt = optimizer, opt.stepCount > 0 {
            var s = JSONObject()
            s.set("type", .string(opt.spec.typeName))
            s.set("step", .number(JSONNumber(opt.stepCount)))
            s.set("parameter_steps", .array(opt.parameterSteps.map { .number(JSONNumber($0)) }))
            var slots = JSONObject()
            let names = opt.spec.slotNames
            for p in 0..<opt.slots.count {
                for (k, slot) in opt.slots[p].enumerated() { slots.set(net.params.names[p] + "." + names[k], encodeTensor(slot)) }
            }
            s.set("slots", .object(slots))
            if let ls = opt.lossScale {
                s.set("loss_scale", .object(JSONObject([("scale", .number(JSONNumber(ls.scale)!)),
                                                        ("good_steps", .number(JSONNumber(ls.goodSteps)))])))
            }
            o.set("optimizer_state", .object(s))
        }
        return JSONValue.object(o).serialized(pretty: pretty)
    }

    /// Builds the network of a saved model and loads its weights (every parameter must be there,
    /// with the right shape and finite values; unknown names are errors).
    public static func decode<T: LoomFloat>(_ root: JSONValue, as: T.Type) throws(LoomError) -> (Network<T>, Optimizer<T>?) {
        let spec = try IRDecoder.decode(root)
        let net = try Network<T>(spec)
        guard let wv = root["weights"] else { return (net, nil) }
        guard let w = wv.objectValue else { throw LoomError(.invalidModel, "weights", "expected an object, got \(wv.kindName)") }
        for k in w.keys where net.params.index(of: k) == nil {
            throw LoomError(.invalidModel, "weights.\(k)", "the network has no parameter of this name")
        }
        for i in 0..<net.params.count {
            let name = net.params.names[i]
            guard let tv = w[name] else { throw LoomError(.invalidModel, "weights", "missing parameter \(name)") }
            let t = try decodeTensor(tv, path: "weights.\(name)", as: T.self)
            do { try net.setParameter(name, t) } catch {
                throw LoomError(error.kind, "weights.\(name)", error.message)
            }
        }
        var optimizer: Optimizer<T>? = nil
        if let sv = root["optimizer_state"] {
            guard let trainingSpec = spec.training else {
                throw LoomError(.invalidModel, "optimizer_state", "present without a training block")
            }
            var f = try IRFields(sv, path: "optimizer_state")
            let type = try f.string("type")
            guard type == trainingSpec.optimizer.typeName else {
                throw LoomError(.invalidModel, "optimizer_state.type", "is \"\(type)\" but the training block uses \"\(trainingSpec.optimizer.typeName)\"")
            }
            let opt = Optimizer<T>(trainingSpec.optimizer)
            opt.stepCount = try f.int("step", min: 0)
            if let ps = try f.array("parameter_steps") {
                guard ps.count == net.params.count else {
                    throw LoomError(.invalidModel, "optimizer_state.parameter_steps", "has \(ps.count) entries for \(net.params.count) parameters")
                }
                opt.parameterSteps = []
                for (i, v) in ps.enumerated() { opt.parameterSteps.append(try IRFields.int(v, path: "optimizer_state.parameter_steps[\(i)]", min: 0)) }
            } else {
                opt.parameterSteps = [Int](repeating: opt.stepCount, count: net.params.count)
            }
            guard let slotsV = f.value("slots")?.objectValue else { throw LoomError(.invalidModel, "optimizer_state.slots", "is required") }
            if let lv = f.value("loss_scale") {
                var lf = try IRFields(lv, path: "optimizer_state.loss_scale")
                let scale = try lf.double("scale")
                guard scale > 0, scale.isFinite else {
                    throw LoomError(.invalidModel, "optimizer_state.loss_scale.scale", "must be a positive number")
                }
                opt.lossScale = LossScale(scale: scale, goodSteps: try lf.int("good_steps", min: 0))
                try lf.finish()
            }
            try f.finish()
            let names = opt.spec.slotNames
            opt.slots = []
            for p in 0..<net.params.count {
                var row = [Tensor<T>]()
                for n in names {
                    let key = net.params.names[p] + "." + n
                    guard let tv = slotsV[key] else { throw LoomError(.invalidModel, "optimizer_state.slots", "missing \(key)") }
                    let t = try decodeTensor(tv, path: "optimizer_state.slots.\(key)", as: T.self)
                    guard t.shape == net.params.values[p].shape else {
                        throw LoomError(.shapeMismatch, "optimizer_state.slots.\(key)", "expected \(Tensor<T>.describe(net.params.values[p].shape))")
                    }
                    row.append(t)
                }
                opt.slots.append(row)
            }
            optimizer = opt
        }
        return (net, optimizer)
    }

    public static func parse(_ text: String, source: String) throws(LoomError) -> JSONValue {
        do { return try JSONValue.parse(text) } catch { throw LoomError.json(error, source: source) }
    }
}

/// A network whose compute type is known only at run time (from the file).
public enum AnyNetwork {
    case f32(Network<Float>, Optimizer<Float>?)
    case f64(Network<Double>, Optimizer<Double>?)

    /// Builds from IR text, or loads a saved model (IR + weights) — whichever the text holds.
    public static func load(json text: String, source: String = "") throws(LoomError) -> AnyNetwork {
        let root = try ModelCodec.parse(text, source: source)
        let dt = root["dtype"]?.stringValue ?? "f32"
        if DType(name: dt) == .f64 {
            let (n, o) = try ModelCodec.decode(root, as: Double.self)
            return .f64(n, o)
        }
        let (n, o) = try ModelCodec.decode(root, as: Float.self)
        return .f32(n, o)
    }

    /// The structure of an IR or saved model — every layer and shape checked, parameters as
    /// shape-only placeholders, weights in the text not read — for describing a model without
    /// allocating or initialising its weights (`loom inspect`). Not runnable.
    public static func blueprint(json text: String, source: String = "") throws(LoomError) -> AnyNetwork {
        let spec = try IRDecoder.decode(try ModelCodec.parse(text, source: source))
        if Execution.computeType(of: spec.dtype) == .f64 { return .f64(try Network(spec, materialize: false), nil) }
        return .f32(try Network(spec, materialize: false), nil)
    }

    public var spec: NetworkSpec {
        switch self { case .f32(let n, _): return n.spec; case .f64(let n, _): return n.spec }
    }

    public var inputShape: [Int] { spec.inputShape }
    public var outputShape: [Int] {
        switch self { case .f32(let n, _): return n.outputShape; case .f64(let n, _): return n.outputShape }
    }

    public func saved(pretty: Bool = true) -> String {
        switch self {
        case .f32(let n, let o): return ModelCodec.encode(n, optimizer: o, pretty: pretty)
        case .f64(let n, let o): return ModelCodec.encode(n, optimizer: o, pretty: pretty)
        }
    }
}
