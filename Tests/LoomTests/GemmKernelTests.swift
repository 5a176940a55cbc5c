// GemmKernelTests — the C GEMM kernels (CLoomKernels) against the canonical definition, bit for bit.
//
// Canonical definition: C[i][j] = fma chain over k = 0..<K in order, starting from C (accumulate)
// or +0.0. The reference below is written with `addingProduct` in exactly that order. Every CPU
// level the machine supports is forced in turn with `loom_set_cpu_level` and must give the same
// bits (NaNs compare equal to each other; their payloads are not part of the contract).

import CLoomKernels
import LoomCore
import XCTest

/// Deterministic SplitMix64 stream for test data.
fileprivate struct TestRNG {
    var source: PhiloxSequence
    init(state: UInt64) { source = PhiloxSequence(seed: state) }
    mutating func next() -> UInt64 { source.next() }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Uniform in [-1, 1) with a random binary exponent spread, so rounding differs between elements.
    mutating func unit() -> Double { Double(Int64(bitPattern: next()) >> 11) * 0x1p-52 }
}

/// Layout of one GEMM call: element strides of A, B and the row stride of C.
fileprivate struct Layout {
    var M: Int, N: Int, K: Int
    var rsA: Int, csA: Int, rsB: Int, csB: Int, ldc: Int
    var accumulate: Bool
    var aCount: Int { (M - 1) * rsA + (K - 1) * csA + 1 }
    var bCount: Int { (K - 1) * rsB + (N - 1) * csB + 1 }
    var cCount: Int { (M - 1) * ldc + N }

    static func make(_ M: Int, _ N: Int, _ K: Int, transA: Bool, transB: Bool, pad: Int, accumulate: Bool) -> Layout {
        Layout(M: M, N: N, K: K,
               rsA: transA ? 1 : K + pad, csA: transA ? M + pad : 1,
               rsB: transB ? 1 : N + pad, csB: transB ? K + pad : 1,
               ldc: N + pad, accumulate: accumulate)
    }
}

fileprivate protocol GemmFloat: BinaryFloatingPoint {
    static func gemmKernel(_ l: Layout, _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>)
    /// The canonical definition (fused = true) or the same order with a rounded product and sum.
    static func gemmReference(_ l: Layout, _ a: [Self], _ b: [Self], _ c: inout [Self], fused: Bool)
    var gemmBits: UInt64 { get }
}

extension Float: GemmFloat {
    fileprivate static func gemmKernel(_ l: Layout, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        loom_sgemm(Int64(l.M), Int64(l.N), Int64(l.K), a, Int64(l.rsA), Int64(l.csA),
                   b, Int64(l.rsB), Int64(l.csB), c, Int64(l.ldc), l.accumulate ? 1 : 0)
    }
    fileprivate static func gemmReference(_ l: Layout, _ a: [Float], _ b: [Float], _ c: inout [Float], fused: Bool) {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
            for i in 0..<l.M {
                for j in 0..<l.N {
                    var acc: Float = l.accumulate ? c[i * l.ldc + j] : 0
                    for k in 0..<l.K {
                        let x = a[i * l.rsA + k * l.csA], y = b[k * l.rsB + j * l.csB]
                        acc = fused ? acc.addingProduct(x, y) : acc + x * y
                    }
                    c[i * l.ldc + j] = acc
                }
            }
        } } }
    }
    fileprivate var gemmBits: UInt64 { UInt64(bitPattern) }
}

extension Double: GemmFloat {
    fileprivate static func gemmKernel(_ l: Layout, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>) {
        loom_dgemm(Int64(l.M), Int64(l.N), Int64(l.K), a, Int64(l.rsA), Int64(l.csA),
                   b, Int64(l.rsB), Int64(l.csB), c, Int64(l.ldc), l.accumulate ? 1 : 0)
    }
    fileprivate static func gemmReference(_ l: Layout, _ a: [Double], _ b: [Double], _ c: inout [Double], fused: Bool) {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
            for i in 0..<l.M {
                for j in 0..<l.N {
                    var acc: Double = l.accumulate ? c[i * l.ldc + j] : 0
                    for k in 0..<l.K {
                        let x = a[i * l.rsA + k * l.csA], y = b[k * l.rsB + j * l.csB]
                        acc = fused ? acc.addingProduct(x, y) : acc + x * y
                    }
                    c[i * l.ldc + j] = acc
                }
            }
        } } }
    }
    fileprivate var gemmBits: UInt64 { bitPattern }
}

