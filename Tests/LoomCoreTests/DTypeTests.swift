import Foundation
import LoomCore
import XCTest

/// SplitMix64: a small deterministic generator for test inputs.
private struct TestRNG {
    var source: PhiloxSequence
    init(state: UInt64) { source = PhiloxSequence(seed: state) }
    mutating func next() -> UInt64 { source.next() }
    /// A random double with a random sign and exponent in `exps`.
    mutating func double(exponents exps: ClosedRange<Int>) -> Double {
        let span = UInt64(exps.upperBound - exps.lowerBound + 1)
        let e = exps.lowerBound + Int(next() % span)
        let sig = Double(sign: .plus, exponent: 0, significand: 1 + Double(next() >> 12) * 0x1p-52)
        let v = Double(sign: .plus, exponent: e, significand: sig)
        return next() & 1 == 0 ? v : -v
    }
}

/// Independent reference for rounding to a small IEEE format: `positives[c]` is the value of the
/// positive code c (ascending); binary search, then compare with the exact midpoint (which fits
/// in a Double for 11- and 8-bit significands); ties go to the even code. `overflowAt` is the
/// half-way point between the largest finite value and the next power of two.
private func referenceRound(_ x: Double, positives: [Double], overflowAt: Double,
                            infCode: UInt16, nanCode: UInt16) -> UInt16 {
    let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
    if x.isNaN { return sign | nanCode }
    let a = x.magnitude
    if a >= overflowAt { return sign | infCode }
    var lo = 0, hi = positives.count - 1  // largest index with positives[index] <= a
    while lo < hi {
        let mid = (lo + hi + 1) / 2
        if positives[mid] <= a { lo = mid } else { hi = mid - 1 }
    }
    if lo == positives.count - 1 { return sign | UInt16(lo) }
    let midpoint = (positives[lo] + positives[lo + 1]) / 2
    let code: Int
    if a < midpoint { code = lo } else if a > midpoint { code = lo + 1 } else { code = lo % 2 == 0 ? lo : lo + 1 }
    return sign | UInt16(code)
}

/// Positive finite values of F16 / BF16 by code, decoded by the test itself (not via LoomCore).
private let f16Positives: [Double] = (0..<0x7C00).map { c in
    let e = c >> 10, m = Double(c & 0x3FF)
    return e == 0 ? m * 0x1p-24 : (1 + m / 1024) * Double(sign: .plus, exponent: e - 15, significand: 1)
}
private let bf16Positives: [Double] = (0..<0x7F80).map { c in
    let e = c >> 7, m = Double(c & 0x7F)
    return e == 0 ? m * 0x1p-133 : (1 + m / 128) * Double(sign: .plus, exponent: e - 127, significand: 1)
}
private func refF16(_ x: Double) -> UInt16 {
    referenceRound(x, positives: f16Positives, overflowAt: 65520, infCode: 0x7C00, nanCode: 0x7E00)
}
private func refBF16(_ x: Double) -> UInt16 {
    referenceRound(x, positives: bf16Positives, overflowAt: 0x1.FFp127, infCode: 0x7F80, nanCode: 0x7FC0)
}

/// Bit equality where every NaN equals every NaN of the same sign.
private func sameBits(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN && a.sign == b.sign) || a.bitPattern == b.bitPattern
}
private func sameBits(_ a: Float, _ b: Float) -> Bool {
    (a.isNaN && b.isNaN && a.sign == b.sign) || a.bitPattern == b.bitPattern
}

