import Dispatch
import Loom
import LoomCore
import XCTest

/// CPUContext's machinery (issue 17): the persistent worker pool, the 8-row GGUF tile kernels and
/// the C activation quantizer, each against the portable definition, bit for bit.
final class CPUKernelTests: XCTestCase {
    // MARK: worker pool

    func testPoolRunsEveryItemExactlyOnce() {
        for threads in [2, 3, 8] {
            let ctx = CPUContext(threads: threads)
            for count in [2, 3, 7, 64, 1000] {
                var hits = [Int](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { h in
                    let p = h.baseAddress!
                    ctx.parallelFor(count) { i in p[i] += 1 }
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "threads \(threads), count \(count)")
            }
        }
    }

    /// A parallel loop inside an item runs serially on that thread and still covers every index.
    func testNestedLoopsComplete() {
        let ctx = CPUContext(threads: 4)
        var grid = [Int](repeating: 0, count: 16 * 32)
        grid.withUnsafeMutableBufferPointer { g in
            let p = g.baseAddress!
            ctx.parallelFor(16) { i in
                ctx.parallelFor(32) { j in p[i * 32 + j] = i * 1000 + j }
            }
        }
        XCTAssertEqual(grid, (0..<16).flatMap { i in (0..<32).map { i * 1000 + $0 } })
    }

    /// Loops from several threads at once: one holds the pool, the others run serially; every
    /// loop still covers its indices once.
    func testConcurrentCallersComplete() {
        let ctx = CPUContext(threads: 3)
        let callers = 4, rounds = 200, count = 37
        var totals = [Int](repeating: 0, count: callers)
        totals.withUnsafeMutableBufferPointer { t in
            let tp = t.baseAddress!
            DispatchQueue.concurrentPerform(iterations: callers) { c in
                var sum = 0
                var hits = [Int](repeating: 0, count: count)
                for _ in 0..<rounds {
                    hits.withUnsafeMutableBufferPointer { h in
                        let p = h.baseAddress!
                        ctx.parallelFor(count) { i in p[i] += i + 1 }
                    }
                }
                for v in hits { sum += v }
                tp[c] = sum
            }
        }
        XCTAssertEqual(totals, [Int](repeating: rounds * count * (count + 1) / 2, count: callers))
    }

    // MARK: activation quantizer

    /// Rows with ordinary, tiny, subnormal, huge, zero, infinite and NaN blocks.
    static func awkwardActivations(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        let p = Philox(seed: seed)
        var x = [Float](repeating: 0, count: rows * cols)
        for t in 0..<rows {
            for i in 0..<cols {
                let u = Float(p.uniformDouble(stream: UInt64(t), index: UInt64(i)) * 2 - 1)
                let block = (i / 32 + t) % 9
                let v: Float
                switch block {
                case 0: v = u * 3
                case 1: v = u * 1e-3
                case 2: v = u * 1e-40                       // subnormal
                case 3: v = u * 3e38
                case 4: v = 0
                // Non-finite values in every third row only, so the other rows' dot products are numbers.
                case 5: v = i % 32 == 7 && t % 3 == 2 ? .infinity : u
                case 6: v = i % 32 == 31 && t % 3 == 2 ? .nan : u
                case 7: v = (u * 254).rounded() / 2          // exact halves: ties to even
                default: v = i % 32 == 0 ? -u * 100 : u
                }
                x[t * cols + i] = v
            }
        }
        return x
    }

    func testQuantizerEqualsThePortableLoop() {
        let rows = 9, cols = 32 * 11
        let x = Self.awkwardActivations(rows: rows, cols: cols, seed: 17)
        let fast = x.withUnsafeBufferPointer {
            GGUFQ8Activations(rows: rows, count: cols, $0.baseAddress!, rowStride: cols, context: CPUContext(threads: 1))
        }
        let slow = x.withUnsafeBufferPointer {
            GGUFQ8Activations(rows: rows, count: cols, $0.baseAddress!, rowStride: cols, context: nil)
        }
        XCTAssertEqual(fast.codes, slow.codes)
        XCTAssertEqual(fast.sums, slow.sums)
        XCTAssertEqual(fast.scales.map { $0.bitPattern }, slow.scales.map { $0.bitPattern })
        // The cases are really there: NaN scales, zero scales and saturated codes.
        XCTAssertTrue(slow.scales.contains { $0.isNaN })
        XCTAssertTrue(slow.scales.contains { $0 == 0 })
        XCTAssertTrue(slow.codes.contains(127) && slow.codes.contains(-127))
        // One row through the single-row initializer is row 0 of the batch.
        let first = x.withUnsafeBufferPointer { GGUFQ8Activations(UnsafeBufferPointer(rebasing: $0[0..<cols])) }
        XCTAssertEqual(first.codes, Array(slow.codes[0..<cols]))
    }

    // MARK: GGUF tile kernels

    /// Random weight rows of `type` with finite f16 scales.
    static func randomRows(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        let blockBytes = type == .q4_1 ? 20 : 34, nb = cols / 32
        var bytes = [UInt8](repeating: 0, count: rows * nb * blockBytes)
        var s = seed
        func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 17 }
        // A finite half: sign, exponent 1…29, any mantissa.
        func half() -> UInt16 { UInt16(next() & 0x8000) | UInt16(1 + next() % 29) << 10 | UInt16(next() & 0x3ff) }
        for blk in 0..<(rows * nb) {
            let o = blk * blockBytes
            for k in 0..<blockBytes { bytes[o + k] = UInt8(truncatingIfNeeded: next()) }
            let d = half(), m = half()
            bytes[o] = UInt8(d & 0xff); bytes[o + 1] = UInt8(d >> 8)
            if type == .q4_1 { bytes[o + 2] = UInt8(m & 0xff); bytes[o + 3] = UInt8(m >> 8) }
        }
        return bytes
    }