/// Runs the kernel on copies of the inputs; returns the whole C buffer (padding included).
fileprivate func runKernel<T: GemmFloat>(_ l: Layout, _ a: [T], _ b: [T], _ c0: [T]) -> [T] {
    var c = c0
    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
        T.gemmKernel(l, a.baseAddress!, b.baseAddress!, c.baseAddress!)
    } } }
    return c
}

fileprivate func sameBits<T: GemmFloat>(_ x: T, _ y: T) -> Bool { x.gemmBits == y.gemmBits || (x.isNaN && y.isNaN) }

/// Index of the first element whose bits differ, or nil.
fileprivate func firstMismatch<T: GemmFloat>(_ x: [T], _ y: [T]) -> Int? {
    precondition(x.count == y.count)
    for i in 0..<x.count where !sameBits(x[i], y[i]) { return i }
    return nil
}

fileprivate var availableLevels: [Int32] { Array(0...loom_cpu_level()) }

/// Random values whose products round differently (fused ≠ unfused in long chains).
fileprivate func randomValues<T: GemmFloat>(_ n: Int, _ rng: inout TestRNG, _: T.Type) -> [T] {
    (0..<n).map { _ in T(rng.unit()) }
}

final class GemmKernelTests: XCTestCase {
    override func tearDown() { loom_set_cpu_level(-1) }

    /// Checks one layout on every level against the reference; C's padding must stay untouched.
    private func check<T: GemmFloat>(_ l: Layout, _ a: [T], _ b: [T], _ c0: [T], _ what: String,
                                     file: StaticString = #filePath, line: UInt = #line) -> [T] {
        var ref = c0
        T.gemmReference(l, a, b, &ref, fused: true)
        for level in availableLevels {
            loom_set_cpu_level(level)
            let got = runKernel(l, a, b, c0)
            if let i = firstMismatch(got, ref) {
                XCTFail("\(T.self) \(what) level \(level) M=\(l.M) N=\(l.N) K=\(l.K) rsA=\(l.rsA) csA=\(l.csA) "
                        + "rsB=\(l.rsB) csB=\(l.csB) ldc=\(l.ldc) acc=\(l.accumulate): element \(i) is "
                        + "\(got[i]) (bits \(String(got[i].gemmBits, radix: 16))), reference \(ref[i])", file: file, line: line)
                break
            }
        }
        loom_set_cpu_level(-1)
        return ref
    }

    private func sampledShapes<T: GemmFloat>(_: T.Type, seed: UInt64) {
        let sizes = [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100, 129]
        var rng = TestRNG(state: seed)
        var count = 0
        for m in sizes { for n in sizes { for k in sizes {
            // Every shape with a 1 or a 2, about one in twelve of the rest.
            let edge = m <= 2 || n <= 2 || k <= 2
            if !(edge ? rng.int(3) == 0 : rng.int(12) == 0) { continue }
            if m * n * k > 400_000 && rng.int(3) != 0 { continue }
            let l = Layout.make(m, n, k, transA: rng.int(2) == 0, transB: rng.int(2) == 0,
                                pad: rng.int(3) == 0 ? 0 : 1 + rng.int(5), accumulate: rng.int(2) == 0)
            let a = randomValues(l.aCount, &rng, T.self), b = randomValues(l.bCount, &rng, T.self)
            let c0: [T] = randomValues(l.cCount, &rng, T.self)
            _ = check(l, a, b, c0, "sampled")
            count += 1
        } } }
        XCTAssertGreaterThan(count, 150)
    }

