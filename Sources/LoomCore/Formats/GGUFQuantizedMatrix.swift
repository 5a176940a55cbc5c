/// A row of activations quantized to Loom's 8-bit activation blocks, the right-hand side of the
/// integer dot kernels (docs/formats.md, "Quantized dot products").
///
/// For each block b of 32 consecutive values (in index order):
/// - `amax = max |x_i|` (exact);
/// - `scale_b = amax / 127` (one binary32 division); a block whose scale is 0 (amax 0, or so
///   small that the division underflows) keeps scale 0, codes 0 and sum 0;
/// - `code_i = clamp(roundToNearestEven(x_i / scale_b), −127, 127)` (one division and an exact
///   rounding per value);
/// - `sum_b = Σ code_i` (exact, in `Int32`).
///
/// Edge Cases: a block holding a NaN or an infinity gets the scale NaN and codes 0, so every dot
/// product that reads it is NaN. Subnormal inputs are kept (the scale may be subnormal).
///
/// llama.cpp's `Q8_0`/`Q8_1` differ: they round `x · (1/d)` half away from zero and store the
/// scale (and Q8_1's `d · Σ code`) as f16; here the scale stays binary32 and the block sum is the
/// exact integer.
public struct GGUFQ8Activations: Sendable {
    public static let blockSize = 32
    /// Number of values per row (a multiple of 32).
    public let count: Int
    /// Number of rows (tokens); row t's codes start at `t · count`, its scales and sums at `t · count / 32`.
    public let rows: Int
    public private(set) var codes: [Int8]
    public private(set) var scales: [Float]
    public private(set) var sums: [Int32]

    /// Quantizes `x` (`x.count` a multiple of 32) as one row.
    public init(_ x: UnsafeBufferPointer<Float>) {
        precondition(x.count % 32 == 0, "GGUFQ8Activations: \(x.count) values is not a multiple of 32")
        self.init(rows: 1, count: x.count, x.baseAddress ?? UnsafePointer(bitPattern: 16)!, rowStride: x.count, context: nil)
    }

    /// Quantizes `rows` rows of `count` values (a multiple of 32), row t at `x + t · rowStride`;
    /// `context`'s kernel when it has one (the same bits), else the portable loop.
    public init(rows: Int, count: Int, _ x: UnsafePointer<Float>, rowStride: Int, context: ComputeContext?) {
        precondition(count % 32 == 0 && rows >= 0, "GGUFQ8Activations: \(count) values is not a multiple of 32")
        self.count = count
        self.rows = rows
        let nb = count / 32
        var codes = [Int8](repeating: 0, count: rows * count)
        var scales = [Float](repeating: 0, count: rows * nb)
        var sums = [Int32](repeating: 0, count: rows * nb)
        codes.withUnsafeMutableBufferPointer { c in
            scales.withUnsafeMutableBufferPointer { sc in
                sums.withUnsafeMutableBufferPointer { sm in
                    for t in 0..<rows {
                        let xt = x + t * rowStride, ct = c.baseAddress! + t * count
                        let st = sc.baseAddress! + t * nb, mt = sm.baseAddress! + t * nb
                        if context?.quantizeQ8(xt, count: count, codes: ct, scales: st, sums: mt) == true { continue }
                        Self.quantize(xt, blocks: nb, ct, st, mt)
                    }
                }
            }
        }
        self.codes = codes; self.scales = scales; self.sums = sums
    }

    /// The canonical loop (`codes`, `scales`, `sums` hold zeros on entry).
    static func quantize(_ x: UnsafePointer<Float>, blocks nb: Int, _ codes: UnsafeMutablePointer<Int8>,
                         _ scales: UnsafeMutablePointer<Float>, _ sums: UnsafeMutablePointer<Int32>) {
        for b in 0..<nb {
            var amax: Float = 0
            var finite = true
            for i in 0..<32 {
                let v = x[32 * b + i]
                if !v.isFinite { finite = false }
                let a = v.magnitude
                if a > amax { amax = a }
            }
            if !finite { scales[b] = .nan; continue }
            let d = amax / 127
            if d == 0 { continue }  // amax is 0 (or below 127 · 2^-149, where every code is 0)
            scales[b] = d
            var s: Int32 = 0
            for i in 0..<32 {
                var q = (x[32 * b + i] / d).rounded(.toNearestOrEven)
                q = Swift.min(127, Swift.max(-127, q))
                let c = Int8(q)
                codes[32 * b + i] = c
                s += Int32(c)
            }
            sums[b] = s
        }
    }

    public init(_ x: [Float]) {
        self = x.withUnsafeBufferPointer { GGUFQ8Activations($0) }
    }

