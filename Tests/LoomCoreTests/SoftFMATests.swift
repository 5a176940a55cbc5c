import XCTest
import LoomCore

/// SoftFMA must equal the hardware/libm fused multiply-add bit for bit (NaN == NaN).
final class SoftFMATests: XCTestCase {
    #if DEBUG
    static let scale = 4
    #else
    static let scale = 24
    #endif

    struct SplitMix64 {
        var source: PhiloxSequence
        init(state: UInt64) { source = PhiloxSequence(seed: state) }
        mutating func next() -> UInt64 { source.next() }
        mutating func double(exponentIn r: ClosedRange<Int>) -> Double {
            let e = Int(next() % UInt64(r.count)) + r.lowerBound
            let m = next() & 0x000F_FFFF_FFFF_FFFF
            let sign = next() & 1 == 0 ? 1.0 : -1.0
            return sign * Double(sign: .plus, exponent: e, significand: Double(bitPattern: 0x3FF0_0000_0000_0000 | m))
        }
        mutating func float(exponentIn r: ClosedRange<Int>) -> Float {
            let e = Int(next() % UInt64(r.count)) + r.lowerBound
            let m = UInt32(truncatingIfNeeded: next()) & 0x007F_FFFF
            let sign: Float = next() & 1 == 0 ? 1 : -1
            return sign * Float(sign: .plus, exponent: e, significand: Float(bitPattern: 0x3F80_0000 | m))
        }
    }