    func testSampledShapesFloat() { sampledShapes(Float.self, seed: 1) }
    func testSampledShapesDouble() { sampledShapes(Double.self, seed: 2) }

    /// Every transpose/accumulate combination on shapes that straddle the register blocks.
    private func layouts<T: GemmFloat>(_: T.Type) {
        var rng = TestRNG(state: 3)
        for (m, n, k) in [(14, 32, 5), (15, 33, 17), (29, 47, 3), (6, 16, 9), (7, 17, 1), (1, 100, 65), (100, 1, 65), (65, 3, 300)] {
            for ta in [false, true] { for tb in [false, true] { for acc in [false, true] {
                let l = Layout.make(m, n, k, transA: ta, transB: tb, pad: 3, accumulate: acc)
                _ = check(l, randomValues(l.aCount, &rng, T.self), randomValues(l.bCount, &rng, T.self),
                          randomValues(l.cCount, &rng, T.self), "layouts")
            } } }
        }
        // General strides on both axes (neither stride is 1).
        let l = Layout(M: 9, N: 21, K: 13, rsA: 2 * 13, csA: 2, rsB: 3, csB: 3 * 13 + 1, ldc: 25, accumulate: true)
        _ = check(l, randomValues(l.aCount, &rng, T.self), randomValues(l.bCount, &rng, T.self),
                  randomValues(l.cCount, &rng, T.self), "general strides")
    }

    /// Row vectors and few rows (decode-like shapes) take the wide small-M kernel and the
    /// in-place B path; both must match the reference too.
    private func smallRows<T: GemmFloat>(_: T.Type) {
        var rng = TestRNG(state: 9)
        for m in 1...4 { for tb in [false, true] { for acc in [false, true] {
            let l = Layout.make(m, 300, 70, transA: false, transB: tb, pad: 1, accumulate: acc)
            _ = check(l, randomValues(l.aCount, &rng, T.self), randomValues(l.bCount, &rng, T.self),
                      randomValues(l.cCount, &rng, T.self), "small rows")
        } } }
    }

    func testSmallRowsFloat() { smallRows(Float.self) }
    func testSmallRowsDouble() { smallRows(Double.self) }

    func testLayoutsFloat() { layouts(Float.self) }
    func testLayoutsDouble() { layouts(Double.self) }

    /// NaN, ±inf, −0.0, subnormals, extremes mixed into the inputs and into C.
    private func specialValues<T: GemmFloat>(_: T.Type) {
        let specials: [T] = [.nan, .infinity, -.infinity, -0.0, 0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                             .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, -1,
                             T.leastNormalMagnitude * 0.75, 0.5]
        var rng = TestRNG(state: 4)
        func mixed(_ n: Int, _ rate: Int) -> [T] {
            (0..<n).map { _ in rng.int(rate) == 0 ? specials[rng.int(specials.count)] : T(rng.unit()) }
        }
        for (m, n, k) in [(17, 33, 9), (3, 40, 2), (30, 5, 31), (1, 1, 1), (16, 16, 1)] {
            for acc in [false, true] { for tb in [false, true] {
                let l = Layout.make(m, n, k, transA: false, transB: tb, pad: 2, accumulate: acc)
                _ = check(l, mixed(l.aCount, 4), mixed(l.bCount, 4), mixed(l.cCount, 3), "specials")
                // Subnormal-only products (no flush to zero).
                let tiny = (0..<l.aCount).map { _ in T.leastNormalMagnitude * T(rng.unit()) }
                _ = check(l, tiny, (0..<l.bCount).map { _ in T(rng.unit()) }, mixed(l.cCount, 2), "subnormals")
            } }
        }
        // Signed zeros: fma(−0, b, +0) = +0 without accumulate; −0 chains stay −0 from a −0 C.
        let l = Layout.make(5, 19, 3, transA: false, transB: false, pad: 1, accumulate: false)
        let negZeroA = [T](repeating: -0.0, count: l.aCount), ones = [T](repeating: 1, count: l.bCount)
        let fresh = check(l, negZeroA, ones, [T](repeating: 7, count: l.cCount), "signed zero")
        XCTAssertEqual(fresh[0].gemmBits, T(0).gemmBits)
        var la = l; la.accumulate = true
        let kept = check(la, negZeroA, ones, [T](repeating: -0.0, count: l.cCount), "signed zero acc")
        XCTAssertEqual(kept[0].gemmBits, T(-0.0).gemmBits)
    }