    /// The values the codes of row 0 stand for: `Float(code_i) · scale_b`.
    public var dequantized: [Float] {
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count { out[i] = Float(codes[i]) * scales[i / 32] }
        return out
    }
}

/// A quantized weight matrix `[rows, cols]` viewed in place in a GGUF file (nothing copied): row
/// r is the r-th run of `cols / blockSize` blocks. In ggml's order the tensor's dimensions are
/// `[cols, rows]`; it computes `y[r] = Σ_k W[r, k] · x[k]`.
///
/// Two dot products of a row with activations:
/// - `dot(row:_:)` — integer kernel: each block's products of weight codes and activation codes
///   are summed exactly in `Int32`, then the per-block scales are applied in a fixed order with
///   fused multiply-adds (docs/formats.md gives each format's formula). Deterministic, and a
///   function of the row and the activations only (threads only choose which rows run where).
/// - `dotReference(row:_:)` — dequantize the row to Float, then `acc = fma(w[k], x[k], acc)` for
///   k ascending from +0 (the plain float path of docs/numerics.md).
public struct GGUFQuantizedMatrix: Sendable {
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    public let name: String
    private let buffer: ByteBuffer
    private let offset: Int

    /// Views `tensor` of `gguf` as a matrix. Throws unless the type has an integer kernel
    /// (`GGMLType.hasIntegerDot`) and the tensor has at most two dimensions that are not 1.
    public init(_ gguf: GGUF, _ tensor: GGUFTensorInfo) throws(LoomError) {
        let path = "\(gguf.name): tensor \(tensor.name)"
        guard tensor.type.hasIntegerDot else {
            throw LoomError(.invalidModel, path, "\(tensor.type.name) has no quantized dot product (types with one: Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K)")
        }
        guard tensor.dimensions.count >= 1, tensor.dimensions.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw LoomError(.shapeMismatch, path, "shape \(tensor.shape) is not a matrix")
        }
        let c = tensor.dimensions[0]
        guard c > 0 else { throw LoomError(.shapeMismatch, path, "matrix with 0 columns") }
        type = tensor.type
        cols = c
        rows = tensor.elementCount / c
        rowBytes = c / type.blockSize * type.typeSize
        name = tensor.name
        buffer = gguf.buffer
        offset = tensor.fileOffset
    }

    /// Row r's blocks (0 ≤ r < rows).
    @inline(__always) public func rowPointer(_ r: Int) -> UnsafeRawPointer {
        precondition(r >= 0 && r < rows, "GGUFQuantizedMatrix: row out of range")
        return buffer.bytes.baseAddress! + offset + r * rowBytes
    }

    /// Row r decoded to Float (`cols` values).
    public func dequantizeRow(_ r: Int, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= cols)
        GGUFBlocks.dequantize(type, rowPointer(r), blocks: cols / type.blockSize, into: y.baseAddress)
    }

    public func dequantizeRow(_ r: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: cols) { y, n in dequantizeRow(r, into: y); n = cols }
    }

    /// Reference: `acc = +0; acc = fma(w[k], x[k], acc)` for k = 0…cols−1 with w the dequantized row.
    public func dotReference(row r: Int, _ x: UnsafeBufferPointer<Float>) -> Float {
        precondition(x.count == cols, "GGUFQuantizedMatrix: \(x.count) activations for \(cols) columns")
        let w = dequantizeRow(r)
        var acc: Float = 0
        for k in 0..<cols { acc = acc.addingProduct(w[k], x[k]) }
        return acc
    }

    /// Integer kernel: row r · activations (`a.count == cols`).
    public func dot(row r: Int, _ a: GGUFQ8Activations) -> Float {
        precondition(a.count == cols, "GGUFQuantizedMatrix: \(a.count) activations for \(cols) columns")
        let p = rowPointer(r)
        return a.codes.withUnsafeBufferPointer { q in
            a.scales.withUnsafeBufferPointer { s in
                a.sums.withUnsafeBufferPointer { sm in
                    GGUFDot.row(type, p, cols: cols, q.baseAddress!, s.baseAddress!, sm.baseAddress!)
                }
            }
        }
    }

    /// `y[r] = dot(row: r, a)` for every row (`a` one row), rows split across `ctx`'s threads
    /// (same bits for any split).
    public func multiply(_ ctx: ComputeContext, _ a: GGUFQ8Activations, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(a.rows == 1 && y.count >= rows)
        multiply(ctx, a, into: y.baseAddress!, ldy: rows)
    }

    /// `y[t · ldy + r] = dot(row: r, row t of a)` for every row r and every activation row t.
    /// Weight rows are split across `ctx`'s threads in groups of 8 (the vector kernel's lanes); each
    /// group is multiplied by all of `a`'s rows while it is in cache.
    public func multiply(_ ctx: ComputeContext, _ a: GGUFQ8Activations, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        precondition(a.count == cols && ldy >= rows)
        let t = type, c = cols, rb = rowBytes, n = rows, tokens = a.rows, nb = cols / 32
        let base = buffer.bytes.baseAddress! + offset
        a.codes.withUnsafeBufferPointer { q in
            a.scales.withUnsafeBufferPointer { s in
                a.sums.withUnsafeBufferPointer { sm in
                    guard let qp = q.baseAddress, let sp = s.baseAddress, let smp = sm.baseAddress else { return }
                    let groups = (n + 7) / 8
                    // Chunks of at least ~2^15 weight·token products: smaller ones cost more to hand to a thread.
                    let minGroups = Swift.max(1, (1 << 15) / Swift.max(1, 8 * c * tokens))
                    ctx.parallelRanges(groups, minChunk: minGroups) { g in
                        let range = (g.lowerBound * 8)..<Swift.min(n, g.upperBound * 8)
                        // The context's vector kernel when it has one (same bits), else the portable rows.
                        if ctx.ggufDotTile(type: t.rawValue, weights: base, rowBytes: rb, rows: range, cols: c, tokens: tokens,
                                           codes: qp, scales: sp, sums: smp, into: y, ldy: ldy) { return }
                        for k in 0..<tokens {
                            for r in range {
                                y[k * ldy + r] = GGUFDot.row(t, base + r * rb, cols: c, qp + k * c, sp + k * nb, smp + k * nb)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The integer dot kernels: one weight row against Loom Q8 activation blocks.
///
/// Per activation block b (32 values, index order), with `isum` the exact `Int32` sum of code
/// products and `da = scale_b`, `asum = sum_b`:
///
/// | weights | per block, in this order |
/// |---|---|
/// | Q8_0 (d) | `acc = fma(Float(Σ qw·qa), d·da, acc)` |
/// | Q4_0 (d) / Q5_0 | `acc = fma(Float(Σ (qw−8)·qa), d·da, acc)` (Q5_0: −16) |
/// | Q4_1 (d, m) / Q5_1 | `acc = fma(Float(Σ qw·qa), d·da, acc)`; `acc = fma(Float(asum), m·da, acc)` |
/// | Q4_K / Q5_K (sub-block j) | `acc = fma(Float(sc_j·Σ qw·qa), d·da, acc)`; `acc = fma(Float(−m_j·asum), dmin·da, acc)` |
/// | Q6_K (two scale groups g, g+1) | `acc = fma(Float(sc_g·Σ_g qw·qa + sc_{g+1}·Σ_{g+1} qw·qa), d·da, acc)` |
///
/// `acc` starts at +0; `d·da` etc. are binary32 products (one rounding); every integer is
/// below 2^24 in magnitude, so its conversion to Float is exact.
public enum GGUFDot {
    @inline(__always)
    public static func row(_ type: GGMLType, _ w: UnsafeRawPointer, cols: Int,
                           _ qa: UnsafePointer<Int8>, _ da: UnsafePointer<Float>, _ sa: UnsafePointer<Int32>) -> Float {
        var acc: Float = 0
        switch type {
        case .q8_0:
            for b in 0..<(cols / 32) {
                let p = w + 34 * b, a = qa + 32 * b
                var isum: Int32 = 0
                for i in 0..<32 { isum &+= Int32(Int8(bitPattern: p.load(fromByteOffset: 2 + i, as: UInt8.self))) &* Int32(a[i]) }
                acc = acc.addingProduct(Float(isum), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p)) * da[b])
            }
        case .q4_0:
            for b in 0..<(cols / 32) {
                let p = w + 18 * b, a = qa + 32 * b
                var isum: Int32 = 0
                for j in 0..<16 {
                    let x = p.load(fromByteOffset: 2 + j, as: UInt8.self)
                    isum &+= Int32(x & 15) &* Int32(a[j]) &+ Int32(x >> 4) &* Int32(a[j + 16])
                }
                isum &-= 8 &* sa[b]
                acc = acc.addingProduct(Float(isum), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p)) * da[b])
            }
        case .q4_1:
            for b in 0..<(cols / 32) {
                let p = w + 20 * b, a = qa + 32 * b
                var isum: Int32 = 0
                for j in 0..<16 {
                    let x = p.load(fromByteOffset: 4 + j, as: UInt8.self)
                    isum &+= Int32(x & 15) &* Int32(a[j]) &+ Int32(x >> 4) &* Int32(a[j + 16])
                }
                acc = acc.addingProduct(Float(isum), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p)) * da[b])
                acc = acc.addingProduct(Float(sa[b]), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p + 2)) * da[b])
            }
        case .q5_0:
            for b in 0..<(cols / 32) {
                let p = w + 22 * b, a = qa + 32 * b
                let isum = q5Sum(p + 6, GGUFBlocks.le32(p + 2), a) &- 16 &* sa[b]
                acc = acc.addingProduct(Float(isum), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p)) * da[b])
            }
        case .q5_1:
            for b in 0..<(cols / 32) {
                let p = w + 24 * b, a = qa + 32 * b
                let isum = q5Sum(p + 8, GGUFBlocks.le32(p + 4), a)
                acc = acc.addingProduct(Float(isum), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p)) * da[b])
                acc = acc.addingProduct(Float(sa[b]), GGUFBlocks.halfToFloat(GGUFBlocks.le16(p + 2)) * da[b])
            }
        case .q4_K, .q5_K:
            let five = type == .q5_K
            let ts = five ? 176 : 144
            for sb in 0..<(cols / 256) {
                let p = w + ts * sb
                let d = GGUFBlocks.halfToFloat(GGUFBlocks.le16(p)), dmin = GGUFBlocks.halfToFloat(GGUFBlocks.le16(p + 2))
                let qs = p + (five ? 48 : 16), qh = p + 16
                for j in 0..<8 {
                    let b = 8 * sb + j
                    let a = qa + 32 * b
                    let (sc, mn) = GGUFBlocks.kScaleMin(p + 4, j)
                    let q = qs + 32 * (j >> 1)
                    let shift: UInt8 = j & 1 == 0 ? 0 : 4
                    var isum: Int32 = 0
                    for l in 0..<32 {
                        var c = (q.load(fromByteOffset: l, as: UInt8.self) >> shift) & 15
                        if five { c |= ((qh.load(fromByteOffset: l, as: UInt8.self) >> UInt8(j)) & 1) << 4 }
                        isum &+= Int32(c) &* Int32(a[l])
                    }
                    acc = acc.addingProduct(Float(Int32(sc) &* isum), d * da[b])
                    acc = acc.addingProduct(Float(0 &- Int32(mn) &* sa[b]), dmin * da[b])
                }
            }
        case .q6_K:
            for sb in 0..<(cols / 256) {
                let p = w + 210 * sb
                let d = GGUFBlocks.halfToFloat(GGUFBlocks.le16(p + 208))
                for h in 0..<2 {
                    let ql = p + 64 * h, qh = p + 128 + 32 * h
                    for k in 0..<4 {
                        let t = 4 * h + k          // activation block within the super-block
                        let b = 8 * sb + t
                        let a = qa + 32 * b
                        let src = ql + 32 * (k & 1)
                        let shift: UInt8 = k < 2 ? 0 : 4
                        var s0: Int32 = 0, s1: Int32 = 0
                        for l in 0..<32 {
                            let lo = (src.load(fromByteOffset: l, as: UInt8.self) >> shift) & 15
                            let hi = (qh.load(fromByteOffset: l, as: UInt8.self) >> UInt8(2 * k)) & 3
                            let prod = (Int32(lo | hi << 4) &- 32) &* Int32(a[l])
                            if l < 16 { s0 &+= prod } else { s1 &+= prod }
                        }
                        let sc0 = Int32(Int8(bitPattern: p.load(fromByteOffset: 192 + 2 * t, as: UInt8.self)))
                        let sc1 = Int32(Int8(bitPattern: p.load(fromByteOffset: 193 + 2 * t, as: UInt8.self)))
                        acc = acc.addingProduct(Float(sc0 &* s0 &+ sc1 &* s1), d * da[b])
                    }
                }
            }
        default:
            preconditionFailure("GGUFDot: \(type.name) has no integer kernel")
        }
        return acc
    }

    /// Σ q·a over a Q5 block: codes `(qs[j] & 15) | bit j of qh << 4` and `(qs[j] >> 4) | bit j+16 << 4`.
    @inline(__always) static func q5Sum(_ qs: UnsafeRawPointer, _ qh: UInt32, _ a: UnsafePointer<Int8>) -> Int32 {
        var isum: Int32 = 0
        for j in 0..<16 {
            let x = UInt32(qs.load(fromByteOffset: j, as: UInt8.self))
            let lo = (x & 15) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (x >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            isum &+= Int32(lo) &* Int32(a[j]) &+ Int32(hi) &* Int32(a[j + 16])
        }
        return isum
    }
}
