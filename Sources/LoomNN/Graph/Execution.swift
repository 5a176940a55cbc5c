import LoomCore

/// How a network computes in its dtype (docs/numerics.md, "Execution in every dtype").
///
/// Every network keeps **master** parameters in its compute type (f64 for `f64`, f32 for every
/// other dtype); a pass runs on the dtype's view of them:
/// - `native` (f64, f32): the master values themselves.
/// - `rounded` (f16, bf16): every parameter rounded to the dtype; every value that flows between
///   the layers of a sequence (and the network input) is rounded to the dtype, in both directions
///   (activations forward, gradients backward). Inside a layer, the f16/bf16 operands are
///   decoded exactly and the layer computes in f32 under the f32 rules (products of two f16 or bf16
///   values are exact in f32; sums are f32 fma chains) before its output is rounded.
/// - `quantized` (every integer type and f4): every parameter of rank ≥ 2 is quantized per output
///   channel (row of its first axis); rank-1 parameters (biases, norm scales) stay f32. Every
///   product with a weight matrix (dense, conv, the projections of attention, swiglu, rnn/lstm/gru)
///   is an `IntegerGemm` of per-row-quantized activations and the integer weight codes, summed
///   exactly. Other operations (activations, norms, softmax, attention's scores, pooling, the
///   embedding lookup and kmeans distances on the dequantized values) run in f32. The value
///   between the layers of a sequence (and the network input) is requantized: each row of its
///   last axis is quantized and read back. Backward (quantization-aware training) passes the
///   gradient straight through every rounding.
public enum Execution: Sendable, Equatable {
    case native
    case rounded(DType)
    case quantized(QuantGrid)

    public init(_ dtype: DType) {
        switch dtype {
        case .f64, .f32: self = .native
        case .f16, .bf16: self = .rounded(dtype)
        default: self = .quantized(QuantGrid(dtype)!)
        }
    }

    /// The type master parameters and computations use for networks of `dtype`.
    public static func computeType(of dtype: DType) -> DType { dtype == .f64 ? .f64 : .f32 }

    public var isNative: Bool { self == .native }

    /// Rounds a value that passes between layers (forward).
    @_specialize(where T == Float) @_specialize(where T == Double)
    func roundActivation<T: LoomFloat>(_ t: inout Tensor<T>, _ ctx: ComputeContext) {
        switch self {
        case .native: return
        case .rounded(let dt): Execution.roundElements(&t, dt, ctx)
        case .quantized(let grid):
            let width = Swift.max(1, t.lastDim), rows = t.count / width
            t.data.withUnsafeMutableBufferPointer { p in
                let base = p.baseAddress!
                ctx.parallelRanges(rows, minChunk: Swift.max(1, 2048 / width)) { range in
                    let scratch = UnsafeMutablePointer<Int64>.allocate(capacity: width)
                    defer { scratch.deallocate() }
                    for r in range { grid.fakeQuantize(base + r * width, count: width, scratch: scratch) }
                }
            }
        }
    }

    /// Rounds a gradient that passes between layers (backward): f16/bf16 only; quantization is
    /// passed straight through.
    @_specialize(where T == Float) @_specialize(where T == Double)
    func roundGradient<T: LoomFloat>(_ t: inout Tensor<T>, _ ctx: ComputeContext) {
        if case .rounded(let dt) = self { Execution.roundElements(&t, dt, ctx) }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func roundElements<T: LoomFloat>(_ t: inout Tensor<T>, _ dt: DType, _ ctx: ComputeContext) {
        t.data.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            ctx.parallelRanges(p.count, minChunk: 4096) { range in
                for i in range { base[i] = T(DType.roundTrip(Float(base[i]), through: dt)) }
            }
        }
    }