    func testSpecialValuesFloat() { specialValues(Float.self) }
    func testSpecialValuesDouble() { specialValues(Double.self) }

    /// Inputs where one rounding (fma) and two roundings differ: the kernel must be the fused one.
    private func fusedNotUnfused<T: GemmFloat>(_: T.Type) {
        let e = T(1) / T(1 << 12)  // a*a = 1 + 2^-11 + 2^-24: the product alone rounds the 2^-24 away (float)
        let u = T.ulpOfOne         // for double: (1+u)(1-u) = 1 - u², lost when rounded alone
        let (x, y): (T, T) = T.self == Float.self ? (1 + e, 1 + e) : (1 + u, 1 - u)
        let p = x * y  // rounded product
        // C[0][0] = fma(x, y, fma(-p, 1, 0)) = x*y - p exactly ≠ 0; unfused gives 0.
        let l = Layout.make(1, 1, 2, transA: false, transB: false, pad: 0, accumulate: false)
        var r = TestRNG(state: 5)
        let ref = check(l, [-p, x], [1, y], [0], "fused pair")
        var unfused: [T] = [0]
        T.gemmReference(l, [-p, x], [1, y], &unfused, fused: false)
        XCTAssertNotEqual(ref[0], 0)
        XCTAssertEqual(unfused[0], 0)
        for level in availableLevels {
            loom_set_cpu_level(level)
            XCTAssertNotEqual(runKernel(l, [-p, x], [1, y], [0])[0].gemmBits, unfused[0].gemmBits, "level \(level)")
        }
        loom_set_cpu_level(-1)
        // Random data: many elements of a long chain differ between fused and unfused.
        let lr = Layout.make(37, 45, 200, transA: false, transB: true, pad: 0, accumulate: true)
        let a = randomValues(lr.aCount, &r, T.self), b = randomValues(lr.bCount, &r, T.self)
        let c0 = randomValues(lr.cCount, &r, T.self)
        _ = check(lr, a, b, c0, "fused random")
        var un = c0
        T.gemmReference(lr, a, b, &un, fused: false)
        for level in availableLevels {
            loom_set_cpu_level(level)
            let got = runKernel(lr, a, b, c0)
            let differing = zip(got, un).filter { $0.gemmBits != $1.gemmBits }.count
            XCTAssertGreaterThan(differing, lr.M * lr.N / 10, "level \(level) looks unfused")
        }
        loom_set_cpu_level(-1)
    }

    func testFusedNotUnfusedFloat() { fusedNotUnfused(Float.self) }
    func testFusedNotUnfusedDouble() { fusedNotUnfused(Double.self) }

