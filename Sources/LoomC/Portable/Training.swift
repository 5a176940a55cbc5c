import LoomCore
import LoomNN

// Trainers (any loss, optimizer, scheduler and clipping of the IR's training block) and the golden
// reference cases, through which every binding proves it reproduces the golden hashes.

func makeTrainer(_ h: NetworkHandle, _ spec: TrainingSpec) -> TrainerHandle {
    switch h.network {
    case .f32(let n, let o): return TrainerHandle(owner: h, trainer: .f32(Trainer(network: n, spec: spec, context: h.context, optimizer: o)))
    case .f64(let n, let o): return TrainerHandle(owner: h, trainer: .f64(Trainer(network: n, spec: spec, context: h.context, optimizer: o)))
    }
}

@_cdecl("loom_trainer_new")
public func loom_trainer_new(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        let out = try nonNull(out, "out")
        guard let spec = h.network.spec.training else {
            throw LoomError(.invalidIR, "training", "the network has no training block (loss, optimizer, …); use loom_trainer_new_with")
        }
        out.pointee = Handles.trainers.add(makeTrainer(h, spec))
        return 0
    }
}

/// A trainer with the given training block (IR JSON: loss, optimizer, scheduler, clip, …).
@_cdecl("loom_trainer_new_with")
public func loom_trainer_new_with(_ net: OpaquePointer?, _ trainingJSON: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        let out = try nonNull(out, "out")
        let root = try ModelCodec.parse(try string(trainingJSON, "training_json"), source: "training_json")
        out.pointee = Handles.trainers.add(makeTrainer(h, try TrainingDecoder.decode(root, path: "training")))
        return 0
    }
}

/// The target tensor's shape for `count` values: batch·output values, or one class id per row
/// (cross-entropy over the last axis).
func targetShape(_ count: Int, batch: Int, output: [Int]) throws(LoomError) -> [Int] {
    let outN = output.reduce(1, *)
    if count == batch * outN { return [batch] + output }
    if let classes = output.last, classes > 0, count == batch * (outN / classes) { return [count] }
    throw LoomError(.shapeMismatch, "targets", "\(count) targets for a batch of \(batch) with output \(Tensor<Float>.describe(output))")
}

/// A batch of inputs and its `targetCount` target values from caller buffers (a learner's step).
func batchAndTargets<E: LoomFloat, T: LoomFloat>(_ x: UnsafePointer<E>?, _ batch: Int, _ targets: UnsafePointer<E>?, _ targetCount: Int,
                                                 _ inputShape: [Int], as: T.Type) throws(LoomError) -> (Tensor<T>, Tensor<T>) {
    let xs = try tensor(x, batch, inputShape, "x", as: T.self)
    guard targetCount >= 1 else { throw LoomError(.invalidArgument, "target_count", "must be at least 1") }
    return (xs, try tensor(targets, 1, [targetCount], "targets", as: T.self))
}

func trainerStep<E: LoomFloat>(_ tr: OpaquePointer?, _ x: UnsafePointer<E>?, _ batch: Int, _ targets: UnsafePointer<E>?,
                               _ targetCount: Int, _ loss: UnsafeMutablePointer<E>?) -> Int32 {
    func run<T: LoomFloat>(_ t: Trainer<T>) throws(LoomError) {
        let n = t.network
        let (xs, ts) = try batchAndTargets(x, batch, targets, targetCount, n.inputShape, as: T.self)
        let r = try t.step(xs, ts.reshaped(try targetShape(targetCount, batch: batch, output: n.outputShape)))
        loss?.pointee = E(r.loss.double)
    }
    return guarded { () throws(LoomError) in
        let t = try Handles.trainers.get(tr)
        switch t.trainer {
        case .f32(let tr): try run(tr)
        case .f64(let tr): try run(tr)
        }
        return 0
    }
}

@_cdecl("loom_trainer_step")
public func loom_trainer_step(_ tr: OpaquePointer?, _ x: UnsafePointer<Float>?, _ batch: Int, _ targets: UnsafePointer<Float>?,
                              _ targetCount: Int, _ loss: UnsafeMutablePointer<Float>?) -> Int32 {
    trainerStep(tr, x, batch, targets, targetCount, loss)
}

