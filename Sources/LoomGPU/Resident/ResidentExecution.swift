import LoomCore
import LoomNN

/// A weight matrix's integer codes `[rows, cols]` and per-row scales in quantized execution
/// (`QuantizedRows` of the weight, per output channel), on the device.
struct GridWeight {
    let codes: CUDABuffer
    let scales: CUDABuffer
    let rows: Int, cols: Int

    init(_ device: CUDADevice, rows: Int, cols: Int) throws(LoomError) {
        codes = try CUDABuffer(device, bytes: Swift.max(rows * cols, 1) * 8)
        scales = try CUDABuffer(device, bytes: Swift.max(rows, 1) * 8)
        self.rows = rows
        self.cols = cols
    }
}

/// How a resident pass computes in the network's dtype (`Execution`, docs/numerics.md): the
/// parameter view, the rounding of values between layers, and quantized execution's integer
/// products — each as the CPU's.
extension ResidentRuntime {
    var rounding: DType? { if case .rounded(let dt) = execution { dt } else { nil } }
    var grid: QuantGrid? { if case .quantized(let g) = execution { g } else { nil } }

    /// Makes the view again from the master values (after every change of `params`): rounded to
    /// f16/bf16, or the master values with every weight matrix quantized per output channel (its
    /// codes kept) and read back. Native execution reads `params` itself.
    func refreshView() throws(LoomError) {
        guard let view else { return }
        if rounding != nil { return try roundElements(params.pointer, into: view.pointer, total) }
        try run("loom_copy", over: total, [.pointer(view.pointer), .pointer(params.pointer), .int(total)])
        for (i, w) in gridWeights {   // independent launches: their order does not matter
            let offset = CUdeviceptr(offsets[i] * size)
            try quantizeRows(params.pointer + offset, rows: w.rows, cols: w.cols, rowStride: w.cols, colStride: 1,
                             codes: w.codes.pointer, scales: w.scales.pointer, values: view.pointer + offset)
        }
    }

    /// `QuantGrid.quantize` of rows `x[r·rowStride + c·colStride]` on the network's grid: codes
    /// `[rows, cols]` and scales when given, the read-back values into `values` (same strides) when given.
    func quantizeRows(_ x: CUdeviceptr, rows: Int, cols: Int, rowStride: Int, colStride: Int,
                      codes: CUdeviceptr?, scales: CUdeviceptr?, values: CUdeviceptr?) throws(LoomError) {
        let g = grid!
        try run("loom_quantize_rows", over: rows, [.pointer(codes ?? 0), .pointer(scales ?? 0), .pointer(values ?? 0), .pointer(x),
                                                  .int(rows), .int(cols), .int(rowStride), .int(colStride),
                                                  .int(IntegerProductKernels.kind(g)), .double(g.qmax)])
    }

    /// A value passing between layers forward (`Execution.roundActivation`): rounded to f16/bf16, or
    /// each row of its last axis quantized and read back, into `buffer`; native: `x` itself.
    func roundActivation(_ x: DeviceTensor, into buffer: inout CUDABuffer?) throws(LoomError) -> DeviceTensor {
        if execution.isNative { return x }
        let y = try reserve(&buffer, x.count)
        if rounding != nil {
            try roundElements(x.pointer, into: y, x.count)
        } else {
            let width = Swift.max(1, x.shape.last ?? 1)
            try quantizeRows(x.pointer, rows: x.count / width, cols: width, rowStride: width, colStride: 1, codes: nil, scales: nil, values: y)
        }
        return DeviceTensor(pointer: y, shape: x.shape)
    }

    /// A gradient passing between layers backward (`Execution.roundGradient`): rounded to f16/bf16
    /// into `buffer`; otherwise `g` itself (quantization passes gradients straight through).
    func roundGradient(_ g: DeviceTensor, into buffer: inout CUDABuffer?) throws(LoomError) -> DeviceTensor {
        guard rounding != nil else { return g }
        let y = try reserve(&buffer, g.count)
        try roundElements(g.pointer, into: y, g.count)
        return DeviceTensor(pointer: y, shape: g.shape)
    }

    /// `y[i] = DType.roundTrip(x[i], through: rounding)` for `n` elements (rounded execution).
    func roundElements(_ x: CUdeviceptr, into y: CUdeviceptr, _ n: Int) throws(LoomError) {
        try run("loom_round_elements", over: n, [.pointer(y), .pointer(x), .int(n), .int(RoundingKernels.code(rounding!))])
    }

    /// `WeightProduct.quantized`: in quantized execution, the integer product of the rows
    /// `x[m·rsX + k·csX]` (each quantized on its own) and output channels `channels` of weight
    /// `weight` (all when nil), `c[m·rsC + n·csC] = T(Double(c) + Double(acc)·(sx·sw))` with c the
    /// bias when `accumulate`, else +0; returns true. Otherwise returns false (the caller runs its
    /// float product).
    func integerProduct(weight: Int, channels: Range<Int>? = nil, x: CUdeviceptr, rows m: Int, cols k: Int, rsX: Int, csX: Int,
                        c: CUdeviceptr, rsC: Int, csC: Int, accumulate: Bool) throws(LoomError) -> Bool {
        guard let g = grid, let w = gridWeights[weight] else { return false }
        precondition(w.cols == k)
        let ch = channels ?? 0..<w.rows
        let xc = try reserveBytes(&activationCodes, m * k * 8), sx = try reserveBytes(&activationScales, m * 8)
        try quantizeRows(x, rows: m, cols: k, rowStride: rsX, colStride: csX, codes: xc, scales: sx, values: nil)
        try timed("integer product \(m)x\(ch.count)x\(k)") { () throws(LoomError) in
            try device.launch(kernel("loom_integer_product"), over: m * ch.count, [
                .pointer(c), .int(rsC), .int(csC), .pointer(xc), .pointer(sx),
                .pointer(w.codes.pointer + CUdeviceptr(ch.lowerBound * k * 8)), .pointer(w.scales.pointer + CUdeviceptr(ch.lowerBound * 8)),
                .int(m), .int(ch.count), .int(k), .int(g.isNarrow ? 1 : 0), .int(accumulate ? 1 : 0)])
        }
        return true
    }
}
