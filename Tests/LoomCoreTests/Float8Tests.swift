import Foundation
import LoomCore
import XCTest

/// FP8 E4M3 / E5M2 conversions: against PyTorch (Fixtures/safetensors/f8.json) and against an
/// independent nearest-value search over every code.
final class Float8Tests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func f8Fixture() throws -> JSONValue {
        let text = try String(contentsOf: root.appendingPathComponent("Fixtures/safetensors/f8.json"), encoding: .utf8)
        return try JSONValue.parse(text)
    }

    func ints(_ v: JSONValue?) -> [UInt64] { (v?.arrayValue ?? []).map { $0.numberValue?.uint64 ?? UInt64.max } }

    func testEncodingMatchesPyTorchOnEveryFixtureInput() throws {
        let f = try Self.f8Fixture()
        let inputs = ints(f["inputs"]), e4 = ints(f["e4m3"]), e5 = ints(f["e5m2"])
        XCTAssertGreaterThan(inputs.count, 1000)
        XCTAssertEqual(inputs.count, e4.count)
        XCTAssertEqual(inputs.count, e5.count)
        var mismatches = 0
        for i in 0..<inputs.count {
            let x = Float(bitPattern: UInt32(inputs[i]))
            let a = F8E4M3(x).bitPattern, b = F8E5M2(x).bitPattern
            // The Double entry rounds the same exact value once: the same code.
            XCTAssertEqual(F8E4M3(Double(x)).bitPattern, a)
            XCTAssertEqual(F8E5M2(Double(x)).bitPattern, b)
            if UInt64(a) != e4[i] || UInt64(b) != e5[i] {
                mismatches += 1
                if mismatches < 10 { XCTFail("input 0x\(String(inputs[i], radix: 16)) (\(x)): e4m3 \(a) vs torch \(e4[i]), e5m2 \(b) vs torch \(e5[i])") }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testDecodingMatchesPyTorchForEveryCode() throws {
        let f = try Self.f8Fixture()
        for (key, decode) in [("decode_e4m3", { (c: UInt8) in F8E4M3(bitPattern: c).floatValue }),
                              ("decode_e5m2", { (c: UInt8) in F8E5M2(bitPattern: c).floatValue })] {
            let expected = try XCTUnwrap(f[key]?.arrayValue)
            XCTAssertEqual(expected.count, 256)
            for c in 0..<256 {
                let v = decode(UInt8(c))
                if expected[c].isNull {
                    XCTAssertTrue(v.isNaN, "\(key) code \(c)")
                } else {
                    XCTAssertEqual(UInt64(v.bitPattern), expected[c].numberValue?.uint64, "\(key) code \(c)")
                }
            }
        }
    }

    /// Every finite positive value of a format, ascending, by code (codes 0…n-1).
    func positives(_ decode: (UInt8) -> Double, count: Int) -> [Double] {
        (0..<count).map { decode(UInt8($0)) }
    }

    /// Nearest code by search, ties to the even code; beyond the largest value: `overflow(a)`.
    func reference(_ x: Double, _ values: [Double], overflow: (Double) -> UInt8?, nan: UInt8) -> UInt8 {
        let sign: UInt8 = x.sign == .minus ? 0x80 : 0
        if x.isNaN { return sign | nan }
        let a = x.magnitude
        if let o = overflow(a) { return sign | o }
        var best = 0
        for c in 0..<values.count where values[c] <= a { best = c }
        if best == values.count - 1 { return sign | UInt8(best) }
        let lo = values[best], hi = values[best + 1]
        // Exact comparison with the midpoint: (lo + hi) / 2 is exact in binary64 here.
        let mid = (lo + hi) / 2
        let code = a < mid ? best : a > mid ? best + 1 : (best % 2 == 0 ? best : best + 1)
        return sign | UInt8(code)
    }

    func testAgainstIndependentReference() {
        let e4 = positives({ F8E4M3(bitPattern: $0).doubleValue }, count: 0x7F)  // 0x00…0x7E
        let e5 = positives({ F8E5M2(bitPattern: $0).doubleValue }, count: 0x7C)  // 0x00…0x7B
        XCTAssertEqual(e4.last, 448)
        XCTAssertEqual(e5.last, 57344)
        XCTAssertEqual(e4[1], 0x1p-9)
        XCTAssertEqual(e5[1], 0x1p-16)
        for i in 1..<e4.count { XCTAssertLessThan(e4[i - 1], e4[i]) }
        for i in 1..<e5.count { XCTAssertLessThan(e5[i - 1], e5[i]) }
        var inputs: [Double] = [0, -0.0, .infinity, -.infinity, .nan, -Double.nan, 448, 449, 464, 464.0000001, 480, 1e300,
                                57344, 61439.99999, 61440, 65536, 0x1p-10, 0x1p-17, 0x1p-10 + 0x1p-60, 0x1.0000000000001p-17,
                                .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                1.0625 + 0x1p-40, 1.0625, 1.125 + 0x1p-40]  // double-rounding cases (PyTorch differs)
        for values in [e4, e5] {
            for i in 0..<(values.count - 1) {
                let m = (values[i] + values[i + 1]) / 2
                inputs += [values[i], m, m.nextUp, m.nextDown, -m]
            }
        }
        var g = PhiloxSequence(seed: 8)
        for _ in 0..<20000 {
            let bits = g.next()
            let e = Int(bits % 50) - 30
            inputs.append(Double(sign: bits & (1 << 40) == 0 ? .plus : .minus, exponent: e,
                                 significand: 1 + Double(g.next() >> 12) * 0x1p-52))
        }
        for x in inputs {
            let r4 = reference(x, e4, overflow: { $0 > 448 ? 0x7E : nil }, nan: 0x7F)
            let r5 = reference(x, e5, overflow: { $0 >= 61440 ? 0x7C : nil }, nan: 0x7F)
            XCTAssertEqual(F8E4M3(x).bitPattern, r4, "e4m3 of \(x)")
            XCTAssertEqual(F8E5M2(x).bitPattern, r5, "e5m2 of \(x)")
        }
        // One rounding from a Double (PyTorch rounds float64 through float32 and gets 0x38 here).
        XCTAssertEqual(F8E4M3(1.0625 + 0x1p-40).bitPattern, 0x39)
        XCTAssertEqual(F8E4M3(Float(1.0625 + 0x1p-40)).bitPattern, 0x38)
    }

    func testSpecialValues() {
        XCTAssertEqual(F8E4M3(Double.infinity).bitPattern, 0x7E)   // saturates, as PyTorch 2.13
        XCTAssertEqual(F8E4M3(-Double.infinity).bitPattern, 0xFE)
        XCTAssertEqual(F8E4M3(Double.nan).bitPattern, 0x7F)
        XCTAssertEqual(F8E4M3(-Double.nan).bitPattern, 0xFF)
        XCTAssertEqual(F8E4M3(-0.0).bitPattern, 0x80)
        XCTAssertEqual(F8E4M3(-1e-30).bitPattern, 0x80)
        XCTAssertTrue(F8E4M3(bitPattern: 0xFF).doubleValue.isNaN)
        XCTAssertEqual(F8E4M3(bitPattern: 0xFF).doubleValue.sign, .minus)
        XCTAssertEqual(F8E4M3(bitPattern: 0x7E).doubleValue, 448)
        XCTAssertEqual(F8E4M3(bitPattern: 0x01).floatValue, 0x1p-9)
        XCTAssertEqual(F8E5M2(Double.infinity).bitPattern, 0x7C)
        XCTAssertEqual(F8E5M2(-1e10).bitPattern, 0xFC)
        XCTAssertEqual(F8E5M2(Float.nan).bitPattern, 0x7F)
        XCTAssertEqual(F8E5M2(bitPattern: 0xFC).doubleValue, -.infinity)
        XCTAssertTrue(F8E5M2(bitPattern: 0x7D).floatValue.isNaN)
        XCTAssertEqual(F8E5M2(bitPattern: 0x7D).floatValue.bitPattern, 0x7FC0_0000)
        XCTAssertEqual(F8E5M2(bitPattern: 0x7B).floatValue, 57344)
        // Every code survives decode → encode (NaNs become the canonical NaN of their sign).
        for c in 0...255 {
            let b = UInt8(c)
            let e4 = F8E4M3(bitPattern: b), e5 = F8E5M2(bitPattern: b)
            XCTAssertEqual(F8E4M3(e4.doubleValue).bitPattern, e4.isNaN ? (b & 0x80) | 0x7F : b)
            XCTAssertEqual(F8E4M3(e4.floatValue).bitPattern, e4.isNaN ? (b & 0x80) | 0x7F : b)
            XCTAssertEqual(F8E5M2(e5.doubleValue).bitPattern, e5.isNaN ? (b & 0x80) | 0x7F : b)
            if !e5.isNaN { XCTAssertEqual(Double(e5.floatValue).bitPattern, e5.doubleValue.bitPattern) }
            if !e4.isNaN { XCTAssertEqual(Double(e4.floatValue).bitPattern, e4.doubleValue.bitPattern) }
        }
    }
}
