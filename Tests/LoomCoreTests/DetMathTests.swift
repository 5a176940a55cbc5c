import XCTest
import Foundation
import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// Accuracy sweeps of DetMath against higher-precision references (Double: glibc long double via
/// Float80, x86-64 only; Float: glibc double), special values, and bit-exact goldens.
final class DetMathTests: XCTestCase {
    #if DEBUG
    static let n = 200_000
    #else
    static let n = 1_500_000
    #endif

    struct Rng {
        var source: PhiloxSequence
        init(state: UInt64) { source = PhiloxSequence(seed: state) }
        mutating func next() -> UInt64 { source.next() }
        mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
        mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
        /// Random finite double with |x| in [2^e0, 2^e1), random sign if `signed`.
        mutating func logUniform(_ e0: Int, _ e1: Int, signed: Bool = true) -> Double {
            let e = e0 + Int(next() % UInt64(e1 - e0))
            let m = Double(bitPattern: 0x3FF0_0000_0000_0000 | (next() & 0x000F_FFFF_FFFF_FFFF))
            let v = Double(sign: .plus, exponent: e, significand: m)
            return signed && next() & 1 == 0 ? -v : v
        }
    }

    /// Inputs: `n` evenly spaced points over each range, then `n/4` log-uniform random points.
    static func inputs(_ ranges: [(Double, Double)], logRange: (Int, Int, Bool)? = nil, extra: [Double] = [], seed: UInt64 = 7) -> [Double] {
        var xs: [Double] = extra
        for (lo, hi) in ranges {
            let m = n / ranges.count
            for i in 0..<m { xs.append(lo + (hi - lo) * Double(i) / Double(m - 1)) }
        }
        if let (e0, e1, signed) = logRange {
            var g = Rng(state: seed)
            for _ in 0..<(n / 4) { xs.append(g.logUniform(e0, e1, signed: signed)) }
        }
        return xs
    }

