import LoomCore

/// `NetworkSpec` → JSON with a fixed key order, so equal networks give equal text.
public enum IREncoder {
    static func num(_ d: Double) -> JSONValue { JSONValue.number(d) ?? .null }
    static func num(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }

    public static func encode(_ spec: NetworkSpec) -> JSONObject {
        var o = JSONObject()
        o.set("format", .string("loom"))
        o.set("version", num(NetworkSpec.currentVersion))
        o.set("name", .string(spec.name))
        o.set("dtype", .string(spec.dtype.name))
        o.set("seed", .number(JSONNumber(spec.seed)))
        o.set("input", .object(JSONObject([("shape", .array(spec.inputShape.map { num($0) }))])))
        o.set("layers", .array(spec.layers.map { .object(encode($0)) }))
        if let t = spec.training { o.set("training", .object(encode(t))) }
        return o
    }

    public static func encode(_ a: Activation) -> JSONValue {
        switch a {
        case .scaledReLU(let s): return .object(JSONObject([("name", .string(a.name)), ("scale", num(s))]))
        case .leakyReLU(let s): return .object(JSONObject([("name", .string(a.name)), ("slope", num(s))]))
        case .softplus(let t): return .object(JSONObject([("name", .string(a.name)), ("threshold", num(t))]))
        case .elu(let al): return .object(JSONObject([("name", .string(a.name)), ("alpha", num(al))]))
        default: return .string(a.name)
        }
    }

    static func encodeSoftmax(_ v: SoftmaxVariant, into o: inout JSONObject) {
        o.set("variant", .string(v.name))
        switch v {
        case .standard: break
        case .temperature(let t): o.set("temperature", num(t))
        case .masked(let m): o.set("mask", .array(m.map { .bool($0) }))
        case .grid(let r, let c): o.set("rows", num(r)); o.set("cols", num(c))
        default: encodeSoftmaxFamily(v, into: &o)
        }
    }

    public static func encode(_ l: LayerSpec) -> JSONObject {
        var o = JSONObject()
        o.set("type", .string(l.typeName))
        switch l {
        case .dense(let u, let a, let b):
            o.set("units", num(u)); o.set("activation", encode(a)); o.set("bias", .bool(b))
        case .stitch(let u, let b):
            o.set("units", num(u)); o.set("bias", .bool(b))
        case .embedding(let v, let d):
            o.set("vocab_size", num(v)); o.set("dim", num(d))
        case .layerNorm(let e, let a), .rmsNorm(let e, let a):
            o.set("epsilon", num(e)); o.set("affine", .bool(a))
        case .softmax(let v):
            encodeSoftmax(v, into: &o)
        case .dropout(let r):
            o.set("rate", num(r))
        case .activation(let a):
            o.set("activation", encode(a))
        case .sequential(let ls), .residual(let ls):
            o.set("layers", .array(ls.map { .object(encode($0)) }))
        case .parallel(let p):
            o.set("combine", .string(p.combine.rawValue))
            o.set("branches", .array(p.branches.map { .object(encode($0)) }))
            if let g = p.gate { o.set("gate", .object(encode(g))) }
            if p.combine == .filter {
                var s = JSONObject()
                s.set("type", .string("softmax"))
                encodeSoftmax(p.gateSoftmax, into: &s)
                o.set("gate_softmax", .object(s))
            }
            if let g = p.grid {
                o.set("grid", .object(JSONObject([("rows", num(g.rows)), ("cols", num(g.cols)), ("layers", num(g.layers)),
                                                  ("positions", .array(g.positions.map { .array($0.map { num($0) }) }))])))
            }
        case .conv, .pool, .globalAvgPool, .flatten, .reshape:
            encodeConvFamily(l, into: &o)
        case .recurrent(let r):
            encodeRecurrent(r, into: &o)
        case .kmeans(let s):
            encodeKMeans(s, into: &o)
        case .multiHeadAttention(let a):
            encodeAttention(a, into: &o)
        case .swiglu(let h, let u, let b):
            encodeSwiGLU(hidden: h, units: u, bias: b, into: &o)
        case .tiedDense(let w, let b):
            o.set("weight", .string(w)); o.set("bias", .bool(b))
        case .positionEmbedding(let m):
            o.set("max_positions", num(m))
        case .bias:
            break
        }
        return o
    }

    public static func encode(_ t: TrainingSpec) -> JSONObject {
        var o = JSONObject()
        o.set("loss", .string(t.loss.rawValue))
        o.set("optimizer", .object(encode(t.optimizer)))
        o.set("scheduler", .object(encode(t.scheduler)))
        o.set("epochs", num(t.epochs))
        o.set("batch_size", num(t.batchSize))
        o.set("shuffle", .bool(t.shuffle))
        o.set("validation_split", num(t.validationSplit))
        if let e = t.earlyStopping {
            o.set("early_stopping", .object(JSONObject([("patience", num(e.patience)), ("min_delta", num(e.minDelta))])))
        }
        switch t.clip {
        case .value(let v)?: o.set("clip", .object(JSONObject([("value", num(v))])))
        case .norm(let n)?: o.set("clip", .object(JSONObject([("norm", num(n))])))
        case nil: break
        }
        if !t.freeze.isEmpty { o.set("freeze", .array(t.freeze.map { JSONValue.string($0) })) }
        return o
    }

    public static func encode(_ s: OptimizerSpec) -> JSONObject {
        var o = JSONObject()
        o.set("type", .string(s.typeName))
        switch s {
        case .sgd(let lr, let m, let d, let n, let wd):
            o.set("lr", num(lr)); o.set("momentum", num(m)); o.set("dampening", num(d)); o.set("nesterov", .bool(n)); o.set("weight_decay", num(wd))
        case .adamw(let lr, let b1, let b2, let e, let wd):
            o.set("lr", num(lr)); o.set("beta1", num(b1)); o.set("beta2", num(b2)); o.set("eps", num(e)); o.set("weight_decay", num(wd))
        case .rmsprop(let lr, let a, let e, let m, let c, let wd):
            o.set("lr", num(lr)); o.set("alpha", num(a)); o.set("eps", num(e)); o.set("momentum", num(m)); o.set("centered", .bool(c)); o.set("weight_decay", num(wd))
        }
        return o
    }

    public static func encode(_ s: SchedulerSpec) -> JSONObject {
        var o = JSONObject()
        o.set("type", .string(s.typeName))
        switch s {
        case .constant: break
        case .linear(let a, let b, let t): o.set("start_factor", num(a)); o.set("end_factor", num(b)); o.set("total_steps", num(t))
        case .cosine(let t, let m): o.set("total_steps", num(t)); o.set("min_lr", num(m))
        case .cosineRestarts(let p, let mu, let m): o.set("period", num(p)); o.set("mult", num(mu)); o.set("min_lr", num(m))
        case .exponential(let g): o.set("gamma", num(g))
        case .step(let z, let g): o.set("step_size", num(z)); o.set("gamma", num(g))
        case .polynomial(let t, let p): o.set("total_steps", num(t)); o.set("power", num(p))
        case .warmup(let w, let sf, let a): o.set("steps", num(w)); o.set("start_factor", num(sf)); o.set("after", .object(encode(a)))
        }
        return o
    }
}
