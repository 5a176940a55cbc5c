import Foundation
import LoomCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Checks JSONNumber's decimal → binary conversion against the C library's correctly rounded
/// `strtod` / `strtof`, and the shortest printing round trip.
final class JSONNumberTests: XCTestCase {
    #if DEBUG
    static let scale = 1
    #else
    static let scale = 12
    #endif

    struct SplitMix64 {
        var source: PhiloxSequence
        init(state: UInt64) { source = PhiloxSequence(seed: state) }
        mutating func next() -> UInt64 { source.next() }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    // MARK: references

    /// The reference Double; nil where C gives ±infinity (our API refuses those).
    func refDouble(_ s: String) -> Double? {
        let d = strtod(s, nil)
        return d.isInfinite ? nil : d
    }

    func refFloat(_ s: String) -> Float? {
        let f = strtof(s, nil)
        return f.isInfinite ? nil : f
    }

    func printf(_ format: String, _ d: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { vsnprintf(&buffer, 64, format, $0) }
        return String(cString: buffer)
    }

    func checkDouble(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let n = JSONNumber(text: s) else { return XCTFail("not a JSON number: \(s)", file: file, line: line) }
        let ours = n.double, ref = refDouble(s)
        if ours?.bitPattern != ref?.bitPattern {
            XCTFail("double(\(s)): got \(String(describing: ours)), expected \(String(describing: ref))", file: file, line: line)
        }
    }

    func checkFloat(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let n = JSONNumber(text: s) else { return XCTFail("not a JSON number: \(s)", file: file, line: line) }
        let ours = n.float, ref = refFloat(s)
        if ours?.bitPattern != ref?.bitPattern {
            XCTFail("float(\(s)): got \(String(describing: ours)), expected \(String(describing: ref))", file: file, line: line)
        }
    }

    func checkBoth(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        checkDouble(s, file: file, line: line)
        checkFloat(s, file: file, line: line)
    }

    // MARK: known cases

    func testHardCases() {
        let cases = [
            "0", "-0", "0.0", "-0.0", "0e0", "0e-999999999999", "0e99999999999", "1", "-1", "0.1", "0.2", "0.3",
            "9007199254740993", "9007199254740992", "9007199254740994", "9007199254740995",
            "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
            "2.225073858507201136057409796709131975934819546351645648e-308",
            "1e23", "8.589973e9", "1.00000005960464477550", "1.0000000596046447755", "1.00000005960464477539",
            "1.000000059604644775390625", "1.000000059604644775390626", "1.000000059604644775390624",
            "4.9e-324", "5e-324", "2.4703282292062328e-324", "2.4703282292062327e-324",
            "2.47032822920623272088e-324", "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
            "1e-400", "1e400", "-1e400", "1e-45", "1.4e-45", "7e-46", "7.006492321624085e-46", "7.006492321624086e-46",
            "1.1754943508222875e-38", "1.1754942e-38", "1.17549435e-38", "3.4028235e38", "3.4028236e38",
            "3.40282356779733661637539395458142568448e38", "3.40282356779733661637539395458142568447e38",
            "3.4028235677973366e38", "3.402823567797337e38", "3.40282357e38",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999999999999999999999999999999999999999999999999999999999999999",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
            "4.4501477170144023e-308", "4.4501477170144022721148195934182639518696390927032912960468522194496444440421538910330590478162701758282983178260792422137401728773891892910553144148156412434867599762821265346585071045737627442980259622449029037796981144446145705102663115100318287949527959668236039986479250965780342141637013812613333119898765515451440315261253813266652951306000184917766328660755595837392240989947807556594098101021612198814605258742579179000071675999344145086087205681577915435923018910334964869420614052182892431445797605163650903606514140377217442262561590244668525767372446430075513332450079650686719491377688478005309963967709758965844137894433796621993967316936280457084866613206797017728916080020698679408551343728867675409720757232455434770912461317493580281734466552734375e-308",
            "0.000000000000000000000000000000000000000000001", "123456789012345678901234567890", "1e-10", "1e10", "1e22", "1e-22",
            "1e15", "123456789e20", "12345e30", "1234567e10", "9999999999999999e-1", "5e-1", "0.5", "1.5", "2.5",
            "3.0", "1E+2", "1e+0002", "-123.456e-7", "1797693134862315708145274237317043567981e269",
            "1e-324", "1e-323", "3e-324", "2.5e-324", "1e-46", "1e-45", "2e-45", "7.00649232162408535461864791644958065640130970938257885878534141944895541342930300743319094181060791015625e-46",
            "16777217", "16777216", "16777219", "33554435", "3.4028234663852886e38",
        ]
        for s in cases { checkBoth(s) }
        XCTAssertNil(JSONNumber(text: "1e400")!.double)
        XCTAssertNil(JSONNumber(text: "-1e39")!.float)
        XCTAssertEqual(JSONNumber(text: "1e-400")!.double?.bitPattern, 0)
        XCTAssertEqual(JSONNumber(text: "-1e-400")!.double?.bitPattern, 1 << 63)
        XCTAssertEqual(JSONNumber(text: "2.4703282292062328e-324")!.double, Double.leastNonzeroMagnitude)
        XCTAssertEqual(JSONNumber(text: "2.4703282292062327e-324")!.double, 0)
        XCTAssertEqual(JSONNumber(text: "1.00000005960464477550")!.float, Float(1).nextUp)
        XCTAssertEqual(JSONNumber(text: "1.000000059604644775390625")!.float, 1)  // exact tie → even
        XCTAssertEqual(JSONNumber(text: "8.589973e9")!.float, 8589973504)
        XCTAssertEqual(JSONNumber(text: "9007199254740993")!.double, 9007199254740992)
    }