    static func same(_ x: Double, _ y: Double) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
    static func same(_ x: Float, _ y: Float) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }

    func checkD(_ a: Double, _ b: Double, _ c: Double, _ bad: inout Int, _ label: String) {
        let want = c.addingProduct(a, b)
        let got = SoftFMA.fma(a, b, c)
        if !Self.same(want, got) {
            bad += 1
            if bad <= 5 {
                XCTFail("\(label): fma(\(a), \(b), \(c)) = \(got) [\(String(got.bitPattern, radix: 16))], want \(want) [\(String(want.bitPattern, radix: 16))]")
            }
        }
    }

    func checkF(_ a: Float, _ b: Float, _ c: Float, _ bad: inout Int, _ label: String) {
        let want = c.addingProduct(a, b)
        let got = SoftFMA.fma(a, b, c)
        if !Self.same(want, got) {
            bad += 1
            if bad <= 5 {
                XCTFail("\(label): fmaf(\(a), \(b), \(c)) = \(got) [\(String(got.bitPattern, radix: 16))], want \(want) [\(String(want.bitPattern, radix: 16))]")
            }
        }
    }

    func testDoubleMatchesHardware() {
        var g = SplitMix64(state: 1)
        var bad = 0
        let n = 100_000 * Self.scale
        for _ in 0..<n {   // random bit patterns (specials, subnormals, everything)
            checkD(Double(bitPattern: g.next()), Double(bitPattern: g.next()), Double(bitPattern: g.next()), &bad, "bits")
        }
        for _ in 0..<n {   // overlapping exponents
            let a = g.double(exponentIn: -60...60), b = g.double(exponentIn: -60...60)
            let c = g.double(exponentIn: -130...130)
            checkD(a, b, c, &bad, "moderate")
        }
        for _ in 0..<n {   // near cancellation: c ≈ −a·b
            let a = g.double(exponentIn: -200...200), b = g.double(exponentIn: -200...200)
            var c = -(a * b)
            let k = Int64(g.next() % 9) - 4
            c = Double(bitPattern: UInt64(bitPattern: Int64(bitPattern: c.bitPattern) &+ k))
            checkD(a, b, c, &bad, "cancel")
            checkD(a, b, -c.nextUp, &bad, "cancel2")
        }
        for _ in 0..<n {   // near overflow
            let a = g.double(exponentIn: 500...1023), b = g.double(exponentIn: 0...(1024 - 500))
            let c = g.double(exponentIn: 1000...1023)
            checkD(a, b, c, &bad, "overflow")
            checkD(a, b, -c, &bad, "overflow-")
        }
        for _ in 0..<n {   // subnormal / underflowing results
            let a = g.double(exponentIn: -1000 ... -500), b = g.double(exponentIn: -600 ... -40)
            let c = g.double(exponentIn: -1074 ... -1020)
            checkD(a, b, c, &bad, "subnormal")
            checkD(a, b, -c, &bad, "subnormal-")
            checkD(a, b, Double(bitPattern: g.next() & 0x000F_FFFF_FFFF_FFFF), &bad, "subnormal-c")
        }
        for _ in 0..<n {   // exact ties: short significands so a·b is exact, c = ±ulp/2 or p = ±ulp(c)/2
            let a = Double(Int64(g.next() % (1 << 26)) | 1) * Double(sign: .plus, exponent: Int(g.next() % 40) - 20, significand: 1)
            let b = Double(Int64(g.next() % (1 << 26)) | 1) * Double(sign: .plus, exponent: Int(g.next() % 40) - 20, significand: 1)
            let p = a * b
            checkD(a, b, p.ulp / 2, &bad, "tie1")
            checkD(a, b, -p.ulp / 2, &bad, "tie2")
            let c = g.double(exponentIn: -30...30)
            checkD(c.ulp / 2, 1, c, &bad, "tie3")
            checkD(-c.ulp / 2, 1, c, &bad, "tie4")
            checkD(c.ulp / 4, 2, c, &bad, "tie5")
            checkD(c.ulp / 2, 1 + 0x1p-52, c, &bad, "near-tie")
        }
        let specials: [Double] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude,
                                  -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                  .leastNormalMagnitude, 0x1p-537, 0x1p512, 3, 0.5]
        for a in specials { for b in specials { for c in specials { checkD(a, b, c, &bad, "special") } } }
        XCTAssertEqual(bad, 0)
        print("SoftFMA  Double  mismatches \(bad)  points \(n * 12 + specials.count * specials.count * specials.count)")
    }

    func testFloatMatchesHardware() {
        var g = SplitMix64(state: 2)
        var bad = 0
        let n = 100_000 * Self.scale
        for _ in 0..<n {
            let x = g.next()
            checkF(Float(bitPattern: UInt32(truncatingIfNeeded: x)), Float(bitPattern: UInt32(truncatingIfNeeded: x >> 32)),
                   Float(bitPattern: UInt32(truncatingIfNeeded: g.next())), &bad, "bits")
        }
        for _ in 0..<n {
            let a = g.float(exponentIn: -30...30), b = g.float(exponentIn: -30...30)
            checkF(a, b, g.float(exponentIn: -70...70), &bad, "moderate")
        }
        for _ in 0..<n {
            let a = g.float(exponentIn: -60...60), b = g.float(exponentIn: -60...60)
            let c = -(a * b)
            let k = Int32(g.next() % 9) - 4
            checkF(a, b, Float(bitPattern: UInt32(bitPattern: Int32(bitPattern: c.bitPattern) &+ k)), &bad, "cancel")
        }
        for _ in 0..<n {
            let a = g.float(exponentIn: 60...127), b = g.float(exponentIn: 0...(128 - 60))
            let c = g.float(exponentIn: 120...127)
            checkF(a, b, c, &bad, "overflow")
            checkF(a, b, -c, &bad, "overflow-")
        }
        for _ in 0..<n {
            let a = g.float(exponentIn: -120 ... -60), b = g.float(exponentIn: -80 ... -5)
            checkF(a, b, g.float(exponentIn: -149 ... -120), &bad, "subnormal")
            checkF(a, b, Float(bitPattern: UInt32(truncatingIfNeeded: g.next()) & 0x007F_FFFF), &bad, "subnormal-c")
        }
        for _ in 0..<n {
            let a = Float(Int32(g.next() % (1 << 12)) | 1) * Float(sign: .plus, exponent: Int(g.next() % 20) - 10, significand: 1)
            let b = Float(Int32(g.next() % (1 << 12)) | 1) * Float(sign: .plus, exponent: Int(g.next() % 20) - 10, significand: 1)
            let p = a * b
            checkF(a, b, p.ulp / 2, &bad, "tie1")
            checkF(a, b, -p.ulp / 2, &bad, "tie2")
            let c = g.float(exponentIn: -20...20)
            checkF(c.ulp / 2, 1, c, &bad, "tie3")
            checkF(c.ulp / 2, 1 + 0x1p-23, c, &bad, "near-tie")
            checkF(c.ulp / 2, 1 - 0x1p-24, c, &bad, "near-tie2")
        }
        let specials: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude,
                                 -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                 .leastNormalMagnitude, 0x1p-75, 0x1p64, 3, 0.5]
        for a in specials { for b in specials { for c in specials { checkF(a, b, c, &bad, "special") } } }
        XCTAssertEqual(bad, 0)
        print("SoftFMA  Float   mismatches \(bad)  points \(n * 11 + specials.count * specials.count * specials.count)")
    }

    /// Inputs where fused and unfused results differ: SoftFMA must give the fused one.
    func testDistinguishesFusedFromUnfused() {
        let a = 1 + 0x1p-30, b = 1 - 0x1p-30
        XCTAssertEqual(SoftFMA.fma(a, b, -1), -0x1p-60)      // unfused: 0
        XCTAssertNotEqual(a * b - 1, -0x1p-60)
        let fa: Float = 1 + 0x1p-12, fb: Float = 1 - 0x1p-12
        XCTAssertEqual(SoftFMA.fma(fa, fb, -1), -0x1p-24)
        XCTAssertEqual(SoftFMA.fma(-0.0, 0.0, -0.0 as Double).bitPattern, (-0.0 as Double).bitPattern)
        XCTAssertEqual(SoftFMA.fma(1e308, 10, -.infinity as Double), -.infinity)
    }
}