    /// The parameters a pass of this execution reads: rounded or quantized copies of `master`
    /// (sharing its gradients, names and frozen flags), and the integer codes of every weight matrix.
    func view<T: LoomFloat>(of master: ParameterStore<T>, _ ctx: ComputeContext) -> (ParameterStore<T>, [QuantizedRows?]) {
        switch self {
        case .native: return (master, [])
        case .rounded(let dt):
            var values = master.values
            for i in 0..<values.count { Execution.roundElements(&values[i], dt, ctx) }
            return (master.copy(values: values), [])
        case .quantized(let grid):
            var values = master.values
            var codes = [QuantizedRows?](repeating: nil, count: values.count)
            for i in 0..<values.count where values[i].rank >= 2 {
                let rows = values[i].shape[0], cols = values[i].count / Swift.max(1, rows)
                let q = values[i].data.withUnsafeBufferPointer {
                    QuantizedRows(ctx, $0.baseAddress!, rows: rows, cols: cols, rowStride: cols, colStride: 1, grid: grid)
                }
                values[i].data = q.dequantized()
                codes[i] = q
            }
            return (master.copy(values: values), codes)
        }
    }
}

/// A product with a weight matrix in quantized execution: `IntegerGemm` of the per-row-quantized
/// activations and the integer codes of the weight (docs/numerics.md, "Quantized execution").
enum WeightProduct {
    /// When the pass holds integer codes for `weight`: `c[m·rsC + n·csC] = T(Double(c) +
    /// Double(acc)·(sx[m]·sw[n]))` for the output channels `n` in `channels` (rows of the weight,
    /// `cols` codes each), activations `x[m·rsX + k·csX]`; returns true. Otherwise does nothing and
    /// returns false (the caller runs its float product).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func quantized<T: LoomFloat>(_ pass: Pass<T>, weight: Int, channels: Range<Int>? = nil,
                                        x: UnsafePointer<T>, rows m: Int, cols k: Int, rsX: Int, csX: Int,
                                        c: UnsafeMutablePointer<T>, rsC: Int, csC: Int) -> Bool {
        if let w = pass.params.externalMatrix(weight) {
            externalProduct(pass.context, w, channels: channels, x: x, rows: m, cols: k, rsX: rsX, csX: csX, c: c, rsC: rsC, csC: csC)
            return true
        }
        guard let q = pass.quantizedWeight(weight) else { return false }
        let w = channels.map { $0.count == q.rows ? q : q.slice($0) } ?? q
        precondition(w.cols == k)
        let xq = QuantizedRows(pass.context, x, rows: m, cols: k, rowStride: rsX, colStride: csX, grid: q.grid)
        IntegerGemm.run(pass.context, x: xq, w: w, c: c, rsC: rsC, csC: csC)
        return true
    }

    /// A product with a GGUF block matrix kept in the mapped file (docs/gguf.md, "Integer dot
    /// products"): each activation row is quantized to 8-bit blocks of 32 and multiplied by every
    /// weight row with integer block sums; `c = c + y` (Float). Rows of x are read contiguously,
    /// in tiles of up to `tokenTile` rows that share each pass over the weights.
    static func externalProduct<T: LoomFloat>(_ ctx: ComputeContext, _ w: GGUFQuantizedMatrix, channels: Range<Int>?,
                                              x: UnsafePointer<T>, rows m: Int, cols k: Int, rsX: Int, csX: Int,
                                              c: UnsafeMutablePointer<T>, rsC: Int, csC: Int) {
        precondition(T.self == Float.self && csX == 1 && k == w.cols && (channels == nil || channels!.count == w.rows),
                     "GGUF matrices multiply contiguous f32 rows by the whole matrix")
        let tokenTile = 32
        let n = w.rows
        // Every element of a tile is written by `multiply` before it is read.
        var y = [Float](unsafeUninitializedCapacity: Swift.min(m, tokenTile) * n) { _, count in count = Swift.min(m, tokenTile) * n }
        let xf = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
        var r0 = 0
        while r0 < m {
            let tile = Swift.min(tokenTile, m - r0)
            let a = GGUFQ8Activations(rows: tile, count: k, xf + r0 * rsX, rowStride: rsX, context: ctx)
            y.withUnsafeMutableBufferPointer { yp in
                w.multiply(ctx, a, into: yp.baseAddress!, ldy: n)
                for t in 0..<tile {
                    let cr = c + (r0 + t) * rsC, yr = yp.baseAddress! + t * n
                    for j in 0..<n {
                        let p = cr + j * csC
                        p.pointee = p.pointee + T(yr[j])
                    }
                }
            }
            r0 += tile
        }
    }
}