    /// Splitting the product into row or column ranges (as threads do) gives the same bits.
    private func threadSplits<T: GemmFloat>(_: T.Type) {
        var rng = TestRNG(state: 6)
        for (ta, tb) in [(false, false), (false, true), (true, false)] {
            let l = Layout.make(61, 83, 70, transA: ta, transB: tb, pad: 2, accumulate: true)
            let a = randomValues(l.aCount, &rng, T.self), b = randomValues(l.bCount, &rng, T.self)
            let c0 = randomValues(l.cCount, &rng, T.self)
            let whole = check(l, a, b, c0, "split whole")
            for level in availableLevels {
                loom_set_cpu_level(level)
                for cut in [1, 29, 41, 60] {  // row split
                    var c = c0
                    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                        var top = l; top.M = cut
                        var bottom = l; bottom.M = l.M - cut
                        T.gemmKernel(top, ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                        T.gemmKernel(bottom, ap.baseAddress! + cut * l.rsA, bp.baseAddress!, cp.baseAddress! + cut * l.ldc)
                    } } }
                    XCTAssertNil(firstMismatch(c, whole), "\(T.self) level \(level) row split at \(cut)")
                }
                for cut in [1, 16, 37, 64, 82] {  // column split
                    var c = c0
                    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                        var left = l; left.N = cut
                        var right = l; right.N = l.N - cut
                        T.gemmKernel(left, ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                        T.gemmKernel(right, ap.baseAddress!, bp.baseAddress! + cut * l.csB, cp.baseAddress! + cut)
                    } } }
                    XCTAssertNil(firstMismatch(c, whole), "\(T.self) level \(level) column split at \(cut)")
                }
            }
            loom_set_cpu_level(-1)
        }
    }

    func testThreadSplitsFloat() { threadSplits(Float.self) }
    func testThreadSplitsDouble() { threadSplits(Double.self) }

    /// One shape larger than every cache block (K and N blocking, partial panels).
    func testLargeShapeFloat() {
        var rng = TestRNG(state: 7)
        let l = Layout.make(257, 300, 513, transA: false, transB: true, pad: 0, accumulate: false)
        _ = check(l, randomValues(l.aCount, &rng, Float.self), randomValues(l.bCount, &rng, Float.self),
                  [Float](repeating: .nan, count: l.cCount), "large")
        let l2 = Layout.make(130, 600, 300, transA: true, transB: false, pad: 5, accumulate: true)
        _ = check(l2, randomValues(l2.aCount, &rng, Float.self), randomValues(l2.bCount, &rng, Float.self),
                  randomValues(l2.cCount, &rng, Float.self), "large 2")
    }

    func testLargeShapeDouble() {
        var rng = TestRNG(state: 8)
        let l = Layout.make(100, 300, 520, transA: false, transB: false, pad: 1, accumulate: true)
        _ = check(l, randomValues(l.aCount, &rng, Double.self), randomValues(l.bCount, &rng, Double.self),
                  randomValues(l.cCount, &rng, Double.self), "large")
    }

    /// K = 0 stores +0.0 (or keeps C when accumulating); M = 0 or N = 0 writes nothing.
    func testDegenerateShapes() {
        for level in availableLevels {
            loom_set_cpu_level(level)
            var c: [Float] = [-0.0, 5, .nan, 7]
            loom_sgemm(2, 2, 0, [], 1, 1, [], 1, 1, &c, 2, 1)
            XCTAssertEqual(c.map(\.bitPattern), [Float(-0.0).bitPattern, Float(5).bitPattern, Float.nan.bitPattern, Float(7).bitPattern])
            loom_sgemm(2, 1, 0, [], 1, 1, [], 1, 1, &c, 2, 0)
            XCTAssertEqual(c.map(\.bitPattern), [0, Float(5).bitPattern, 0, Float(7).bitPattern])
            var d: [Double] = [3]
            loom_dgemm(0, 1, 4, [], 1, 1, [], 1, 1, &d, 1, 0)
            loom_dgemm(1, 0, 4, [], 1, 1, [], 1, 1, &d, 1, 0)
            XCTAssertEqual(d, [3])
        }
        loom_set_cpu_level(-1)
    }

    func testLevelControl() {
        let best = loom_cpu_level()
        XCTAssert((0...2).contains(best))
        loom_set_cpu_level(0)
        XCTAssertEqual(loom_active_cpu_level(), 0)
        loom_set_cpu_level(99)
        XCTAssertEqual(loom_active_cpu_level(), best)
        loom_set_cpu_level(-1)
        XCTAssertEqual(loom_active_cpu_level(), best)
        #if arch(x86_64)
        print("GemmKernelTests: CPU level \(best) (0 scalar, 1 AVX2+FMA, 2 AVX-512F)")
        #endif
    }
}
