import LoomCore
import LoomNN

// Step execution and Neural Tweening through the C ABI (docs/step.md, docs/tweening.md): a
// pipeline over a network's layers, fed one sample per tick, with no learner, online backprop
// (StepBP) or tweening (StepTween, StepTweenChain); and TweenState's whole-pass tween steps.

/// A pipeline and its learner, in one compute type.
final class StepSession<T: LoomFloat> {
    enum Learner {
        case none(StepState<T>)
        case backprop(StepTrainer<T>)
        case tween(StepTweenTrainer<T>)
    }
    let learner: Learner
    /// Tags given so far (the inference-only pipeline counts its own; the learners count theirs).
    private var fedWithoutLearner: UInt64 = 0

    init(_ learner: Learner) { self.learner = learner }

    var state: StepState<T> {
        switch learner {
        case .none(let s): return s
        case .backprop(let t): return t.state
        case .tween(let t): return t.state
        }
    }

    var fed: UInt64 {
        switch learner {
        case .none: return fedWithoutLearner
        case .backprop(let t): return t.nextTag
        case .tween(let t): return t.nextTag
        }
    }

    var updates: UInt64 {
        switch learner {
        case .none: return 0
        case .backprop(let t): return UInt64(t.updates)
        case .tween(let t): return t.tween.steps
        }
    }

    /// One tick: `x` (nil: none) enters with `target` (required exactly when there is a learner);
    /// returns the sample that left the pipeline with its loss and report, if one did.
    func tick(_ x: Tensor<T>?, target: [T]?, context: HostContext, concurrent: Bool) throws(LoomError) -> (tag: UInt64, output: Tensor<T>, loss: Double, report: JSONValue)? {
        let out = state.network.outputShape
        switch learner {
        case .none(let s):
            if target != nil { throw LoomError(.invalidArgument, "target", "this pipeline has no learner; pass NULL") }
            if let x { try s.setInput(x, tag: fedWithoutLearner); fedWithoutLearner += 1 }
            guard let (tag, y) = try s.stepForward(context: context, concurrent: concurrent) else { return nil }
            return (tag, y, .nan, .object(JSONObject([("tag", .number(JSONNumber(tag)))])))
        case .backprop(let t):
            let make = { (ts: Tensor<T>) throws(LoomError) -> Tensor<T> in ts.reshaped(try targetShape(ts.count, batch: 1, output: out)) }
            guard let d = try advance(t, x, target, make, context, concurrent) else { return nil }
            let loss = d.result.double
            return (d.tag, d.output, loss, .object(JSONObject([("tag", .number(JSONNumber(d.tag))), ("loss", JSONValue.number(loss) ?? .null)])))
        case .tween(let t):
            let make = { (ts: Tensor<T>) throws(LoomError) -> TweenTarget<T> in try tweenTarget(ts, batch: 1, output: out) }
            guard let d = try advance(t, x, target, make, context, concurrent) else { return nil }
            var report = d.result.json.objectValue ?? JSONObject()
            report.set("tag", .number(JSONNumber(d.tag)))
            return (d.tag, d.output, d.result.loss, .object(report))
        }
    }

    /// A learner's tick: `x` with the target `make` builds from the caller's values, or, without
    /// `x` (and then without a target), a tick that feeds nothing.
    private func advance<Target, Result>(_ l: StepLearner<T, Target, Result>, _ x: Tensor<T>?, _ target: [T]?,
                                         _ make: (Tensor<T>) throws(LoomError) -> Target, _ context: HostContext,
                                         _ concurrent: Bool) throws(LoomError) -> StepCompleted<T, Result>? {
        guard let x else {
            if target != nil { throw LoomError(.invalidArgument, "target", "a tick without an input takes no target; pass NULL") }
            return try l.flush(context: context, concurrent: concurrent)
        }
        guard let target else { throw LoomError(.invalidArgument, "target", "is NULL; a pipeline with a learner needs each sample's target") }
        return try l.tick(x, target: try make(Tensor(uncheckedShape: [target.count], data: target)), context: context, concurrent: concurrent)
    }
}

