/// A matrix `[rows, cols]` quantized row by row on a `QuantGrid`: centred integer codes and one
/// scale per row (`value[r, c] = scales[r]·codes[r·cols + c]`). Weight matrices are quantized per
/// output channel (a row of `[out, in…]`), activations per row of the product that reads them.
public struct QuantizedRows: Sendable {
    public let grid: QuantGrid
    public let rows: Int
    public let cols: Int
    public var codes: [Int64]
    public var scales: [Double]

    /// Quantizes `x[r·rowStride + c·colStride]` for r < rows, c < cols (rows in parallel).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public init<T: BinaryFloatingPoint>(_ ctx: ComputeContext, _ x: UnsafePointer<T>, rows: Int, cols: Int,
                                        rowStride: Int, colStride: Int, grid: QuantGrid) {
        self.grid = grid
        self.rows = rows
        self.cols = cols
        var codes = [Int64](repeating: 0, count: rows * cols)
        var scales = [Double](repeating: 1, count: rows)
        codes.withUnsafeMutableBufferPointer { cp in
            scales.withUnsafeMutableBufferPointer { sp in
                let cb = cp.baseAddress!, sb = sp.baseAddress!
                ctx.parallelRanges(rows, minChunk: Swift.max(1, 4096 / Swift.max(1, cols))) { range in
                    for r in range {
                        sb[r] = grid.quantize(x + r * rowStride, count: cols, stride: colStride, into: cb + r * cols)
                    }
                }
            }
        }
        self.codes = codes
        self.scales = scales
    }

    /// Rows `range` as a matrix of their own.
    public func slice(_ range: Range<Int>) -> QuantizedRows {
        QuantizedRows(grid: grid, rows: range.count, cols: cols,
                      codes: Array(codes[(range.lowerBound * cols)..<(range.upperBound * cols)]),
                      scales: Array(scales[range]))
    }

    public init(grid: QuantGrid, rows: Int, cols: Int, codes: [Int64], scales: [Double]) {
        self.grid = grid; self.rows = rows; self.cols = cols; self.codes = codes; self.scales = scales
    }

    /// The values the codes stand for, `T(Double(code)·scale)`, row-major `[rows, cols]`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func dequantized<T: BinaryFloatingPoint>(as type: T.Type = T.self) -> [T] {
        var out = [T](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let s = scales[r]
            for c in 0..<cols { out[r * cols + c] = T(Double(codes[r * cols + c]) * s) }
        }
        return out
    }
}

/// Integer matrix products of quantized operands (docs/numerics.md, "Quantized execution"):
/// `c[m, n] = T(Double(c[m, n]) + Double(acc)·(sx[m]·sw[n]))` with `acc = Σ_k cx[m,k]·cw[n,k]`
/// computed **exactly** in integers — in `Int64` for grids of at most 16 bits (and f4), in a
/// 256-bit accumulator for 32- and 64-bit grids — so the order of the sum cannot matter; `acc` is
/// converted to binary64 with one correct rounding.
public enum IntegerGemm {
    /// `x` `[M, K]` (activations, rows quantized), `w` `[N, K]` (weights, output channels);
    /// `c[m·rsC + n·csC]` is read (the chain's start: bias or +0) and written.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func run<T: BinaryFloatingPoint>(_ ctx: ComputeContext, x: QuantizedRows, w: QuantizedRows,
                                                   c: UnsafeMutablePointer<T>, rsC: Int, csC: Int) {
        precondition(x.cols == w.cols && x.grid == w.grid)
        let m = x.rows, n = w.rows, k = x.cols, narrow = x.grid.isNarrow
        x.codes.withUnsafeBufferPointer { xb in
            w.codes.withUnsafeBufferPointer { wb in
                let xp = xb.baseAddress!, wp = wb.baseAddress!
                ctx.parallelRanges(m, minChunk: Swift.max(1, 16384 / Swift.max(1, n * k))) { range in
                    for i in range {
                        let xr = xp + i * k, sx = x.scales[i]
                        for j in 0..<n {
                            let wr = wp + j * k
                            let a = narrow ? Double(dotNarrow(xr, wr, k)) : dotWide(xr, wr, k)
                            let p = c + i * rsC + j * csC
                            p.pointee = T(Double(p.pointee) + a * (sx * w.scales[j]))
                        }
                    }
                }
            }
        }
    }

    /// Σ a[i]·b[i] in Int64; exact when |a|, |b| ≤ 65535 and count < 2^31.
    @inline(__always)
    public static func dotNarrow(_ a: UnsafePointer<Int64>, _ b: UnsafePointer<Int64>, _ count: Int) -> Int64 {
        var s: Int64 = 0
        for i in 0..<count { s &+= a[i] &* b[i] }
        return s
    }

    /// Σ a[i]·b[i] exactly (256-bit two's complement), rounded once to binary64.
    public static func dotWide(_ a: UnsafePointer<Int64>, _ b: UnsafePointer<Int64>, _ count: Int) -> Double {
        var acc = Int256Accumulator()
        for i in 0..<count { acc.addProduct(a[i], b[i]) }
        return acc.doubleValue
    }
}

