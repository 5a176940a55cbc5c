import Glibc
import LoomCore
import LoomNN
import Loom

// The C ABI (include/loom.h, docs/c-abi.md). Every function validates its handles through
// `Registry`, maps errors to status codes (`status`), and never lets a Swift error or trap escape
// for bad input.

@_cdecl("loom_version")
public func loom_version() -> UnsafePointer<CChar> {
    let v: StaticString = "0.4.0"
    return UnsafeRawPointer(v.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("loom_last_error")
public func loom_last_error() -> UnsafePointer<CChar> { LastError.get() }

@_cdecl("loom_network_from_json")
public func loom_network_from_json(_ json: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        guard let out else { throw LoomError(.invalidArgument, "out", "is NULL") }
        let n = try AnyNetwork.load(json: try string(json, "json"), source: "json")
        out.pointee = Registry.add(NetworkHandle(n))
        return 0
    }
}

@_cdecl("loom_network_load")
public func loom_network_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        guard let out else { throw LoomError(.invalidArgument, "out", "is NULL") }
        let p = try string(path, "path")
        let n = p.hasSuffix(".safetensors") ? try AnyNetwork.load(safetensorsPath: p) : try AnyNetwork.load(path: p)
        out.pointee = Registry.add(NetworkHandle(n))
        return 0
    }
}

@_cdecl("loom_network_save")
public func loom_network_save(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        try h.network.save(to: try string(path, "path"))
        return 0
    }
}

@_cdecl("loom_network_save_safetensors")
public func loom_network_save_safetensors(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ dtype: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        var options = SafetensorsCodec.Options()
        if let d = dtype {
            let name = try string(d, "dtype")
            guard let dt = DType(name: name) else { throw LoomError(.invalidArgument, "dtype", "unknown dtype \"\(name)\"") }
            options.dtype = dt
        }
        try h.network.saveSafetensors(to: try string(path, "path"), options: options)
        return 0
    }
}

@_cdecl("loom_network_free")
public func loom_network_free(_ net: OpaquePointer?) {
    if !Registry.remove(net) { LastError.set("loom_network_free: not a live network (freed twice?)") }
}

@_cdecl("loom_network_input_size")
public func loom_network_input_size(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        guard let out else { throw LoomError(.invalidArgument, "out", "is NULL") }
        out.pointee = h.network.inputShape.reduce(1, *)
        return 0
    }
}

@_cdecl("loom_network_output_size")
public func loom_network_output_size(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        guard let out else { throw LoomError(.invalidArgument, "out", "is NULL") }
        out.pointee = h.network.outputShape.reduce(1, *)
        return 0
    }
}

@_cdecl("loom_network_set_threads")
public func loom_network_set_threads(_ net: OpaquePointer?, _ threads: Int32) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        guard threads >= 1 && threads <= 1024 else { throw LoomError(.invalidArgument, "threads", "must be 1…1024, got \(threads)") }
        h.context = CPUContext(threads: Int(threads))
        return 0
    }
}

@_cdecl("loom_network_forward")
public func loom_network_forward(_ net: OpaquePointer?, _ x: UnsafePointer<Float>?, _ batch: Int,
                                 _ y: UnsafeMutablePointer<Float>?, _ yCapacity: Int) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        guard let x else { throw LoomError(.invalidArgument, "x", "is NULL") }
        guard batch >= 1 else { throw LoomError(.invalidArgument, "batch", "must be at least 1") }
        let inN = h.network.inputShape.reduce(1, *), outN = h.network.outputShape.reduce(1, *)
        let (need, overflow) = batch.multipliedReportingOverflow(by: outN)
        guard !overflow, batch <= Int.max / Swift.max(inN, 1) else { throw LoomError(.invalidArgument, "batch", "is too large") }
        guard let y, yCapacity >= need else {
            LastError.set("y holds \(yCapacity) floats; \(need) are needed (batch \(batch) × \(outN))")
            return bufferTooSmall
        }
        let input = Tensor<Double>(uncheckedShape: [batch] + h.network.inputShape,
                                   data: UnsafeBufferPointer(start: x, count: batch * inN).map { Double($0) })
        let out = try h.network.forward(input, context: h.context)
        for i in 0..<need { y[i] = Float(out.data[i]) }
        return 0
    }
}