/// A tween target from caller values: one class id per output row (checked as cross-entropy
/// checks them), or the output's values.
func tweenTarget<T: LoomFloat>(_ t: Tensor<T>, batch: Int, output: [Int]) throws(LoomError) -> TweenTarget<T> {
    let shape = try targetShape(t.count, batch: batch, output: output)
    guard try Loss.validate(.crossEntropy, target: t, output: [batch] + output, path: "targets") else { return .values(t.reshaped(shape)) }
    return .classes(t.data.map { Int($0) })
}

final class StepHandle {
    enum Kind { case f32(StepSession<Float>), f64(StepSession<Double>) }
    let owner: NetworkHandle
    let kind: Kind
    let concurrent: Bool
    /// The report of the sample that last left the pipeline (JSON null before the first).
    var last: JSONValue = .null
    init(owner: NetworkHandle, kind: Kind, concurrent: Bool) { self.owner = owner; self.kind = kind; self.concurrent = concurrent }
}

final class TweenHandle {
    enum Kind { case f32(TweenState<Float>), f64(TweenState<Double>) }
    let owner: NetworkHandle
    let kind: Kind
    var last: JSONValue = .null
    init(owner: NetworkHandle, kind: Kind) { self.owner = owner; self.kind = kind }
}

/// The options of `loom_step_new`: `{"learner": "none" | "backprop" | "tween", "training": {…},
/// "update_every": n, "tween": {…}, "stash_limit": n, "concurrent": bool}`.
struct StepOptions {
    enum Learner { case none, backprop(TrainingSpec, updateEvery: Int), tween(TweenConfig) }
    var learner = Learner.none
    var stashLimit = 1024
    var concurrent = false
    var weightStashing = false

    static func decode(_ text: String?, network: NetworkSpec) throws(LoomError) -> StepOptions {
        var o = StepOptions()
        guard let text else { return o }
        let root = try ModelCodec.parse(text, source: "options_json")
        guard let obj = root.objectValue else { throw LoomError(.invalidArgument, "options_json", "expected an object, got \(root.kindName)") }
        for key in obj.keys where !["learner", "training", "update_every", "tween", "stash_limit", "concurrent", "weight_stashing"].contains(key) {
            throw LoomError(.invalidArgument, "options_json.\(key)", "unknown field (learner, training, update_every, tween, stash_limit, concurrent, weight_stashing)")
        }
        func int(_ key: String, _ def: Int) throws(LoomError) -> Int {
            guard let v = obj[key] else { return def }
            guard let n = v.numberValue?.int, n >= 1 else { throw LoomError(.invalidArgument, "options_json.\(key)", "must be a positive integer") }
            return n
        }
        o.stashLimit = try int("stash_limit", 1024)
        func bool(_ key: String) throws(LoomError) -> Bool {
            guard let v = obj[key] else { return false }
            guard let b = v.boolValue else { throw LoomError(.invalidArgument, "options_json.\(key)", "expected true or false, got \(v.kindName)") }
            return b
        }
        o.concurrent = try bool("concurrent")
        o.weightStashing = try bool("weight_stashing")
        var name = "none"
        if let v = obj["learner"] {
            guard let s = v.stringValue else { throw LoomError(.invalidArgument, "options_json.learner", "expected a string, got \(v.kindName)") }
            name = s
        }
        let updateEvery = try int("update_every", 1)
        switch name {
        case "none":
            for key in ["training", "update_every", "tween", "weight_stashing"] where obj[key] != nil {
                throw LoomError(.invalidArgument, "options_json.\(key)", "needs a learner (\"learner\": \"backprop\" or \"tween\")")
            }
        case "backprop":
            if obj["tween"] != nil { throw LoomError(.invalidArgument, "options_json.tween", "belongs to the tween learner") }
            let spec: TrainingSpec
            if let t = obj["training"] {
                spec = try TrainingDecoder.decode(t, path: "options_json.training")
            } else if let t = network.training {
                spec = t
            } else {
                throw LoomError(.invalidArgument, "options_json.training", "is required: the network has no training block")
            }
            o.learner = .backprop(spec, updateEvery: updateEvery)
        case "tween":
            for key in ["training", "update_every"] where obj[key] != nil {
                throw LoomError(.invalidArgument, "options_json.\(key)", "belongs to the backprop learner")
            }
            o.learner = .tween(try obj["tween"].map { (v) throws(LoomError) in try TweenConfig.decode(v, path: "options_json.tween") } ?? TweenConfig())
        default:
            throw LoomError(.invalidArgument, "options_json.learner", "must be \"none\", \"backprop\" or \"tween\", got \"\(name)\"")
        }
        return o
    }
}