    func testTileKernelsEqualThePortableRows() {
        let ctx = CPUContext(threads: 1)
        var numbers = 0, compared = 0
        for type in [GGMLType.q4_1, .q8_0] {
            for cols in [32, 96, 576] {
                let rows = 29, nb = cols / 32, rb = nb * (type == .q4_1 ? 20 : 34)
                let w = Self.randomRows(type, rows: rows, cols: cols, seed: UInt64(cols) &* 31 &+ UInt64(type.rawValue))
                for tokens in [1, 3, 10] {
                    let x = Self.awkwardActivations(rows: tokens, cols: cols, seed: UInt64(tokens))
                    let a = x.withUnsafeBufferPointer {
                        GGUFQ8Activations(rows: tokens, count: cols, $0.baseAddress!, rowStride: cols, context: nil)
                    }
                    for range in [0..<rows, 0..<8, 5..<29, 3..<4, 8..<24] {
                        let ldy = rows + 3
                        var fast = [Float](repeating: .nan, count: tokens * ldy)
                        var expected = fast
                        let ran = w.withUnsafeBytes { wp in
                            a.codes.withUnsafeBufferPointer { q in
                                a.scales.withUnsafeBufferPointer { sc in
                                    a.sums.withUnsafeBufferPointer { sm in
                                        for t in 0..<tokens {
                                            for r in range {
                                                expected[t * ldy + r] = GGUFDot.row(type, wp.baseAddress! + r * rb, cols: cols,
                                                                                    q.baseAddress! + t * cols, sc.baseAddress! + t * nb,
                                                                                    sm.baseAddress! + t * nb)
                                            }
                                        }
                                        return fast.withUnsafeMutableBufferPointer { y in
                                            ctx.ggufDotTile(type: type.rawValue, weights: wp.baseAddress!, rowBytes: rb, rows: range,
                                                            cols: cols, tokens: tokens, codes: q.baseAddress!, scales: sc.baseAddress!,
                                                            sums: sm.baseAddress!, into: y.baseAddress!, ldy: ldy)
                                        }
                                    }
                                }
                            }
                        }
                        guard ran else { continue }  // no AVX2 on this machine: nothing to compare
                        compared += range.count * tokens
                        // Bits, NaN as NaN; outside the range nothing was written.
                        for i in 0..<fast.count {
                            let same = fast[i].bitPattern == expected[i].bitPattern || (fast[i].isNaN && expected[i].isNaN)
                            XCTAssertTrue(same, "\(type.name) cols \(cols) tokens \(tokens) rows \(range): y[\(i)] \(fast[i]) vs \(expected[i])")
                            if !same { return }
                        }
                        numbers += expected.filter { !$0.isNaN && $0 != 0 }.count
                    }
                }
            }
        }
        // Most outputs are ordinary numbers (the awkward rows and huge blocks make some NaN or ±inf).
        XCTAssertGreaterThan(numbers, compared / 2)
    }