    func testRoundingToInfinityIsNil() {
        // Largest finite + just under half an ulp stays finite; half an ulp and above rounds to infinity.
        checkDouble("1.797693134862315807e308")  // ≤ max + ulp/2 - ε
        XCTAssertNotNil(JSONNumber(text: "1.7976931348623158e308")!.double)
        XCTAssertNil(JSONNumber(text: "1.797693134862315808e308")!.double)  // ≥ midpoint to 2^1024
        XCTAssertNotNil(JSONNumber(text: "3.4028235677973366e38")!.float)
        XCTAssertNil(JSONNumber(text: "3.4028235677973367e38")!.float)
        XCTAssertNil(JSONNumber(text: "1e39")!.float)
        XCTAssertNil(JSONNumber(text: "-1e309")!.double)
        XCTAssertNil(JSONNumber(text: "1e999999999999999999999")!.double)
    }

    // MARK: random

    func testRandomDoublesPrinted() {
        var rng = SplitMix64(state: 1)
        for _ in 0..<(20_000 * JSONNumberTests.scale) {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            let shortest = JSONNumber(d)!.text
            XCTAssertEqual(JSONNumber(text: shortest)?.double?.bitPattern, d.bitPattern, shortest)
            for s in [printf("%.17g", d), printf("%.16e", d), printf("%.15g", d), shortest] {
                checkDouble(s)
            }
        }
    }

    func testRandomFloatsPrinted() {
        var rng = SplitMix64(state: 2)
        for _ in 0..<(25_000 * JSONNumberTests.scale) {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            guard f.isFinite else { continue }
            let shortest = JSONNumber(f)!.text
            XCTAssertEqual(JSONNumber(text: shortest)?.float?.bitPattern, f.bitPattern, shortest)
            checkFloat(shortest)
            checkFloat(printf("%.9g", Double(f)))
            checkFloat(printf("%.8g", Double(f)))
        }
    }

    func randomDigits(_ rng: inout SplitMix64, _ count: Int) -> String {
        var s = ""
        for i in 0..<count {
            s.append(Character(Unicode.Scalar(UInt8(0x30 + (i == 0 ? 1 + rng.below(9) : rng.below(10))))))
        }
        return s
    }

    func testRandomDigitStrings() {
        var rng = SplitMix64(state: 3)
        for _ in 0..<(15_000 * JSONNumberTests.scale) {
            let n = 1 + rng.below(40)
            var digits = randomDigits(&rng, n)
            if rng.below(4) == 0 {  // trailing/embedded zeros and a decimal point
                digits += String(repeating: "0", count: rng.below(5))
            }
            let point = rng.below(digits.count + 1)
            var s = digits
            if point < digits.count && point > 0 {
                s = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            }
            let eD = rng.below(700) - 350
            checkDouble(s + "e" + String(eD))
            let eF = rng.below(100) - 55
            checkFloat(s + "e" + String(eF))
            if rng.below(2) == 0 { checkBoth("-0.000" + digits + "e" + String(eF)) }
        }
    }