    static let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, 0.5, -0.5, 2, -2,
                                     .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
                                     .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-300, 710, -746, 745.1, -745.1]

    // MARK: - Double accuracy (Float80 reference, x86-64 only)

    #if arch(x86_64) && canImport(Glibc)
    /// Error of `y` in ulps of the binade of the exact value `ref`.
    static func ulpError(_ y: Double, _ ref: Float80) -> Double {
        if ref.isNaN { return y.isNaN ? 0 : .infinity }
        if y.isNaN { return .infinity }
        let r = Double(ref)
        if r.isInfinite || y.isInfinite { return y == r ? 0 : .infinity }
        if ref == 0 { return y == 0 ? 0 : .infinity }
        let e = Swift.max(Int(ref.exponent) - 52, -1074)
        let u = Float80(sign: .plus, exponent: e, significand: 1)
        return Double(Swift.abs(Float80(y) - ref) / u)
    }

    @discardableResult
    func sweep(_ name: String, bound: Double, _ xs: [Double], _ f: (Double) -> Double, _ ref: (Float80) -> Float80) -> Double {
        var worst = 0.0, worstX = 0.0
        for x in xs {
            let err = Self.ulpError(f(x), ref(Float80(x)))
            if err > worst || err.isNaN { worst = err; worstX = x }
        }
        print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0))Double  \(String(format: "%.3f", worst))  \(xs.count)   (worst at \(worstX))")
        XCTAssertLessThanOrEqual(worst, bound, "\(name) max error \(worst) ulp at x = \(worstX)")
        return worst
    }

    func testExpDouble() {
        let xs = Self.inputs([(-745.2, 709.8), (-1, 1), (-0.1, 0.1)], logRange: (-1074, 10, true), extra: Self.specials)
        sweep("exp", bound: 0.55, xs, DetMath.exp, { expl($0) })
    }

    func testExpm1Double() {
        let xs = Self.inputs([(-40, 709.8), (-1, 1), (-0.3, 0.3)], logRange: (-1074, 6, true), extra: Self.specials)
        sweep("expm1", bound: 0.6, xs, DetMath.expm1, { expm1l($0) })
    }

    func testLogDouble() {
        var xs = Self.inputs([(0.5, 2), (0.99, 1.01), (1, 1e6)], logRange: (-1074, 1024, false), extra: Self.specials)
        for k in 1...2000 { xs.append(1 + Double(k) * 0x1p-52); xs.append(1 - Double(k) * 0x1p-53) }
        sweep("log", bound: 0.55, xs, DetMath.log, { logl($0) })
    }

    func testLog1pDouble() {
        var xs = Self.inputs([(-1, 1), (-0.01, 0.01), (1, 1e6)], logRange: (-1074, 1024, false), extra: Self.specials)
        var g = Rng(state: 3)
        for _ in 0..<(Self.n / 8) { xs.append(-g.logUniform(-1074, 0, signed: false)) }
        sweep("log1p", bound: 0.55, xs, DetMath.log1p, { log1pl($0) })
    }

    func testTanhDouble() {
        let xs = Self.inputs([(-23, 23), (-1, 1)], logRange: (-1074, 5, true), extra: Self.specials)
        sweep("tanh", bound: 0.55, xs, DetMath.tanh, { tanhl($0) })
    }

    func testSigmoidDouble() {
        let xs = Self.inputs([(-750, 50), (-40, 40), (-1, 1)], logRange: (-1074, 10, true), extra: Self.specials)
        sweep("sigmoid", bound: 0.55, xs, DetMath.sigmoid, { 1 / (1 + expl(-$0)) })
    }

    func testSoftplusDouble() {
        let xs = Self.inputs([(-750, 750), (-40, 40), (-1, 1)], logRange: (-1074, 10, true), extra: Self.specials)
        sweep("softplus", bound: 0.55, xs, DetMath.softplus, { $0 > 0 ? $0 + log1pl(expl(-$0)) : log1pl(expl($0)) })
    }

    func testErfDouble() {
        let xs = Self.inputs([(-7, 7), (-1, 1), (0.45, 0.8)], logRange: (-1074, 3, true), extra: Self.specials)
        sweep("erf", bound: 0.75, xs, DetMath.erf, { erfl($0) })
    }

    func testSinCosDouble() {
        var xs = Self.inputs([(-10, 10), (-1e6, 1e6), (2.6e8, 2.8e8)], logRange: (-1074, 1024, true), extra: Self.specials)
        // Near multiples of π/2 (hardest cancellation for Cody–Waite).
        for k in 1...(Self.n / 8) { let x = Double(k) * 1.5707963267948966; xs.append(x); xs.append(x.nextUp) }
        // Known hard case for huge arguments (close to a multiple of π/2).
        xs.append(Double(sign: .plus, exponent: 976, significand: 0x1.c2b85af4e8d36p0))
        xs.append(6381956970095103.0 * 0x1p797)
        sweep("sin", bound: 0.7, xs, DetMath.sin, { sinl($0) })
        sweep("cos", bound: 0.7, xs, DetMath.cos, { cosl($0) })
    }

    func testPowDouble() {
        var g = Rng(state: 11)
        var xs: [Double] = [], ys: [Double] = []
        for _ in 0..<(Self.n / 2) { xs.append(g.uniform(0, 10)); ys.append(g.uniform(-100, 100)) }
        for _ in 0..<(Self.n / 2) {     // large |y·log x| near the overflow/underflow limits
            let x = g.uniform(0.5, 2), t = g.uniform(-745, 709)
            xs.append(x); ys.append(t / Double(logl(Float80(x))))
        }
        for _ in 0..<(Self.n / 4) {     // x near 1, huge y
            let x = 1 + g.uniform(-1e-3, 1e-3); xs.append(x); ys.append(g.uniform(-700, 700) / (x - 1))
        }
        for _ in 0..<(Self.n / 4) {     // negative bases, integer exponents; subnormal bases
            xs.append(-g.uniform(0, 4)); ys.append(Double(Int(g.next() % 201) - 100))
            xs.append(g.logUniform(-1074, -1000, signed: false)); ys.append(g.uniform(-1.05, 0.99))
        }
        var worst = 0.0, wx = 0.0, wy = 0.0
        for i in xs.indices {
            let err = Self.ulpError(DetMath.pow(xs[i], ys[i]), powl(Float80(xs[i]), Float80(ys[i])))
            if err > worst || err.isNaN { worst = err; wx = xs[i]; wy = ys[i] }
        }
        print("pow        Double  \(String(format: "%.3f", worst))  \(xs.count)   (worst at \(wx), \(wy))")
        XCTAssertLessThanOrEqual(worst, 0.6, "pow max error \(worst) ulp at \(wx), \(wy)")
    }
    #endif

    // MARK: - Float accuracy (Double glibc reference)

    #if canImport(Glibc)
    static func ulpErrorF(_ y: Float, _ ref: Double) -> Double {
        if ref.isNaN { return y.isNaN ? 0 : .infinity }
        if y.isNaN { return .infinity }
        let r = Float(ref)
        if r.isInfinite || y.isInfinite { return y == r ? 0 : .infinity }
        if ref == 0 { return y == 0 ? 0 : .infinity }
        let e = Swift.max(Int(ref.exponent) - 23, -149)
        return Swift.abs(Double(y) - ref) / Double(sign: .plus, exponent: e, significand: 1)
    }

    func sweepF(_ name: String, bound: Double, lo: Float, hi: Float, _ f: (Float) -> Float, _ ref: (Double) -> Double) {
        var xs: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, .leastNonzeroMagnitude,
                           -.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        let m = Self.n
        for i in 0..<m { xs.append(lo + (hi - lo) * Float(i) / Float(m - 1)) }
        var g = Rng(state: 5)
        for _ in 0..<(m / 2) { xs.append(Float(bitPattern: UInt32(truncatingIfNeeded: g.next()))) }
        var worst = 0.0, wx: Float = 0
        for x in xs {
            let err = Self.ulpErrorF(f(x), ref(Double(x)))
            if err > worst || err.isNaN { worst = err; wx = x }
        }
        print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0))Float   \(String(format: "%.3f", worst))  \(xs.count)   (worst at \(wx))")
        XCTAssertLessThanOrEqual(worst, bound, "\(name) Float max error \(worst) ulp at x = \(wx)")
    }

    func testFloatFunctions() {
        // glibc double references are themselves < 1 ulp of Double, i.e. ~2^-29 ulp of Float.
        sweepF("exp", bound: 0.501, lo: -104, hi: 89, DetMath.exp, { Glibc.exp($0) })
        sweepF("expm1", bound: 0.501, lo: -20, hi: 89, DetMath.expm1, { Glibc.expm1($0) })
        sweepF("log", bound: 0.501, lo: 0, hi: 4, DetMath.log, { Glibc.log($0) })
        sweepF("log1p", bound: 0.501, lo: -1, hi: 4, DetMath.log1p, { Glibc.log1p($0) })
        sweepF("tanh", bound: 0.501, lo: -10, hi: 10, DetMath.tanh, { Glibc.tanh($0) })
        sweepF("sigmoid", bound: 0.501, lo: -110, hi: 20, DetMath.sigmoid, { 1 / (1 + Glibc.exp(-$0)) })
        sweepF("softplus", bound: 0.501, lo: -110, hi: 110, DetMath.softplus,
               { $0 > 0 ? $0 + Glibc.log1p(Glibc.exp(-$0)) : Glibc.log1p(Glibc.exp($0)) })
        sweepF("erf", bound: 0.501, lo: -5, hi: 5, DetMath.erf, { Glibc.erf($0) })
        sweepF("sin", bound: 0.501, lo: -100, hi: 100, DetMath.sin, { Glibc.sin($0) })
        sweepF("cos", bound: 0.501, lo: -100, hi: 100, DetMath.cos, { Glibc.cos($0) })
        sweepF("pow(x,2.5)", bound: 0.501, lo: 0, hi: 1e15, { DetMath.pow($0, 2.5) }, { Glibc.pow($0, 2.5) })
        sweepF("pow(1.7,y)", bound: 0.501, lo: -200, hi: 200, { DetMath.pow(1.7, $0) }, { Glibc.pow(Double(Float(1.7)), $0) })
    }
    #endif


    // MARK: - Special values (C99 Annex F)

    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    func testSpecialValues() {
        let inf = Double.infinity, nan = Double.nan, tiny = Double.leastNonzeroMagnitude
        let cases: [(String, (Double) -> Double, Double, Double)] = [
            ("exp", DetMath.exp, -inf, 0), ("exp", DetMath.exp, inf, inf), ("exp", DetMath.exp, nan, nan),
            ("exp", DetMath.exp, 0, 1), ("exp", DetMath.exp, -0.0, 1), ("exp", DetMath.exp, 1000, inf),
            ("exp", DetMath.exp, -1000, 0), ("exp", DetMath.exp, tiny, 1), ("exp", DetMath.exp, -745.2, 0),
            ("exp", DetMath.exp, -745.1, tiny), ("exp", DetMath.exp, 709.8, inf),
            ("expm1", DetMath.expm1, -inf, -1), ("expm1", DetMath.expm1, inf, inf), ("expm1", DetMath.expm1, nan, nan),
            ("expm1", DetMath.expm1, 0, 0), ("expm1", DetMath.expm1, -0.0, -0.0), ("expm1", DetMath.expm1, tiny, tiny),
            ("expm1", DetMath.expm1, -tiny, -tiny), ("expm1", DetMath.expm1, 1000, inf),
            ("log", DetMath.log, 0, -inf), ("log", DetMath.log, -0.0, -inf), ("log", DetMath.log, -1, nan),
            ("log", DetMath.log, -inf, nan), ("log", DetMath.log, inf, inf), ("log", DetMath.log, 1, 0),
            ("log", DetMath.log, nan, nan), ("log", DetMath.log, -tiny, nan),
            ("log1p", DetMath.log1p, -1, -inf), ("log1p", DetMath.log1p, -2, nan), ("log1p", DetMath.log1p, 0, 0),
            ("log1p", DetMath.log1p, -0.0, -0.0), ("log1p", DetMath.log1p, inf, inf), ("log1p", DetMath.log1p, -inf, nan),
            ("log1p", DetMath.log1p, tiny, tiny), ("log1p", DetMath.log1p, nan, nan),
            ("tanh", DetMath.tanh, inf, 1), ("tanh", DetMath.tanh, -inf, -1), ("tanh", DetMath.tanh, 0, 0),
            ("tanh", DetMath.tanh, -0.0, -0.0), ("tanh", DetMath.tanh, nan, nan), ("tanh", DetMath.tanh, -tiny, -tiny),
            ("tanh", DetMath.tanh, 1000, 1),
            ("sigmoid", DetMath.sigmoid, -inf, 0), ("sigmoid", DetMath.sigmoid, inf, 1), ("sigmoid", DetMath.sigmoid, 0, 0.5),
            ("sigmoid", DetMath.sigmoid, -0.0, 0.5), ("sigmoid", DetMath.sigmoid, nan, nan), ("sigmoid", DetMath.sigmoid, -1000, 0),
            ("softplus", DetMath.softplus, -inf, 0), ("softplus", DetMath.softplus, inf, inf),
            ("softplus", DetMath.softplus, nan, nan), ("softplus", DetMath.softplus, 1000, 1000),
            ("softplus", DetMath.softplus, -1000, 0), ("softplus", DetMath.softplus, 0, 0x1.62e42fefa39efp-1),
            ("erf", DetMath.erf, inf, 1), ("erf", DetMath.erf, -inf, -1), ("erf", DetMath.erf, 0, 0),
            ("erf", DetMath.erf, -0.0, -0.0), ("erf", DetMath.erf, nan, nan), ("erf", DetMath.erf, 30, 1),
            ("sin", DetMath.sin, 0, 0), ("sin", DetMath.sin, -0.0, -0.0), ("sin", DetMath.sin, inf, nan),
            ("sin", DetMath.sin, -inf, nan), ("sin", DetMath.sin, nan, nan), ("sin", DetMath.sin, -tiny, -tiny),
            ("cos", DetMath.cos, 0, 1), ("cos", DetMath.cos, -0.0, 1), ("cos", DetMath.cos, inf, nan),
            ("cos", DetMath.cos, -inf, nan), ("cos", DetMath.cos, nan, nan),
        ]
        for (name, f, x, want) in cases {
            let got = f(x)
            XCTAssertTrue(Self.same(got, want), "\(name)(\(x)) = \(got), want \(want)")
            // The Float overloads keep every special value.
            let gotF: Float
            switch name {
            case "exp": gotF = DetMath.exp(Float(x))
            case "expm1": gotF = DetMath.expm1(Float(x))
            case "log": gotF = DetMath.log(Float(x))
            case "log1p": gotF = DetMath.log1p(Float(x))
            case "tanh": gotF = DetMath.tanh(Float(x))
            case "sigmoid": gotF = DetMath.sigmoid(Float(x))
            case "softplus": gotF = DetMath.softplus(Float(x))
            case "erf": gotF = DetMath.erf(Float(x))
            case "sin": gotF = DetMath.sin(Float(x))
            default: gotF = DetMath.cos(Float(x))
            }
            if !x.isFinite || x == 0 {
                let wantF = Float(want)
                XCTAssertTrue(gotF.bitPattern == wantF.bitPattern || (gotF.isNaN && wantF.isNaN), "\(name)(Float \(x)) = \(gotF)")
            }
        }
    }

    #if canImport(Glibc)
    /// pow's special cases, bit for bit against glibc (which follows C99 F.9.4.4) on a grid.
    func testPowSpecialGrid() {
        let v: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 2.5, -2.5,
                           1e300, -1e300, 1e-300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0x1p53, -0x1p53, 0x1p53 + 2, 1023, -1075, 0.25]
        var bad = 0
        for x in v {
            for y in v {
                let want = Glibc.pow(x, y), got = DetMath.pow(x, y)
                if !Self.same(want, got) {
                    bad += 1
                    XCTFail("pow(\(x), \(y)) = \(got), glibc \(want)")
                }
                let wf = Float(Glibc.pow(Double(Float(x)), Double(Float(y)))), gf = DetMath.pow(Float(x), Float(y))
                if !(wf.bitPattern == gf.bitPattern || (wf.isNaN && gf.isNaN)) {
                    bad += 1
                    XCTFail("powf(\(Float(x)), \(Float(y))) = \(gf), want \(wf)")
                }
            }
        }
        XCTAssertEqual(bad, 0)
    }
    #endif

    // MARK: - Goldens (cross-platform bit patterns; a change here means the algorithm changed)

    static let goldenD: [(String, Double, UInt64)] = [
        ("exp", 1.0, 0x4005bf0a8b145769), ("exp", -0.5, 0x3fe368b2fc6f960a), ("exp", -708.9, 0x9ab77c6e3d8a5), ("exp", 700.25, 0x7f12fd8e4cbfa413),
        ("expm1", 1e-10, 0x3ddb7cdfd9dda4e3), ("expm1", 0.3, 0x3fd6641632306a56), ("expm1", -2.5, 0xbfed5f8f47ed617b),
        ("log", 10.0, 0x40026bb1bbb55516), ("log", 0x1p-1070, 0xc0872d57016e7789), ("log", 0.999, 0xbf5064670d979b73),
        ("log1p", -0.3, 0xbfd6d3c324e13f4e), ("log1p", 1e-5, 0x3ee4f8aea9ae7317),
        ("tanh", 0.5, 0x3fdd9353d7568af3), ("tanh", -3.0, 0xbfefd77d111a0b00),
        ("sigmoid", -3.0, 0x3fa848343c905445), ("sigmoid", 0.75, 0x3fe5bbd4f7a323ec), ("sigmoid", -700.0, 0xd14f2b0fb9307f),
        ("softplus", 2.0, 0x400103f2d54301d5), ("softplus", -5.0, 0x3f7b818da245a728),
        ("erf", 0.3, 0x3fd50838881dea0f), ("erf", 0.7, 0x3fe5b08c21171646), ("erf", -2.3, 0xbfeff6a295bcd35c),
        ("sin", 0.5, 0x3fdeaee8744b05f0), ("sin", 1e22, 0xbfeb453ab76bf397), ("sin", 355.0, 0xbeff9bd0307d1de3),
        ("cos", 1e6, 0x3fedf9df9906d32c), ("cos", 1.5707963267948966, 0x3c91a62633145c07), ("cos", 0x1p1000, 0x3fef9785160c8815),
        ("pow2.5", 2.5, 0x3fa1410bb40d75d5), ("pow-3", -3.0, 0xc06e600000000000), ("powx0.3", 1e-300, 0x2d404bd984990e92),
    ]

    static func evalD(_ name: String, _ x: Double) -> Double {
        switch name {
        case "exp": return DetMath.exp(x)
        case "expm1": return DetMath.expm1(x)
        case "log": return DetMath.log(x)
        case "log1p": return DetMath.log1p(x)
        case "tanh": return DetMath.tanh(x)
        case "sigmoid": return DetMath.sigmoid(x)
        case "softplus": return DetMath.softplus(x)
        case "erf": return DetMath.erf(x)
        case "sin": return DetMath.sin(x)
        case "cos": return DetMath.cos(x)
        case "pow2.5": return DetMath.pow(x, -3.7)
        case "pow-3": return DetMath.pow(x, 5)
        default: return DetMath.pow(x, 0.3)
        }
    }

    static func evalF(_ name: String, _ x: Float) -> Float {
        switch name {
        case "exp": return DetMath.exp(x)
        case "expm1": return DetMath.expm1(x)
        case "log": return DetMath.log(x)
        case "log1p": return DetMath.log1p(x)
        case "tanh": return DetMath.tanh(x)
        case "sigmoid": return DetMath.sigmoid(x)
        case "softplus": return DetMath.softplus(x)
        case "erf": return DetMath.erf(x)
        case "sin": return DetMath.sin(x)
        case "cos": return DetMath.cos(x)
        case "pow2.5": return DetMath.pow(x, -3.7)
        case "pow-3": return DetMath.pow(x, 5)
        default: return DetMath.pow(x, 0.3)
        }
    }

    static let goldenF: [(String, Float, UInt32)] = [
        ("exp", 1.0, 0x402df854), ("exp", -87.5, 0x6cb2bc), ("exp", -100.0, 0x1b), ("expm1", 1e-5, 0x3727c5e3), ("log", 10.0, 0x40135d8e),
        ("log1p", -0.3, 0xbeb69e1a), ("tanh", 0.5, 0x3eec9a9f), ("sigmoid", -3.0, 0x3d4241a2), ("softplus", 2.0, 0x40081f97),
        ("erf", 0.7, 0x3f2d8461), ("sin", 1e22, 0xbf3becc4), ("cos", 100.0, 0x3f5cc0ee), ("pow2.5", 2.5, 0x3d0a085d), ("pow-3", -3.0, 0xc3730000),
        ("powx0.3", 1e-30, 0x30897058),
    ]

    func testGoldenBits() {
        var bad = 0
        for (name, x, want) in Self.goldenD {
            let got = Self.evalD(name, x).bitPattern
            if got != want {
                bad += 1
                print("GOLDEN-D (\"\(name)\", \(x), 0x\(String(got, radix: 16)))")
            }
        }
        for (name, x, want) in Self.goldenF {
            let got = Self.evalF(name, x).bitPattern
            if got != want {
                bad += 1
                print("GOLDEN-F (\"\(name)\", \(x), 0x\(String(got, radix: 16)))")
            }
        }
        XCTAssertEqual(bad, 0, "golden bit patterns changed")
    }
}