/// A 256-bit two's-complement integer (four little-endian limbs) that sums products of `Int64`s
/// exactly: each product is below 2^126 in magnitude, so 2^129 of them cannot overflow.
public struct Int256Accumulator: Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    public init() {}

    /// Adds `a·b` (exact).
    public mutating func addProduct(_ a: Int64, _ b: Int64) {
        let (hi, lo) = a.magnitude.multipliedFullWidth(by: b.magnitude)
        if (a < 0) != (b < 0) { add(~lo, ~hi, ~0, ~0, carryIn: 1) } else { add(lo, hi, 0, 0, carryIn: 0) }
    }

    private mutating func add(_ b0: UInt64, _ b1: UInt64, _ b2: UInt64, _ b3: UInt64, carryIn: UInt64) {
        var (s0, c0) = w0.addingReportingOverflow(b0)
        var c: UInt64 = c0 ? 1 : 0
        (s0, c0) = s0.addingReportingOverflow(carryIn); c += c0 ? 1 : 0
        w0 = s0
        var (s1, c1) = w1.addingReportingOverflow(b1)
        var d: UInt64 = c1 ? 1 : 0
        (s1, c1) = s1.addingReportingOverflow(c); d += c1 ? 1 : 0
        w1 = s1
        var (s2, c2) = w2.addingReportingOverflow(b2)
        var e: UInt64 = c2 ? 1 : 0
        (s2, c2) = s2.addingReportingOverflow(d); e += c2 ? 1 : 0
        w2 = s2
        w3 = w3 &+ b3 &+ e
    }

    /// The value rounded to the nearest binary64 (ties to even): the top 64 bits from the leading
    /// one, with a sticky bit for anything below, converted by IEEE `Double(UInt64)`, then scaled
    /// by an exact power of two.
    public var doubleValue: Double {
        let negative = w3 >> 63 == 1
        var m = self
        if negative { m = Int256Accumulator(); m.add(~w0, ~w1, ~w2, ~w3, carryIn: 1) }
        let limbs = [m.w0, m.w1, m.w2, m.w3]
        var top = 3
        while top > 0 && limbs[top] == 0 { top -= 1 }
        if top == 0 { let v = Double(limbs[0]); return negative ? -v : v }
        let lz = limbs[top].leadingZeroBitCount
        var window = lz == 0 ? limbs[top] : (limbs[top] << UInt64(lz)) | (limbs[top - 1] >> UInt64(64 - lz))
        var sticky = lz == 0 ? limbs[top - 1] : limbs[top - 1] << UInt64(lz)
        for i in 0..<(top - 1) { sticky |= limbs[i] }
        if sticky != 0 { window |= 1 }
        let shift = 64 * (top - 1) + (64 - lz)   // value = window·2^shift (+ what sticky stands for)
        var v = Double(window)
        for _ in 0..<(shift / 64) { v *= 18446744073709551616.0 }   // 2^64, exact
        v *= Double(UInt64(1) << UInt64(shift % 64))
        return negative ? -v : v
    }
}