    func testLongMantissas() {
        var rng = SplitMix64(state: 4)
        for _ in 0..<(300 * JSONNumberTests.scale) {
            let n = 100 + rng.below(900)
            let digits = randomDigits(&rng, n)
            let e = rng.below(800) - 400 - n
            checkDouble(digits + "e" + String(e))
            checkFloat(digits + "e" + String(rng.below(100) - 50 - n))
            checkBoth("0." + digits)
        }
        // 1 followed by thousands of zeros then a digit that decides the rounding.
        let zeros = String(repeating: "0", count: 2000)
        checkBoth("9007199254740993" + zeros + "e-2000")
        checkBoth("9007199254740992" + zeros + "1e-2001")
        checkBoth("1.000000059604644775390625" + zeros + "1")
        checkBoth("1.000000059604644775390625" + zeros)
    }

    /// Exact decimal text of significand × 2^exponent, written as digits or digits e-k.
    func exactMidpoint(significand: UInt64, exponent: Int) -> String {
        // Little-endian base-10^9 limbs.
        var limbs: [UInt64] = [significand % 1_000_000_000, (significand / 1_000_000_000) % 1_000_000_000,
                               significand / 1_000_000_000_000_000_000]
        func mul(_ m: UInt64) {
            var carry: UInt64 = 0
            for i in 0..<limbs.count {
                let p = limbs[i] * m + carry
                limbs[i] = p % 1_000_000_000; carry = p / 1_000_000_000
            }
            while carry > 0 { limbs.append(carry % 1_000_000_000); carry /= 1_000_000_000 }
        }
        func pow(_ base: UInt64, _ count: Int, chunk: Int) {
            var k = count
            var big: UInt64 = 1
            for _ in 0..<chunk { big *= base }
            while k >= chunk { mul(big); k -= chunk }
            while k > 0 { mul(base); k -= 1 }
        }
        if exponent >= 0 { pow(2, exponent, chunk: 29) } else { pow(5, -exponent, chunk: 12) }
        while limbs.count > 1 && limbs.last == 0 { limbs.removeLast() }
        var text = String(limbs.last!)
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return exponent >= 0 ? text : text + "e-" + String(-exponent)
    }

    func testExactHalfwayCases() {
        var rng = SplitMix64(state: 5)
        for i in 0..<(200 * JSONNumberTests.scale) {
            // Doubles: midpoint of a random positive finite value and its successor.
            var bits = rng.next() & 0x7FFF_FFFF_FFFF_FFFF
            if i % 4 == 0 { bits &= 0x000F_FFFF_FFFF_FFFF }  // subnormals
            if i % 4 == 1 { bits = (bits & 0x000F_FFFF_FFFF_FFFF) | (UInt64(1 + rng.below(120)) << 52) }
            if i % 4 == 2 { bits = (bits & 0x000F_FFFF_FFFF_FFFF) | (UInt64(2046 - rng.below(60)) << 52) }
            let d = Double(bitPattern: bits)
            guard d.isFinite else { continue }
            let biased = Int(bits >> 52)
            let frac = bits & 0x000F_FFFF_FFFF_FFFF
            let m = biased == 0 ? frac : frac | (1 << 52)
            let e = (biased == 0 ? 1 : biased) - 1075
            let mid = exactMidpoint(significand: 2 * m + 1, exponent: e - 1)
            checkDouble(mid)
            checkDouble(insertBeforeExponent(mid, "1"))
            checkDouble(decrementLastDigit(mid))

            var fb = UInt32(truncatingIfNeeded: rng.next()) & 0x7FFF_FFFF
            if i % 3 == 0 { fb &= 0x007F_FFFF }
            let f = Float(bitPattern: fb)
            guard f.isFinite else { continue }
            let fbiased = Int(fb >> 23)
            let fm = UInt64(fbiased == 0 ? fb & 0x7F_FFFF : (fb & 0x7F_FFFF) | (1 << 23))
            let fe = (fbiased == 0 ? 1 : fbiased) - 150
            let fmid = exactMidpoint(significand: 2 * fm + 1, exponent: fe - 1)
            checkFloat(fmid)
            checkFloat(insertBeforeExponent(fmid, "1"))
            checkFloat(decrementLastDigit(fmid))
        }
    }

    func insertBeforeExponent(_ s: String, _ digit: String) -> String {
        if let r = s.range(of: "e") { return String(s[..<r.lowerBound]) + digit + "e-" + String(Int(s[r.upperBound...].dropFirst())! + 1) }
        return s + "." + digit
    }