func makeStepSession<T: LoomFloat>(_ n: Network<T>, _ o: StepOptions) throws(LoomError) -> StepSession<T> {
    switch o.learner {
    case .none: return StepSession(.none(try StepState(n, stashLimit: o.stashLimit)))
    case .backprop(let spec, let every):
        return StepSession(.backprop(try StepTrainer(network: n, optimizer: spec.optimizer, loss: spec.loss, updateEvery: every,
                                                     clip: spec.clip, stashLimit: o.stashLimit, weightStashing: o.weightStashing)))
    case .tween(let c):
        return StepSession(.tween(try StepTweenTrainer(network: n, config: c, stashLimit: o.stashLimit, weightStashing: o.weightStashing)))
    }
}

@_cdecl("loom_step_new")
public func loom_step_new(_ net: OpaquePointer?, _ optionsJSON: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        let out = try nonNull(out, "out")
        let text: String? = if let p = optionsJSON { try string(p, "options_json") } else { nil }
        let o = try StepOptions.decode(text, network: h.network.spec)
        let kind: StepHandle.Kind
        switch h.network {
        case .f32(let n, _): kind = .f32(try makeStepSession(n, o))
        case .f64(let n, _): kind = .f64(try makeStepSession(n, o))
        }
        out.pointee = Handles.steps.add(StepHandle(owner: h, kind: kind, concurrent: o.concurrent))
        return 0
    }
}

/// Ticks from a sample's entry to its output (the number of top-level layers).
@_cdecl("loom_step_latency")
public func loom_step_latency(_ st: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.steps.get(st)
        let out = try nonNull(out, "out")
        switch h.kind {
        case .f32(let s): out.pointee = s.state.latency
        case .f64(let s): out.pointee = s.state.latency
        }
        return 0
    }
}

func stepTick<E: LoomFloat>(_ st: OpaquePointer?, _ x: UnsafePointer<E>?, _ target: UnsafePointer<E>?, _ targetCount: Int,
                            _ done: UnsafeMutablePointer<Int32>?, _ tag: UnsafeMutablePointer<UInt64>?,
                            _ y: UnsafeMutablePointer<E>?, _ yCapacity: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    func run<T: LoomFloat>(_ s: StepSession<T>, _ h: StepHandle) throws(LoomError) -> Int32 {
        let n = s.state.network
        let outN = n.outputShape.reduce(1, *)
        // The output buffer is checked before the tick, so a short buffer never loses a sample.
        guard yCapacity >= outN else {
            LastError.set("y holds \(yCapacity) values; \(outN) are needed (one output sample)")
            return bufferTooSmall
        }
        let y = try nonNull(y, "y")
        let input: Tensor<T>? = if let x { try tensor(x, 1, n.inputShape, "x", as: T.self) } else { nil }
        var t: [T]? = nil
        if let target {
            guard targetCount >= 1 else { throw LoomError(.invalidArgument, "target_count", "must be at least 1") }
            t = try tensor(target, 1, [targetCount], "target", as: T.self).data
        } else if targetCount != 0 {
            throw LoomError(.invalidArgument, "target", "is NULL but target_count is \(targetCount)")
        }
        guard let r = try s.tick(input, target: t, context: h.owner.context, concurrent: h.concurrent) else {
            done?.pointee = 0
            return 0
        }
        h.last = r.report
        done?.pointee = 1
        tag?.pointee = r.tag
        loss?.pointee = r.loss
        return try copyOut(r.output, y, yCapacity, what: "y")
    }
    return guarded { () throws(LoomError) in
        let h = try Handles.steps.get(st)
        switch h.kind {
        case .f32(let s): return try run(s, h)
        case .f64(let s): return try run(s, h)
        }
    }
}

@_cdecl("loom_step_tick")
public func loom_step_tick(_ st: OpaquePointer?, _ x: UnsafePointer<Float>?, _ target: UnsafePointer<Float>?, _ targetCount: Int,
                           _ done: UnsafeMutablePointer<Int32>?, _ tag: UnsafeMutablePointer<UInt64>?,
                           _ y: UnsafeMutablePointer<Float>?, _ yCapacity: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    stepTick(st, x, target, targetCount, done, tag, y, yCapacity, loss)
}

