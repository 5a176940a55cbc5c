import XCTest
import LoomCore

/// QuantGrid, QuantizedRows, IntegerGemm and the 256-bit accumulator (docs/numerics.md,
/// "Quantized execution"): worked examples, exactness and correct rounding.
final class QuantizationTests: XCTestCase {
    func quantize(_ x: [Float], _ dt: DType) -> (codes: [Int64], scale: Double) {
        var codes = [Int64](repeating: 99, count: x.count)
        let s = x.withUnsafeBufferPointer { xp in
            codes.withUnsafeMutableBufferPointer { QuantGrid(dt)!.quantize(xp.baseAddress!, count: x.count, stride: 1, into: $0.baseAddress!) }
        }
        return (codes, s)
    }

    func testGridsExistForQuantizedTypesOnly() {
        for dt in DType.allCases {
            let quantized = !(dt == .f64 || dt == .f32 || dt == .f16 || dt == .bf16)
            XCTAssertEqual(QuantGrid(dt) != nil, quantized, dt.name)
        }
        XCTAssertEqual(QuantGrid(.i8)!.qmax, 127)
        XCTAssertEqual(QuantGrid(.u16)!.qmax, 65535)
        XCTAssertEqual(QuantGrid(.i64)!.qmax, 0x1.FFFFFFFFFFFFFp62)
        XCTAssertEqual(QuantGrid(.u64)!.qmax, 0x1.FFFFFFFFFFFFFp62)
        XCTAssertTrue(QuantGrid(.u16)!.isNarrow)
        XCTAssertFalse(QuantGrid(.i32)!.isNarrow)
    }

    func testSignedSymmetric() {
        // s = 1/127; 0.5·127 = 63.5 → 64 (ties to even), 0.25·127 = 31.75 → 32.
        let (c, s) = quantize([-1, 0.5, 0.25, 0, 0.001], .i8)
        XCTAssertEqual(s, 1.0 / 127)
        XCTAssertEqual(c, [-127, 64, 32, 0, 0])
        let (c64, s64) = quantize([1, -1, 0.5], .i64)
        XCTAssertEqual(s64, 1 / 0x1.FFFFFFFFFFFFFp62)
        // 1/s rounds twice in binary64 (s = 1/qmax, then x/s): the top code lands one step below qmax.
        XCTAssertEqual(c64, [9223372036854773760, -9223372036854773760, 4611686018427386880])
        XCTAssertLessThanOrEqual(Double(c64[0]), QuantGrid(.i64)!.qmax)
    }

    func testUnsignedWithZeroPoint() {
        // lo −1, hi 3: s = 4/255, z = round(63.75) = 64; stored codes 0 and 255, centred −64, 191.
        let (c, s) = quantize([-1, 3, 0], .u8)
        XCTAssertEqual(s, 4.0 / 255)
        XCTAssertEqual(c, [-64, 191, 0])
        // All positive: the range starts at 0, z = 0.
        let (p, sp) = quantize([1, 2], .u8)
        XCTAssertEqual(sp, 2.0 / 255)
        XCTAssertEqual(p, [128, 255])
        // All negative: z = qmax.
        let (n, _) = quantize([-2, -1], .u16)
        XCTAssertEqual(n, [-65535, -32768])
    }

    func testF4CodesAreDoubledE2M1Values() {
        // a = 6 → s = 1: 1.2 → 1, 0.2 → 0, 2.5 → 2 (tie to the even code), −3 → −3; codes ×2, unit scale 1/2.
        let (c, s) = quantize([6, -3, 1.2, 0.2, 2.5], .f4)
        XCTAssertEqual(c, [12, -6, 2, 0, 4])
        XCTAssertEqual(s, 0.5)
    }

    func testZeroRowNaNAndInfinity() {
        for dt in [DType.i8, .u8, .f4, .i32] {
            let (z, s) = quantize([0, 0, 0], dt)
            XCTAssertEqual(z, [0, 0, 0], dt.name)
            XCTAssertEqual(s, dt == .f4 ? 0.5 : 1, dt.name)
            let (n, _) = quantize([.nan, 1, -1], dt)
            XCTAssertEqual(n[0], 0, "NaN → code 0 in \(dt.name)")
            let (i, si) = quantize([.infinity, 1], dt)
            XCTAssertEqual(i, [0, 0], dt.name)
            XCTAssertFalse(si.isFinite, dt.name)
        }
    }

    func testFakeQuantizeGivesGridValues() {
        var x: [Float] = [-1, 0.5, 0.3]
        var scratch = [Int64](repeating: 0, count: 3)
        x.withUnsafeMutableBufferPointer { xp in
            scratch.withUnsafeMutableBufferPointer { QuantGrid(.i8)!.fakeQuantize(xp.baseAddress!, count: 3, scratch: $0.baseAddress!) }
        }
        XCTAssertEqual(x, [Float(-127.0 / 127), Float(64.0 / 127), Float(Double(38) * (1.0 / 127))])
    }