    func decrementLastDigit(_ s: String) -> String {
        // The midpoint ends in 5 (odd × 5^k) or is an even integer; step just below it.
        if let r = s.range(of: "e") {
            var mant = Array(s[..<r.lowerBound].utf8)
            mant[mant.count - 1] -= 1
            return String(decoding: mant, as: UTF8.self) + "9e-" + String(Int(s[r.upperBound...].dropFirst())! + 1)
        }
        return s + "e0"  // integers: keep (already covered by the two others)
    }

    func testIntegerAccessors() {
        XCTAssertEqual(JSONNumber(text: "9223372036854775807")!.int64, .max)
        XCTAssertEqual(JSONNumber(text: "-9223372036854775808")!.int64, .min)
        XCTAssertNil(JSONNumber(text: "9223372036854775808")!.int64)
        XCTAssertNil(JSONNumber(text: "-9223372036854775809")!.int64)
        XCTAssertEqual(JSONNumber(text: "18446744073709551615")!.uint64, .max)
        XCTAssertNil(JSONNumber(text: "18446744073709551616")!.uint64)
        XCTAssertNil(JSONNumber(text: "-1")!.uint64)
        XCTAssertEqual(JSONNumber(text: "-0")!.uint64, 0)
        XCTAssertEqual(JSONNumber(text: "-42")!.int, -42)
        XCTAssertNil(JSONNumber(text: "3.0")!.int)
        XCTAssertNil(JSONNumber(text: "1e2")!.int)
        XCTAssertTrue(JSONNumber(text: "12")!.isIntegerLiteral)
        XCTAssertFalse(JSONNumber(text: "1.5")!.isIntegerLiteral)
        XCTAssertEqual(JSONNumber(Int.min).text, String(Int.min))
        XCTAssertEqual(JSONNumber(UInt64.max).uint64, .max)
        XCTAssertEqual(JSONNumber(text: "123456789012345678901234567890")!.text, "123456789012345678901234567890")
    }

    func testLiteralValidation() {
        for good in ["0", "-0", "1.5", "1e5", "1E+5", "1e-05", "-0.0e0", "123456789012345678901234567890"] {
            XCTAssertNotNil(JSONNumber(text: good), good)
        }
        for bad in ["", "-", "01", "+1", "1.", ".5", "1e", "1e+", "0x10", "1 ", " 1", "NaN", "Infinity", "-inf", "1.5.2", "--1", "1e5e5"] {
            XCTAssertNil(JSONNumber(text: bad), bad)
        }
    }

    func testShortestPrinting() {
        XCTAssertEqual(JSONNumber(0.1)?.text, "0.1")
        XCTAssertEqual(JSONNumber(5.0)?.text, "5.0")
        XCTAssertEqual(JSONNumber(1e-5)?.text, "1e-5")
        XCTAssertEqual(JSONNumber(1e20)?.text, "1e20")
        XCTAssertEqual(JSONNumber(-0.0)?.text, "-0.0")
        XCTAssertEqual(JSONNumber(Double.leastNonzeroMagnitude)?.text, "5e-324")
        XCTAssertEqual(JSONNumber(Double.greatestFiniteMagnitude)?.text, "1.7976931348623157e308")
        XCTAssertEqual(JSONNumber(Float(0.1))?.text, "0.1")
        XCTAssertEqual(JSONNumber(Float.greatestFiniteMagnitude)?.text, "3.4028235e38")
        XCTAssertEqual(JSONNumber(Float.leastNonzeroMagnitude)?.text, "1e-45")
        XCTAssertNil(JSONNumber(Double.nan))
        XCTAssertNil(JSONNumber(-Double.infinity))
        XCTAssertNil(JSONNumber(Float.infinity))
        for d in [Double.leastNormalMagnitude, Double.leastNormalMagnitude.nextDown, 1 / 3, 123456.789e300, .pi] {
            XCTAssertEqual(JSONNumber(d)?.double, d)
        }
        for f in [Float.leastNormalMagnitude, Float.leastNormalMagnitude.nextDown, 1 / 3, .pi, 16777215] {
            XCTAssertEqual(JSONNumber(f)?.float, f)
        }
        var rng = SplitMix64(state: 6)
        for _ in 0..<(20_000 * JSONNumberTests.scale) {
            let d = Double(bitPattern: rng.next())
            if d.isFinite {
                let n = JSONNumber(d)!
                XCTAssertEqual(n.double?.bitPattern, d.bitPattern, n.text)
                XCTAssertNotNil(JSONNumber(text: n.text), n.text)
            }
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next() >> 7))
            if f.isFinite {
                let n = JSONNumber(f)!
                XCTAssertEqual(n.float?.bitPattern, f.bitPattern, n.text)
            }
        }
    }
}