@_cdecl("loom_step_tick_f64")
public func loom_step_tick_f64(_ st: OpaquePointer?, _ x: UnsafePointer<Double>?, _ target: UnsafePointer<Double>?, _ targetCount: Int,
                               _ done: UnsafeMutablePointer<Int32>?, _ tag: UnsafeMutablePointer<UInt64>?,
                               _ y: UnsafeMutablePointer<Double>?, _ yCapacity: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    stepTick(st, x, target, targetCount, done, tag, y, yCapacity, loss)
}

/// Ticks so far, samples fed, and learning updates applied (optimizer updates or tween steps).
@_cdecl("loom_step_progress")
public func loom_step_progress(_ st: OpaquePointer?, _ ticks: UnsafeMutablePointer<UInt64>?, _ fed: UnsafeMutablePointer<UInt64>?,
                               _ updates: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.steps.get(st)
        switch h.kind {
        case .f32(let s): ticks?.pointee = s.state.ticks; fed?.pointee = s.fed; updates?.pointee = s.updates
        case .f64(let s): ticks?.pointee = s.state.ticks; fed?.pointee = s.fed; updates?.pointee = s.updates
        }
        return 0
    }
}

/// The report of the sample that last left the pipeline, as JSON (null before the first).
@_cdecl("loom_step_report_json")
public func loom_step_report_json(_ st: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                  _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in copyOut(try Handles.steps.get(st).last.serialized(pretty: false), buf, capacity, needed) }
}

@_cdecl("loom_step_free")
public func loom_step_free(_ st: OpaquePointer?) { Handles.steps.remove(st, "loom_step_free") }

// MARK: - Tweening

@_cdecl("loom_tween_new")
public func loom_tween_new(_ net: OpaquePointer?, _ configJSON: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        let out = try nonNull(out, "out")
        let config = if let p = configJSON { try TweenConfig.decode(json: try string(p, "config_json"), source: "config_json") } else { TweenConfig() }
        let kind: TweenHandle.Kind
        switch h.network {
        case .f32(let n, _): kind = .f32(try TweenState(n, config: config))
        case .f64(let n, _): kind = .f64(try TweenState(n, config: config))
        }
        out.pointee = Handles.tweens.add(TweenHandle(owner: h, kind: kind))
        return 0
    }
}

func tweenStep<E: LoomFloat>(_ tw: OpaquePointer?, _ x: UnsafePointer<E>?, _ batch: Int, _ targets: UnsafePointer<E>?,
                             _ targetCount: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    func run<T: LoomFloat>(_ t: TweenState<T>, _ h: TweenHandle) throws(LoomError) {
        let n = t.network
        let (xs, ts) = try batchAndTargets(x, batch, targets, targetCount, n.inputShape, as: T.self)
        let r = try t.step(xs, target: try tweenTarget(ts, batch: batch, output: n.outputShape), context: h.owner.context)
        h.last = r.json
        loss?.pointee = r.loss
    }
    return guarded { () throws(LoomError) in
        let h = try Handles.tweens.get(tw)
        switch h.kind {
        case .f32(let t): try run(t, h)
        case .f64(let t): try run(t, h)
        }
        return 0
    }
}

@_cdecl("loom_tween_step")
public func loom_tween_step(_ tw: OpaquePointer?, _ x: UnsafePointer<Float>?, _ batch: Int, _ targets: UnsafePointer<Float>?,
                            _ targetCount: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    tweenStep(tw, x, batch, targets, targetCount, loss)
}

@_cdecl("loom_tween_step_f64")
public func loom_tween_step_f64(_ tw: OpaquePointer?, _ x: UnsafePointer<Double>?, _ batch: Int, _ targets: UnsafePointer<Double>?,
                                _ targetCount: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    tweenStep(tw, x, batch, targets, targetCount, loss)
}

/// The last tween step's report as JSON (null before the first).
@_cdecl("loom_tween_report_json")
public func loom_tween_report_json(_ tw: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                   _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in copyOut(try Handles.tweens.get(tw).last.serialized(pretty: false), buf, capacity, needed) }
}

@_cdecl("loom_tween_free")
public func loom_tween_free(_ tw: OpaquePointer?) { Handles.tweens.remove(tw, "loom_tween_free") }