    func testInt256AccumulatorRoundsCorrectly() {
        var a = Int256Accumulator()
        XCTAssertEqual(a.doubleValue, 0)
        a.addProduct(-7, 6)
        XCTAssertEqual(a.doubleValue, -42)
        // 4·(2^53 + 1)·2^62 = (2^53 + 1)·2^64: a tie between 2^117 and (2^53 + 2)·2^64 → even, 2^117.
        var t = Int256Accumulator()
        for _ in 0..<4 { t.addProduct(Int64(1) << 53 + 1, Int64(1) << 62) }
        XCTAssertEqual(t.doubleValue, 0x1p117)
        t.addProduct(1, 1)   // just above the tie → rounds up
        XCTAssertEqual(t.doubleValue, 0x1p117 + 0x1p65)
        t.addProduct(-1, 1)
        t.addProduct(-1, 1)  // just below the tie → rounds down
        XCTAssertEqual(t.doubleValue, 0x1p117)
        // Beyond 2^127: 16 products of 2^62·2^62 = 2^128, then negated twice over.
        var big = Int256Accumulator()
        for _ in 0..<16 { big.addProduct(Int64(1) << 62, Int64(1) << 62) }
        XCTAssertEqual(big.doubleValue, 0x1p128)
        for _ in 0..<32 { big.addProduct(-(Int64(1) << 62), Int64(1) << 62) }
        XCTAssertEqual(big.doubleValue, -0x1p128)
    }

    func testWideAndNarrowDotsAgreeWithExactReferences() {
        let p = Philox(seed: 5)
        for trial in 0..<200 {
            let k = 1 + trial % 37
            let big = trial % 2 == 1
            func code(_ i: Int, _ salt: UInt64) -> Int64 {
                let u = Int64(p.uint32(stream: salt, index: UInt64(trial * 100 + i)))
                return big ? ((u << 28) ^ Int64(p.uint32(stream: salt + 9, index: UInt64(trial * 100 + i)))) - (Int64(1) << 60) : u % 131071 - 65535
            }
            let a = (0..<k).map { code($0, 1) }, b = (0..<k).map { code($0, 2) }
            var exact: Int128 = 0
            for i in 0..<k { exact += Int128(a[i]) * Int128(b[i]) }
            let wide = a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { IntegerGemm.dotWide(ap.baseAddress!, $0.baseAddress!, k) } }
            XCTAssertEqual(wide, Double(exact), "trial \(trial)")
            if !big {
                let narrow = a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { IntegerGemm.dotNarrow(ap.baseAddress!, $0.baseAddress!, k) } }
                XCTAssertEqual(Int128(narrow), exact, "trial \(trial)")
            }
        }
    }

    func testIntegerGemmFormulaAndLayout() {
        // x [2, 3] and w [2, 3] in i8; c holds a bias; strided output (column-major).
        let x: [Float] = [1, -0.5, 0.25, 2, 0, -2], w: [Float] = [0.5, 0.5, -1, 0.1, -0.2, 0.3]
        let ctx = SerialContext()
        let xq = x.withUnsafeBufferPointer { QuantizedRows(ctx, $0.baseAddress!, rows: 2, cols: 3, rowStride: 3, colStride: 1, grid: QuantGrid(.i8)!) }
        let wq = w.withUnsafeBufferPointer { QuantizedRows(ctx, $0.baseAddress!, rows: 2, cols: 3, rowStride: 3, colStride: 1, grid: QuantGrid(.i8)!) }
        var c: [Float] = [0.5, 0.5, -1, -1]   // c[m + 2n]: bias 0.5 for n = 0, −1 for n = 1
        c.withUnsafeMutableBufferPointer { IntegerGemm.run(ctx, x: xq, w: wq, c: $0.baseAddress!, rsC: 1, csC: 2) }
        for m in 0..<2 {
            for n in 0..<2 {
                var acc: Int64 = 0
                for k in 0..<3 { acc += xq.codes[m * 3 + k] * wq.codes[n * 3 + k] }
                let want = Float(Double(n == 0 ? Float(0.5) : Float(-1)) + Double(acc) * (xq.scales[m] * wq.scales[n]))
                XCTAssertEqual(c[m + 2 * n].bitPattern, want.bitPattern, "m \(m) n \(n)")
            }
        }
        // A transposed read of x (colStride ≠ 1) quantizes the same rows.
        let xt: [Float] = [1, 2, -0.5, 0, 0.25, -2]
        let xtq = xt.withUnsafeBufferPointer { QuantizedRows(ctx, $0.baseAddress!, rows: 2, cols: 3, rowStride: 1, colStride: 2, grid: QuantGrid(.i8)!) }
        XCTAssertEqual(xtq.codes, xq.codes)
        XCTAssertEqual(xtq.scales, xq.scales)
        XCTAssertEqual(wq.slice(1..<2).codes, Array(wq.codes[3..<6]))
    }
}