@_cdecl("loom_trainer_step_f64")
public func loom_trainer_step_f64(_ tr: OpaquePointer?, _ x: UnsafePointer<Double>?, _ batch: Int, _ targets: UnsafePointer<Double>?,
                                  _ targetCount: Int, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    trainerStep(tr, x, batch, targets, targetCount, loss)
}

/// Steps taken and the learning rate the next step will use (after the scheduler).
@_cdecl("loom_trainer_progress")
public func loom_trainer_progress(_ tr: OpaquePointer?, _ steps: UnsafeMutablePointer<Int>?, _ lr: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded { () throws(LoomError) in
        let t = try Handles.trainers.get(tr)
        let (s, spec): (Int, TrainingSpec)
        switch t.trainer {
        case .f32(let tr): (s, spec) = (tr.globalStep, tr.spec)
        case .f64(let tr): (s, spec) = (tr.globalStep, tr.spec)
        }
        steps?.pointee = s
        lr?.pointee = spec.scheduler.lr(base: spec.optimizer.lr, step: s)
        return 0
    }
}

@_cdecl("loom_trainer_free")
public func loom_trainer_free(_ tr: OpaquePointer?) { Handles.trainers.remove(tr, "loom_trainer_free") }

// MARK: - Reference cases

/// Every golden case in the golden file's order (f32, f64, then the other dtypes).
let referenceCases: [ReferenceNetworks.Case] = ReferenceNetworks.allCases

func referenceCase(_ index: Int) throws(LoomError) -> ReferenceNetworks.Case {
    guard index >= 0 && index < referenceCases.count else {
        throw LoomError(.invalidArgument, "index", "\(index) is outside 0..<\(referenceCases.count)")
    }
    return referenceCases[index]
}

@_cdecl("loom_reference_count")
public func loom_reference_count(_ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        try nonNull(out, "out").pointee = referenceCases.count
        return 0
    }
}

/// The case's name ("dense_relu.f32") into buf.
@_cdecl("loom_reference_name")
public func loom_reference_name(_ index: Int, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in copyOut(try referenceCase(index).name, buf, capacity, needed) }
}

/// The case's network as IR JSON, with its training block.
@_cdecl("loom_reference_ir")
public func loom_reference_ir(_ index: Int, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in copyOut(IREncoder.encode(try referenceCase(index).spec).serialized(), buf, capacity, needed) }
}

/// The case's data as doubles (exactly the values of the network's compute type):
/// which 0 = forward input (8 samples), 1 = training inputs (32 samples), 2 = training targets
/// (32 samples; class ids for cross-entropy).
@_cdecl("loom_reference_data")
public func loom_reference_data(_ index: Int, _ which: Int32, _ buf: UnsafeMutablePointer<Double>?, _ capacity: Int,
                                _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let c = try referenceCase(index)
        let data: [Double]
        func values<T: LoomFloat>(_: T.Type) throws(LoomError) -> [Double] {
            switch which {
            case 0: return ReferenceNetworks.input(c, batch: ReferenceNetworks.forwardBatch, as: T.self).data.map { $0.double }
            case 1: return ReferenceNetworks.input(c, batch: ReferenceNetworks.trainingSamples, as: T.self).data.map { $0.double }
            case 2:
                let out = try Network<T>(c.spec, materialize: false).outputShape
                return ReferenceNetworks.target(c, output: out, batch: ReferenceNetworks.trainingSamples, as: T.self).data.map { $0.double }
            default: throw LoomError(.invalidArgument, "which", "must be 0 (forward input), 1 (training inputs) or 2 (training targets), got \(which)")
            }
        }
        data = Execution.computeType(of: c.spec.dtype) == .f64 ? try values(Double.self) : try values(Float.self)
        return copyOut(data, buf, capacity, needed, what: "buf")
    }
}

/// The golden reference hashes (`name hash` lines, as `loom verify` prints them) into buf.
@_cdecl("loom_reference_hashes")
public func loom_reference_hashes(_ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let lines = try ReferenceNetworks.hashLines(context: hostContext(threads: 1))
        return copyOut(lines.joined(separator: "\n") + "\n", buf, capacity, needed)
    }
}