    // MARK: DetMath over arrays

    /// Inputs for exp, sigmoid, tanh and erf: every range boundary of the vector path and of the
    /// definitions (±40, ±22, 2^-27, the Taylor switch at |2x| = 0.25, the overflow of exp, erf's 0.5, 6 and cells), their
    /// neighbours, special values, subnormals, random bit patterns and a dense sweep of [−50, 50].
    static func detMathInputs() -> [Float] {
        var x: [Float] = [0, -0, .infinity, -.infinity, .nan, -.nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                          .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, 1, -1, 0.5, -0.5]
        for edge: Float in [40, 22, 0x1p-27, 0.125, 88.72, 103.97, 0x1p-26, 1e-30, 700, 0.5, 6, 0.75, 5.75] {
            var lo = edge, hi = edge
            for _ in 0..<40 {
                x += [lo, hi, -lo, -hi]
                lo = lo.nextDown; hi = hi.nextUp
            }
        }
        var s: UInt64 = 0x5EED
        for _ in 0..<200_000 {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            x.append(Float(bitPattern: UInt32(truncatingIfNeeded: s >> 29)))
        }
        for i in 0..<400_000 { x.append(-50 + Float(i) * (100 / 400_000)) }
        return x
    }

    func testDetMathMapEqualsTheScalarFunctions() {
        let x = Self.detMathInputs()
        let ctx = CPUContext(threads: 1)
        for f in DetFunction.allCases {
            var y = [Float](repeating: 0, count: x.count)
            let vector = x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { ctx.detMap(f, xp.baseAddress!, $0.baseAddress!, count: x.count) }
            }
            guard vector else { continue }  // no AVX2 here: nothing to compare
            var mismatches = 0
            for i in 0..<x.count {
                let e = f.apply(x[i])
                if !(y[i].bitPattern == e.bitPattern || (y[i].isNaN && e.isNaN)) {
                    if mismatches < 5 { XCTFail("\(f) of \(x[i]) (0x\(String(x[i].bitPattern, radix: 16))): \(y[i]) vs \(e)") }
                    mismatches += 1
                }
            }
            XCTAssertEqual(mismatches, 0, "\(f)")
            // In place (x and y the same memory), and through the generic entry point in Float and Double.
            var z = x
            z.withUnsafeMutableBufferPointer { f.map(ctx, UnsafePointer($0.baseAddress!), $0.baseAddress!, count: x.count) }
            XCTAssertEqual(z.map { $0.isNaN ? 0x7fc0_0000 : $0.bitPattern }, y.map { $0.isNaN ? 0x7fc0_0000 : $0.bitPattern }, "\(f) in place")
            let xd = x.prefix(1000).map { Double($0) }
            var yd = [Double](repeating: 0, count: xd.count)
            xd.withUnsafeBufferPointer { xp in yd.withUnsafeMutableBufferPointer { f.map(ctx, xp.baseAddress!, $0.baseAddress!, count: xd.count) } }
            XCTAssertEqual(yd.map { $0.isNaN ? 0 : $0.bitPattern }, xd.map { let v = f.apply($0); return v.isNaN ? 0 : v.bitPattern }, "\(f) double")
        }
    }
}
