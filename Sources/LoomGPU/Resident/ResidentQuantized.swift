import LoomCore
import LoomNN

/// A GGUF block matrix (`GGUFQuantizedMatrix`) copied byte for byte to the device.
struct QuantizedWeight {
    let matrix: GGUFQuantizedMatrix
    let type: GGMLType
    let rows: Int
    let cols: Int
    let rowBytes: Int
    let buffer: CUDABuffer

    init(_ m: GGUFQuantizedMatrix, _ device: CUDADevice) throws(LoomError) {
        guard QuantizedKernels.types.contains(m.type) else {
            throw LoomError(.device, m.name, "\(m.type.name) blocks have no device kernel")
        }
        matrix = m
        type = m.type; rows = m.rows; cols = m.cols; rowBytes = m.rowBytes
        buffer = try CUDABuffer(device, bytes: rows * rowBytes)
        try device.copyIn(UnsafeBufferPointer(start: m.rowPointer(0).assumingMemoryBound(to: UInt8.self), count: rows * rowBytes),
                          to: buffer.pointer)
    }
}

/// Device pointers of activation rows quantized to 8-bit blocks (`GGUFQ8Activations`).
struct QuantizedActivations {
    let codes: CUdeviceptr, scales: CUdeviceptr, sums: CUdeviceptr
    let rows: Int, cols: Int
}

extension ResidentRuntime {
    /// `rows` f32 rows of `cols` values (a multiple of 32) → 8-bit blocks, in the runtime's one set
    /// of activation buffers (valid until the next call).
    func quantize(_ x: CUdeviceptr, rows: Int, cols: Int) throws(LoomError) -> QuantizedActivations {
        let blocks = rows * cols / 32
        let c = try reserveBytes(&codes, rows * cols), s = try reserveBytes(&scales, blocks * 4), m = try reserveBytes(&sums, blocks * 4)
        try timed("q8 quantize") { () throws(LoomError) in
            try device.launch(quantizedKernel("loom_q8_quantize"), over: blocks * 32, [.pointer(c), .pointer(s), .pointer(m), .pointer(x), .int(blocks)])
        }
        return QuantizedActivations(codes: c, scales: s, sums: m, rows: rows, cols: cols)
    }

    /// `y[r, o] = (accumulate ? y[r, o] : +0) + W[o] · a[r]` (`Execution.externalProduct`).
    func dot(_ w: QuantizedWeight, _ a: QuantizedActivations, into y: CUdeviceptr, accumulate: Bool) throws(LoomError) {
        precondition(a.cols == w.cols)
        let jobs = a.rows * w.rows, per = QuantizedKernels.warpsPerBlock
        let blocks = Swift.max(1, Swift.min((jobs + per - 1) / per, device.multiprocessors * 32))
        try timed("gguf dot \(w.type.name) \(a.rows)x\(w.rows)x\(w.cols)") { () throws(LoomError) in
            try device.launch(quantizedKernel(QuantizedKernels.dotKernel(w.type)), blocks: (blocks, 1), threads: 32 * per,
                              [.pointer(y), .pointer(w.buffer.pointer), .int(w.rowBytes), .int(a.rows), .int(w.rows), .int(w.cols),
                               .pointer(a.codes), .pointer(a.scales), .pointer(a.sums), .int(accumulate ? 1 : 0)])
        }
    }

    /// A buffer of at least `bytes` bytes in `buffer` (created on first use).
    func reserveBytes(_ buffer: inout CUDABuffer?, _ bytes: Int) throws(LoomError) -> CUdeviceptr {
        if buffer == nil { buffer = try CUDABuffer(device) }
        try buffer!.reserve(Swift.max(bytes, 16))
        return buffer!.pointer
    }

    /// One projection of `Projection.forward`: `y = x · Wᵀ (+ b)`, a float product or, for a GGUF
    /// block matrix, the integer product of `x`'s 8-bit blocks (`activations`, quantized here when
    /// not given), or in quantized execution the integer product of `integerProduct`.
    func project(_ x: CUdeviceptr, rows: Int, inF: Int, weight: Int, bias: Int?, outF: Int, into y: CUdeviceptr,
                 activations: QuantizedActivations? = nil) throws(LoomError) {
        if let bi = bias { try run("loom_fill_rows", over: rows * outF, [.pointer(y), .pointer(param(bi)), .int(rows), .int(outF)]) }
        if try integerProduct(weight: weight, x: x, rows: rows, cols: inF, rsX: inF, csX: 1, c: y, rsC: outF, csC: 1,
                              accumulate: bias != nil) { return }
        if let w = quantized[weight] {
            let a: QuantizedActivations
            if let given = activations { a = given } else { a = try quantize(x, rows: rows, cols: inF) }
            try dot(w, a, into: y, accumulate: bias != nil)
            return
        }
        try gemm(GemmKernel.Shape(m: rows, n: outF, k: inF, rsA: inF, csA: 1, rsB: 1, csB: inF, ldc: outF, accumulate: bias != nil),
                 a: x, b: param(weight), c: y)
    }

    /// The 8-bit blocks of `x` when any of `weights` is a GGUF block matrix (several projections
    /// of one input then quantize it once), else nil.
    func activations(_ x: CUdeviceptr, rows: Int, cols: Int, for weights: [Int]) throws(LoomError) -> QuantizedActivations? {
        weights.contains { quantized[$0] != nil } ? try quantize(x, rows: rows, cols: cols) : nil
    }

    /// The RoPE table of `layer` for positions `first ..< first + count` on the device (cos, then
    /// sin), computed on the host by the layer (`rotaryTable`) and uploaded once per position range.
    func ropeTable(_ layer: AttentionLayer<T>, first: Int, count: Int) throws(LoomError) -> (cos: CUdeviceptr, sin: CUdeviceptr, interleaved: Bool)? {
        guard let spec = layer.rope else { return nil }
        let half = layer.headDim / 2, interleaved = spec.layout == .interleaved
        if let k = ropeKey, k.first == first, k.count == count, k.headDim == layer.headDim, k.base == spec.base, k.interleaved == interleaved {
            return (rope!.pointer, rope!.pointer + CUdeviceptr(count * half * size), interleaved)
        }
        let t = layer.rotaryTable(positions: first..<(first + count))!
        let p = try upload(t.cos + t.sin, into: &rope)
        ropeKey = (first, count, layer.headDim, spec.base, interleaved)
        return (p, p + CUdeviceptr(count * half * size), interleaved)
    }
}
