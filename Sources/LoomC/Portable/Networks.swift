import LoomCore
import LoomNN

// Networks through the C ABI: build, serialize to memory, inspect, run forward and backward.
// (Files and threads: Native/Files.swift.)

@_cdecl("loom_version")
public func loom_version() -> UnsafePointer<CChar> {
    let v: StaticString = "0.5.0"
    return UnsafeRawPointer(v.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("loom_last_error")
public func loom_last_error() -> UnsafePointer<CChar> { LastError.get() }

/// The memory budget (`Limits.memoryBytes`): what a network, model or batch may make Loom hold
/// before it is refused with an error instead of allocated.
@_cdecl("loom_set_memory_limit")
public func loom_set_memory_limit(_ bytes: UInt64) -> Int32 {
    guarded { () throws(LoomError) in
        guard bytes > 0, bytes <= UInt64(Int.max) else {
            throw LoomError(.invalidArgument, "bytes", "must be between 1 and \(Int.max), got \(bytes)")
        }
        Limits.memoryBytes = Int(bytes)
        return 0
    }
}

@_cdecl("loom_memory_limit")
public func loom_memory_limit() -> UInt64 { UInt64(Limits.memoryBytes) }

@_cdecl("loom_network_from_json")
public func loom_network_from_json(_ json: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let out = try nonNull(out, "out")
        out.pointee = Handles.networks.add(NetworkHandle(try AnyNetwork.load(json: try string(json, "json"), source: "json")))
        return 0
    }
}

@_cdecl("loom_network_from_safetensors")
public func loom_network_from_safetensors(_ bytes: UnsafePointer<UInt8>?, _ count: Int,
                                          _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let out = try nonNull(out, "out")
        let b = try nonNull(bytes, "bytes")
        guard count >= 0 else { throw LoomError(.invalidArgument, "count", "is negative") }
        let file = try Safetensors(bytes: Array(UnsafeBufferPointer(start: b, count: count)), source: "safetensors bytes")
        out.pointee = Handles.networks.add(NetworkHandle(try AnyNetwork.load(safetensors: file)))
        return 0
    }
}

@_cdecl("loom_network_to_json")
public func loom_network_to_json(_ net: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                 _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        copyOut(try Handles.networks.get(net).network.saved(), buf, capacity, needed)
    }
}

@_cdecl("loom_network_to_safetensors")
public func loom_network_to_safetensors(_ net: OpaquePointer?, _ dtype: UnsafePointer<CChar>?, _ buf: UnsafeMutablePointer<UInt8>?,
                                        _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        return copyOut(try h.network.safetensors(options: try safetensorsOptions(dtype)), buf, capacity, needed, what: "buf")
    }
}

func safetensorsOptions(_ dtype: UnsafePointer<CChar>?) throws(LoomError) -> SafetensorsCodec.Options {
    var options = SafetensorsCodec.Options()
    if let d = dtype {
        let name = try string(d, "dtype")
        guard let dt = DType(name: name) else { throw LoomError(.invalidArgument, "dtype", "unknown dtype \"\(name)\"") }
        options.dtype = dt
    }
    return options
}

@_cdecl("loom_network_free")
public func loom_network_free(_ net: OpaquePointer?) { Handles.networks.remove(net, "loom_network_free") }

@_cdecl("loom_network_input_size")
public func loom_network_input_size(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        try nonNull(out, "out").pointee = h.network.inputShape.reduce(1, *)
        return 0
    }
}

@_cdecl("loom_network_output_size")
public func loom_network_output_size(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        try nonNull(out, "out").pointee = h.network.outputShape.reduce(1, *)
        return 0
    }
}

/// The shape of one output sample (dims into a caller buffer; *rank its length).
@_cdecl("loom_network_output_shape")
public func loom_network_output_shape(_ net: OpaquePointer?, _ dims: UnsafeMutablePointer<Int>?, _ capacity: Int,
                                      _ rank: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        copyOut(try Handles.networks.get(net).network.outputShape, dims, capacity, rank, what: "dims")
    }
}

@_cdecl("loom_network_set_threads")
public func loom_network_set_threads(_ net: OpaquePointer?, _ threads: Int32) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        guard threads >= 1 && threads <= 1024 else { throw LoomError(.invalidArgument, "threads", "must be 1…1024, got \(threads)") }
        h.context = hostContext(threads: Int(threads))
        return 0
    }
}

/// Input tensor of `batch` samples from a caller buffer, in the network's compute type.
func tensor<E: LoomFloat, T: LoomFloat>(_ p: UnsafePointer<E>?, _ batch: Int, _ shape: [Int], _ what: String, as: T.Type) throws(LoomError) -> Tensor<T> {
    let p = try nonNull(p, what)
    let n = try elements(batch, shape.reduce(1, *), what)
    let buf = UnsafeBufferPointer(start: p, count: n)
    let data: [T] = E.self == T.self ? buf.withMemoryRebound(to: T.self) { Array($0) } : buf.map { T($0.double) }
    return Tensor(uncheckedShape: [batch] + shape, data: data)
}