@_cdecl("loom_network_info_json")
public func loom_network_info_json(_ net: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                   _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        let text: String
        switch h.network {
        case .f32(let n, _): text = Blueprint.json(n).serialized(pretty: false)
        case .f64(let n, _): text = Blueprint.json(n).serialized(pretty: false)
        }
        return copyOut(text, buf, capacity, needed)
    }
}

@_cdecl("loom_network_weights_hash")
public func loom_network_weights_hash(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        guard let out else { throw LoomError(.invalidArgument, "out", "is NULL") }
        switch h.network {
        case .f32(let n, _): out.pointee = n.params.bitHash.value
        case .f64(let n, _): out.pointee = n.params.bitHash.value
        }
        return 0
    }
}

@_cdecl("loom_trainer_new")
public func loom_trainer_new(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Registry.get(net, as: NetworkHandle.self, what: "network")
        guard let out else { throw LoomError(.invalidArgument, "out", "is NULL") }
        guard let spec = h.network.spec.training else {
            throw LoomError(.invalidIR, "training", "the network has no training block (loss, optimizer, …)")
        }
        let kind: TrainerHandle.Kind
        switch h.network {
        case .f32(let n, let o): kind = .f32(Trainer(network: n, spec: spec, context: h.context, optimizer: o))
        case .f64(let n, let o): kind = .f64(Trainer(network: n, spec: spec, context: h.context, optimizer: o))
        }
        out.pointee = Registry.add(TrainerHandle(owner: h, trainer: kind))
        return 0
    }
}

@_cdecl("loom_trainer_step")
public func loom_trainer_step(_ tr: OpaquePointer?, _ x: UnsafePointer<Float>?, _ batch: Int, _ targets: UnsafePointer<Float>?,
                              _ targetCount: Int, _ loss: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded { () throws(LoomError) in
        let t = try Registry.get(tr, as: TrainerHandle.self, what: "trainer")
        guard let x, let targets else { throw LoomError(.invalidArgument, "x/targets", "is NULL") }
        guard batch >= 1, targetCount >= 1 else { throw LoomError(.invalidArgument, "batch", "batch and target_count must be at least 1") }
        let net = t.owner.network
        let inN = net.inputShape.reduce(1, *), outN = net.outputShape.reduce(1, *)
        guard batch <= Int.max / Swift.max(inN, 1) else { throw LoomError(.invalidArgument, "batch", "is too large") }
        let tShape: [Int]
        if targetCount == batch * outN { tShape = [batch] + net.outputShape }
        else if outN > 0 && targetCount == batch * (outN / net.outputShape.last!) { tShape = [targetCount] }
        else { throw LoomError(.shapeMismatch, "targets", "\(targetCount) targets for a batch of \(batch) with output \(net.outputShape)") }
        let xs = UnsafeBufferPointer(start: x, count: batch * inN), ts = UnsafeBufferPointer(start: targets, count: targetCount)
        switch t.trainer {
        case .f32(let tr):
            let r = try tr.step(Tensor(uncheckedShape: [batch] + net.inputShape, data: Array(xs)), Tensor(uncheckedShape: tShape, data: Array(ts)))
            loss?.pointee = r.loss
        case .f64(let tr):
            let r = try tr.step(Tensor(uncheckedShape: [batch] + net.inputShape, data: xs.map { Double($0) }),
                                Tensor(uncheckedShape: tShape, data: ts.map { Double($0) }))
            loss?.pointee = Float(r.loss)
        }
        return 0
    }
}

@_cdecl("loom_trainer_free")
public func loom_trainer_free(_ tr: OpaquePointer?) {
    if !Registry.remove(tr) { LastError.set("loom_trainer_free: not a live trainer (freed twice?)") }
}

@_cdecl("loom_reference_hashes")
public func loom_reference_hashes(_ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let lines = try ReferenceNetworks.hashLines(context: CPUContext(threads: 1))
        return copyOut(lines.joined(separator: "\n") + "\n", buf, capacity, needed)
    }
}