final class DTypeTests: XCTestCase {
    func testNamesAndProperties() {
        XCTAssertEqual(DType.allCases.map(\.name),
                       ["f64", "f32", "f16", "bf16", "f4", "i64", "i32", "i16", "i8", "u64", "u32", "u16", "u8"])
        XCTAssertEqual(DType.allCases.map(\.rawValue), Array(0...12))
        XCTAssertEqual(DType.allCases.map(\.safetensorsName),
                       ["F64", "F32", "F16", "BF16", "F4", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8"])
        XCTAssertEqual(DType.allCases.map(\.bitWidth), [64, 32, 16, 16, 4, 64, 32, 16, 8, 64, 32, 16, 8])
        for t in DType.allCases {
            XCTAssertEqual(DType(name: t.name), t)
            XCTAssertEqual(DType(name: t.safetensorsName), t)
            XCTAssertEqual(t.isFloatingPoint, t.rawValue <= 4)
            XCTAssertEqual(t.isSigned, t.rawValue <= 8)
            XCTAssertEqual(t.description, t.name)
        }
        let aliases: [(String, DType)] = [("float32", .f32), ("Float64", .f64), ("float16", .f16), ("bfloat16", .bf16),
                                          ("half", .f16), ("double", .f64), ("int8", .i8), ("INT64", .i64),
                                          ("uint8", .u8), ("uint32", .u32), ("int16", .i16), ("fp4", .f4)]
        for (s, t) in aliases { XCTAssertEqual(DType(name: s), t, s) }
        for bad in ["", "f8", "float128", "bool", "f32 ", "ｆ32"] { XCTAssertNil(DType(name: bad), bad) }
        XCTAssertEqual((0...5).map { DType.f4.byteCount(forElements: $0) }, [0, 1, 1, 2, 2, 3])
        XCTAssertEqual(DType.bf16.byteCount(forElements: 3), 6)
        XCTAssertEqual(DType.u64.byteCount(forElements: 5), 40)
        XCTAssertEqual(DType.f64.byteCount(forElements: Int.max / 2), Int.max)
    }

    // MARK: F16

    func testF16ExhaustiveRoundTrip() {
        for b in 0...0xFFFF {
            let h = F16(bitPattern: UInt16(b))
            let f = h.floatValue, d = h.doubleValue
            let swiftF = Float(Float16(bitPattern: UInt16(b)))
            if swiftF.isNaN {
                XCTAssertTrue(h.isNaN)
                XCTAssertEqual(f.bitPattern, UInt32(b & 0x8000) << 16 | 0x7FC0_0000)
                XCTAssertEqual(d.bitPattern, UInt64(b & 0x8000) << 48 | 0x7FF8_0000_0000_0000)
                XCTAssertEqual(F16(f).bitPattern, UInt16(b & 0x8000) | 0x7E00)
                XCTAssertEqual(F16(d).bitPattern, UInt16(b & 0x8000) | 0x7E00)
            } else {
                XCTAssertEqual(f.bitPattern, swiftF.bitPattern, "\(b)")
                XCTAssertEqual(d.bitPattern, Double(swiftF).bitPattern, "\(b)")
                XCTAssertEqual(F16(f).bitPattern, UInt16(b))
                XCTAssertEqual(F16(d).bitPattern, UInt16(b))
            }
        }
    }

    func testF16FromFloatMatchesSwiftFloat16() {
        var inputs: [Float] = []
        var rng = TestRNG(state: 1)
        for _ in 0..<2_000_000 { inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        // Every half-way point between neighbouring F16 values, and 2 floats either side.
        for c in 0..<0x7BFF {
            let mid = Float((f16Positives[c] + f16Positives[c + 1]) / 2)
            var up = mid, down = mid
            inputs.append(mid)
            for _ in 0..<2 { up = up.nextUp; down = down.nextDown; inputs.append(up); inputs.append(down) }
        }
        // Overflow threshold and the subnormal range (2^-26 ..< 2^-13, every 61st float).
        for x: Float in [65504, 65519, 65520, 65536, 1e10, .infinity, .greatestFiniteMagnitude, 0x1p-25, 0x1p-24] {
            inputs += [x, x.nextUp, x.nextDown]
        }
        let lo = Float(0x1p-26).bitPattern, hi = Float(0x1p-13).bitPattern
        for b in stride(from: lo, to: hi, by: 61) { inputs.append(Float(bitPattern: b)) }
        var failures = 0
        for x in inputs + inputs.map({ -$0 }) {
            let mine = F16(x).bitPattern, swift = Float16(x).bitPattern
            let ok = Float16(x).isNaN ? mine == (swift & 0x8000) | 0x7E00 : mine == swift
            if !ok { failures += 1; if failures < 10 { XCTFail("F16(\(x)) = \(mine), Float16 gives \(swift)") } }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertGreaterThan(inputs.count, 2_500_000)
    }

    func testF16FromDoubleRoundsOnce() {
        // 1 + 2^-11 is the tie between 1 and 1 + 2^-10; a little above it must round up, but
        // Double → Float → F16 sees the exact tie and rounds to even (down).
        let x = 1 + 0x1p-11 + 0x1p-40
        XCTAssertEqual(F16(Float(x)).bitPattern, 0x3C00)
        XCTAssertEqual(F16(x).bitPattern, 0x3C01)
        XCTAssertEqual(F16(-x).bitPattern, 0xBC01)
        var trapsSeen = 0
        var inputs: [Double] = []
        for c in 0..<0x7BFF {
            let mid = (f16Positives[c] + f16Positives[c + 1]) / 2
            for delta in [0x1p-30, 0x1p-45, 0x1p-52] {
                inputs += [mid * (1 + delta), mid * (1 - delta), mid]
            }
            inputs += [mid.nextUp, mid.nextDown]
        }
        var rng = TestRNG(state: 2)
        for _ in 0..<300_000 { inputs.append(rng.double(exponents: -30...17)) }
        inputs += [65520, 65520.nextDown, 65519.99, .infinity, -.infinity, .nan, -.nan, 0, -0.0,
                   0x1p-25, 0x1p-25.nextUp, 0x1p-25.nextDown, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for x in inputs {
            let want = refF16(x)
            XCTAssertEqual(F16(x).bitPattern, want, "\(x)")
            if F16(Float(x)).bitPattern != want { trapsSeen += 1 }
        }
        XCTAssertGreaterThan(trapsSeen, 10_000)  // the double-rounding traps are really exercised
    }

    // MARK: BF16

    func testBF16ExhaustiveRoundTrip() {
        for b in 0...0xFFFF {
            let h = BF16(bitPattern: UInt16(b))
            let f = h.floatValue, d = h.doubleValue
            let exact = Float(bitPattern: UInt32(b) << 16)
            if exact.isNaN {
                XCTAssertTrue(h.isNaN)
                XCTAssertEqual(f.bitPattern, UInt32(b & 0x8000) << 16 | 0x7FC0_0000)
                XCTAssertEqual(d.bitPattern, UInt64(b & 0x8000) << 48 | 0x7FF8_0000_0000_0000)
                XCTAssertEqual(BF16(f).bitPattern, UInt16(b & 0x8000) | 0x7FC0)
                XCTAssertEqual(BF16(d).bitPattern, UInt16(b & 0x8000) | 0x7FC0)
            } else {
                XCTAssertEqual(f.bitPattern, exact.bitPattern)
                XCTAssertEqual(d.bitPattern, Double(exact).bitPattern)
                XCTAssertEqual(BF16(f).bitPattern, UInt16(b))
                XCTAssertEqual(BF16(d).bitPattern, UInt16(b))
            }
        }
    }

    func testBF16AgainstReference() {
        var floats: [Float] = []
        var rng = TestRNG(state: 3)
        for _ in 0..<1_500_000 { floats.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for c in stride(from: 0, to: 0x7F7F, by: 1) {
            // the half-way float is the lower code's bits with 0x8000 below: test it and neighbours
            let mid = Float(bitPattern: UInt32(c) << 16 | 0x8000)
            floats += [mid, mid.nextUp, mid.nextDown]
        }
        floats += [.greatestFiniteMagnitude, .infinity, .nan, 0, Float(bitPattern: 1), Float(bitPattern: 0x7F7F_8000)]
        var failures = 0
        for x in floats + floats.map({ -$0 }) {
            let want = refBF16(Double(x))
            if BF16(x).bitPattern != want || BF16(Double(x)).bitPattern != want {
                failures += 1; if failures < 10 { XCTFail("BF16(\(x)) = \(BF16(x).bitPattern), want \(want)") }
            }
        }
        XCTAssertEqual(failures, 0)
        // Doubles: single rounding from the Double, incl. bf16 subnormals and overflow.
        var doubles: [Double] = [0x1.FFp127, 0x1.FFp127.nextDown, 0x1p-134, 0x1p-134.nextUp, 0x1p-134.nextDown,
                                 1 + 0x1p-8 + 0x1p-40, 1e300, -1e-300]
        for _ in 0..<300_000 { doubles.append(rng.double(exponents: -140...130)) }
        for x in doubles { XCTAssertEqual(BF16(x).bitPattern, refBF16(x), "\(x)") }
        XCTAssertEqual(BF16(1 + 0x1p-8 + 0x1p-40).bitPattern, 0x3F81)
        XCTAssertEqual(BF16(Float(1 + 0x1p-8 + 0x1p-40)).bitPattern, 0x3F80)
    }

    // MARK: F4

    func testF4Codes() {
        let table: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
        for c in 0..<16 {
            let v = F4E2M1(code: UInt8(c)).doubleValue
            let want = c < 8 ? table[c] : -table[c - 8]
            XCTAssertEqual(v.bitPattern, want.bitPattern, "code \(c)")
            XCTAssertEqual(F4E2M1(code: UInt8(c)).floatValue.bitPattern, Float(want).bitPattern)
            XCTAssertEqual(F4E2M1(v).code, UInt8(c))
            XCTAssertEqual(F4E2M1(Float(v)).code, UInt8(c))
        }
        XCTAssertEqual(F4E2M1.magnitudes, table)
    }

    func testF4EncodeMatchesBruteForce() {
        let table: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
        func brute(_ x: Double) -> UInt8 {
            if x.isNaN { return 0 }
            let s: UInt8 = x.sign == .minus ? 8 : 0
            if x.magnitude >= 6 { return s | 7 }  // saturation (distances would be inexact up there)
            var best = 0
            for c in 1..<8 {
                let d = abs(x.magnitude - table[c]), bd = abs(x.magnitude - table[best])
                if d < bd || (d == bd && c % 2 == 0) { best = c }
            }
            return s | UInt8(best)
        }
        var xs: [Double] = (-4096...4096).map { Double($0) / 512 }
        xs += [.infinity, -.infinity, .nan, -0.0, 1e300, -1e300, 0.25.nextUp, 0.75.nextDown, 5.nextUp, 0x1p-1070]
        for x in xs {
            XCTAssertEqual(F4E2M1(x).code, brute(x), "\(x)")
            XCTAssertEqual(F4E2M1(Float(x)).code, brute(Double(Float(x))), "\(x)")
        }
        XCTAssertEqual([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, 7, -5].map { F4E2M1($0).code }, [0, 2, 2, 4, 4, 6, 6, 7, 14])
        XCTAssertEqual(F4E2M1(-0.1).code, 8)
        XCTAssertEqual(F4E2M1(-Double.nan).code, 0)
    }

    func testF4Packing() {
        XCTAssertEqual(F4E2M1.pack(low: F4E2M1(0.5), high: F4E2M1(-1)), 0xA1)
        XCTAssertEqual(F4E2M1.unpack(0xA1).low.code, 1)
        XCTAssertEqual(F4E2M1.unpack(0xA1).high.code, 0xA)
        XCTAssertEqual(DType.encode([0.5, -1.0, 6.0] as [Double], as: .f4), [0xA1, 0x07])
        XCTAssertEqual(DType.encode([1.0, 3.0, -6.0, 0.0] as [Float], as: .f4), [0x52, 0x0F])
        XCTAssertEqual(try DType.decodeDoubles([0xA1, 0xF7], as: .f4, count: 3), [0.5, -1, 6])
        XCTAssertEqual(try DType.decodeFloats([0xA1, 0xF7], as: .f4, count: 4), [0.5, -1, 6, -6])
    }

    // MARK: integers

    private func checkInteger<I: FixedWidthInteger>(_ type: I.Type, _ dtype: DType, line: UInt = #line) {
        let n = I.bitWidth
        let upper = Double(sign: .plus, exponent: I.isSigned ? n - 1 : n, significand: 1)  // first too large
        let lower = I.isSigned ? -upper : 0
        func reference(_ x: Double) -> I {
            if x.isNaN { return 0 }
            let r = x.rounded(.toNearestOrEven)
            if r >= upper { return I.max }
            if r < lower { return I.min }
            return I(exactly: r)!
        }
        var xs: [Double] = [0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, 0.49999999999999994, 1, -1,
                            .infinity, -.infinity, .nan, -.nan, 0x1p63, -0x1p63, 0x1p64, 0x1p63.nextDown,
                            (-0x1p63).nextDown, 1e300, -1e300, .leastNonzeroMagnitude, 4503599627370497]
        for edge in [Double(I.max), Double(I.min), upper, lower] {
            xs += [edge, edge + 1, edge - 1, edge + 0.5, edge - 0.5, edge.nextUp, edge.nextDown, -edge]
        }
        var rng = TestRNG(state: UInt64(n) &* 77 &+ (I.isSigned ? 1 : 0))
        for _ in 0..<40_000 {
            let x = rng.double(exponents: -2...(n + 2))
            xs += [x, x.rounded(.down) + 0.5]
        }
        for x in xs {
            let want = reference(x)
            XCTAssertEqual(DType.saturatingInteger(x, as: I.self), want, "\(dtype) \(x)", line: line)
            XCTAssertEqual(DType.roundTrip(x, through: dtype), Double(want), "\(dtype) \(x)", line: line)
            let f = Float(x)
            XCTAssertEqual(DType.saturatingInteger(f, as: I.self), reference(Double(f)), "\(dtype) \(f)", line: line)
            XCTAssertEqual(DType.roundTrip(f, through: dtype), Float(reference(Double(f))), line: line)
        }
    }

    func testIntegers() {
        checkInteger(Int64.self, .i64); checkInteger(Int32.self, .i32)
        checkInteger(Int16.self, .i16); checkInteger(Int8.self, .i8)
        checkInteger(UInt64.self, .u64); checkInteger(UInt32.self, .u32)
        checkInteger(UInt16.self, .u16); checkInteger(UInt8.self, .u8)
        XCTAssertEqual(DType.saturatingInteger(Double(Int64.max), as: Int64.self), Int64.max)
        XCTAssertEqual(DType.saturatingInteger(2.5, as: Int8.self), 2)
        XCTAssertEqual(DType.saturatingInteger(-300.0, as: Int8.self), -128)
        XCTAssertEqual(DType.saturatingInteger(-0.7, as: UInt8.self), 0)
        XCTAssertEqual(DType.saturatingInteger(Double.nan, as: UInt32.self), 0)
        XCTAssertEqual(DType.i64.floatValue(storageBits: 16_777_217), 16_777_216)
        XCTAssertEqual(DType.i64.floatValue(storageBits: UInt64(Int64.max)), 0x1p63)
        XCTAssertEqual(DType.i32.storageBits(-1.0), 0xFFFF_FFFF)
        XCTAssertEqual(DType.i8.doubleValue(storageBits: 0x80), -128)
    }

    // MARK: bulk

    private let samples: [Double] = [0, -0.0, 1, -1, 0.5, 1.5, 2.5, -2.5, 3.14159, -7.25, 100.7, 65504, 65520, 1e5,
                                     -1e6, 3e9, 1e19, -1e19, 1e40, 1e-5, 1e-8, 1e-40, 0x1p-1030, .infinity,
                                     -.infinity, .nan, -.nan, 255.5, 127.5, -128.5, 6.0, 0.25, 0.75]

    func testBulkRoundTripEveryDType() throws {
        for t in DType.allCases {
            for count in [samples.count, samples.count - 1, 0] {
                let vs = Array(samples.prefix(count))
                let bytes = DType.encode(vs, as: t)
                XCTAssertEqual(bytes.count, t.byteCount(forElements: count))
                let back = try DType.decodeDoubles(bytes, as: t, count: count)
                XCTAssertEqual(back.count, count)
                for (x, y) in zip(vs, back) {
                    XCTAssertTrue(sameBits(y, DType.roundTrip(x, through: t)), "\(t) \(x) → \(y)")
                }
                // A second trip is the identity: stored values are representable.
                XCTAssertEqual(DType.encode(back, as: t), bytes, "\(t)")

                let fs = vs.map { Float($0) }
                let fbytes = DType.encode(fs, as: t)
                let fback = try DType.decodeFloats(fbytes, as: t, count: count)
                for (x, y) in zip(fs, fback) {
                    XCTAssertTrue(sameBits(y, DType.roundTrip(x, through: t)), "\(t) \(x) → \(y)")
                }
                let viaRaw = try fbytes.withUnsafeBytes { try DType.decodeFloats($0, as: t, count: count) }
                XCTAssertTrue(zip(viaRaw, fback).allSatisfy { sameBits($0, $1) })
            }
        }
        XCTAssertEqual(DType.roundTrip(1e40, through: .f32), Double(Float.infinity))
        XCTAssertEqual(DType.roundTrip(Float(100.7), through: .f64), Float(100.7))
        XCTAssertEqual(DType.roundTrip(-Double.nan, through: .f32).bitPattern, 0xFFF8_0000_0000_0000)
    }

    func testLittleEndianLayout() throws {
        XCTAssertEqual(DType.encode([1.0] as [Float], as: .f32), [0x00, 0x00, 0x80, 0x3F])
        XCTAssertEqual(DType.encode([1.0], as: .f64), [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        XCTAssertEqual(DType.encode([1.0, -2.0], as: .f16), [0x00, 0x3C, 0x00, 0xC0])
        XCTAssertEqual(DType.encode([1.0], as: .bf16), [0x80, 0x3F])
        XCTAssertEqual(DType.encode([-2.0, 300], as: .i16), [0xFE, 0xFF, 0x2C, 0x01])
        XCTAssertEqual(DType.encode([-2.0, 300], as: .u8), [0x00, 0xFF])
        XCTAssertEqual(DType.encode([-2.0], as: .i64), [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(DType.encode([65536.0 + 2], as: .u32), [0x02, 0x00, 0x01, 0x00])
        XCTAssertEqual(try DType.decodeDoubles([0x01, 0x00, 0x00, 0x80], as: .i32, count: 1), [-2_147_483_647])
        // unaligned raw decode
        let bytes: [UInt8] = [0xAA, 0x00, 0x00, 0x80, 0x3F]
        let v = try bytes.withUnsafeBytes { try DType.decodeFloats(UnsafeRawBufferPointer(rebasing: $0[1...]), as: .f32, count: 1) }
        XCTAssertEqual(v, [1.0])
    }

    func testByteCountErrors() {
        XCTAssertThrowsError(try DType.decodeDoubles([0, 0, 0], as: .f32, count: 1)) { error in
            XCTAssertEqual(error as? DTypeError, .byteCountMismatch(expected: 4, actual: 3))
        }
        XCTAssertThrowsError(try DType.decodeFloats([0, 0], as: .f4, count: 2)) { error in
            XCTAssertEqual(error as? DTypeError, .byteCountMismatch(expected: 1, actual: 2))
        }
        XCTAssertThrowsError(try DType.decodeFloats([], as: .u8, count: -1)) { error in
            XCTAssertEqual(error as? DTypeError, .negativeCount(-1))
        }
        XCTAssertThrowsError(try DType.decodeDoubles([0], as: .f64, count: Int.max)) { error in
            XCTAssertEqual(error as? DTypeError, .byteCountMismatch(expected: Int.max, actual: 1))
        }
        XCTAssertEqual(DTypeError.byteCountMismatch(expected: 4, actual: 3).description,
                       "byte count mismatch: expected 4 bytes, got 3")
    }
}