/// Copies a result tensor into a caller buffer of element type E.
func copyOut<E: LoomFloat, T: LoomFloat>(_ t: Tensor<T>, _ y: UnsafeMutablePointer<E>?, _ capacity: Int, what: String) throws(LoomError) -> Int32 {
    guard let y, capacity >= t.count else {
        LastError.set("\(what) holds \(capacity) values; \(t.count) are needed (shape \(Tensor<T>.describe(t.shape)))")
        return bufferTooSmall
    }
    t.data.withUnsafeBufferPointer { src in
        if E.self == T.self {
            UnsafeMutableRawPointer(y).copyMemory(from: src.baseAddress!, byteCount: src.count * MemoryLayout<T>.stride)
        } else {
            for i in 0..<src.count { y[i] = E(src[i].double) }
        }
    }
    return 0
}

func forward<E: LoomFloat>(_ net: OpaquePointer?, _ x: UnsafePointer<E>?, _ batch: Int, _ y: UnsafeMutablePointer<E>?, _ capacity: Int) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        switch h.network {
        case .f32(let n, _): return try copyOut(try n.forward(try tensor(x, batch, n.inputShape, "x", as: Float.self), context: h.context), y, capacity, what: "y")
        case .f64(let n, _): return try copyOut(try n.forward(try tensor(x, batch, n.inputShape, "x", as: Double.self), context: h.context), y, capacity, what: "y")
        }
    }
}

@_cdecl("loom_network_forward")
public func loom_network_forward(_ net: OpaquePointer?, _ x: UnsafePointer<Float>?, _ batch: Int,
                                 _ y: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    forward(net, x, batch, y, capacity)
}

@_cdecl("loom_network_forward_f64")
public func loom_network_forward_f64(_ net: OpaquePointer?, _ x: UnsafePointer<Double>?, _ batch: Int,
                                     _ y: UnsafeMutablePointer<Double>?, _ capacity: Int) -> Int32 {
    forward(net, x, batch, y, capacity)
}

/// Backward of the network's output for `batch` samples: forward in training mode (dropout off),
/// then dy → dx (batch·input_size) and every parameter's gradient, flattened in parameter order.
/// dx or grads may be NULL (with capacity 0) when not wanted.
func backward<E: LoomFloat>(_ net: OpaquePointer?, _ x: UnsafePointer<E>?, _ batch: Int, _ dy: UnsafePointer<E>?,
                            _ dx: UnsafeMutablePointer<E>?, _ dxCapacity: Int,
                            _ grads: UnsafeMutablePointer<E>?, _ gradsCapacity: Int) -> Int32 {
    func run<T: LoomFloat>(_ n: Network<T>, _ context: HostContext) throws(LoomError) -> Int32 {
        let input = try tensor(x, batch, n.inputShape, "x", as: T.self)
        let g = try tensor(dy, batch, n.outputShape, "dy", as: T.self)
        if let i = g.firstNonFinite { throw LoomError(.nonFinite, "dy[\(i)]", "is not finite") }
        n.params.zeroGrads()
        let pass = n.trainingPass(context: context, step: 0, dropout: false)
        _ = try n.forward(input, pass: pass)
        let d = n.backward(g, pass: pass)
        if dx != nil || dxCapacity > 0 {
            let s = try copyOut(d, dx, dxCapacity, what: "dx")
            if s != 0 { return s }
        }
        if grads != nil || gradsCapacity > 0 {
            let all = n.params.grads.flatMap { $0.data }
            let s = try copyOut(Tensor(uncheckedShape: [all.count], data: all), grads, gradsCapacity, what: "grads")
            if s != 0 { return s }
        }
        return 0
    }
    return guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        switch h.network {
        case .f32(let n, _): return try run(n, h.context)
        case .f64(let n, _): return try run(n, h.context)
        }
    }
}

@_cdecl("loom_network_backward")
public func loom_network_backward(_ net: OpaquePointer?, _ x: UnsafePointer<Float>?, _ batch: Int, _ dy: UnsafePointer<Float>?,
                                  _ dx: UnsafeMutablePointer<Float>?, _ dxCapacity: Int,
                                  _ grads: UnsafeMutablePointer<Float>?, _ gradsCapacity: Int) -> Int32 {
    backward(net, x, batch, dy, dx, dxCapacity, grads, gradsCapacity)
}

@_cdecl("loom_network_backward_f64")
public func loom_network_backward_f64(_ net: OpaquePointer?, _ x: UnsafePointer<Double>?, _ batch: Int, _ dy: UnsafePointer<Double>?,
                                      _ dx: UnsafeMutablePointer<Double>?, _ dxCapacity: Int,
                                      _ grads: UnsafeMutablePointer<Double>?, _ gradsCapacity: Int) -> Int32 {
    backward(net, x, batch, dy, dx, dxCapacity, grads, gradsCapacity)
}

/// Number of scalar parameters (the length of the backward's gradient vector).
@_cdecl("loom_network_parameter_count")
public func loom_network_parameter_count(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        let count: Int
        switch h.network {
        case .f32(let n, _): count = n.params.values.reduce(0) { $0 + $1.count }
        case .f64(let n, _): count = n.params.values.reduce(0) { $0 + $1.count }
        }
        try nonNull(out, "out").pointee = count
        return 0
    }
}

@_cdecl("loom_network_info_json")
public func loom_network_info_json(_ net: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                   _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
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
        let h = try Handles.networks.get(net)
        let out = try nonNull(out, "out")
        switch h.network {
        case .f32(let n, _): out.pointee = n.params.bitHash.value
        case .f64(let n, _): out.pointee = n.params.bitHash.value
        }
        return 0
    }
}
