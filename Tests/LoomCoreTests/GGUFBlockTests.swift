import LoomCore
import XCTest

/// Block dequantization against an independent element-by-element reading of the layouts in
/// docs/formats.md, computed in Double (exact products; one rounding to Float, which equals the
/// binary32 result because Double has more than 2·24+2 bits), on random bytes — every code, every
/// sign, subnormal, infinite and NaN scales.
final class GGUFBlockTests: XCTestCase {
    /// Element i of one block, by the documented formula.
    static func reference(_ t: GGMLType, _ b: [UInt8], _ i: Int) -> Float {
        func h(_ o: Int) -> Double { F16(bitPattern: UInt16(b[o]) | UInt16(b[o + 1]) << 8).doubleValue }
        func nib(_ base: Int, _ i: Int) -> Int { i < 16 ? Int(b[base + i] & 15) : Int(b[base + i - 16] >> 4) }
        func bit(_ base: Int, _ i: Int) -> Int { Int(b[base + i / 8] >> UInt8(i % 8)) & 1 }
        func k6(_ j: Int) -> (Double, Double) {
            let s = Array(b[4..<16])
            if j < 4 { return (Double(s[j] & 63), Double(s[j + 4] & 63)) }
            return (Double(Int(s[j + 4] & 15) + Int(s[j - 4] >> 6) * 16), Double(Int(s[j + 4] >> 4) + Int(s[j] >> 6) * 16))
        }
        switch t {
        case .q8_0: return Float(h(0) * Double(Int8(bitPattern: b[2 + i])))
        case .q4_0: return Float(h(0) * Double(nib(2, i) - 8))
        case .q4_1: return Float(h(0) * Double(nib(4, i)) + h(2))
        case .q5_0: return Float(h(0) * Double(nib(6, i) + 16 * bit(2, i) - 16))
        case .q5_1: return Float(h(0) * Double(nib(8, i) + 16 * bit(4, i)) + h(2))
        case .q4_K, .q5_K:
            let j = i / 32, l = i % 32
            let byte = b[(t == .q4_K ? 16 : 48) + 32 * (j / 2) + l]
            var q = Int(j % 2 == 0 ? byte & 15 : byte >> 4)
            if t == .q5_K { q += 16 * (Int(b[16 + l] >> UInt8(j)) & 1) }
            let (sc, m) = k6(j)
            return Float(h(0) * sc * Double(q) - h(2) * m)
        case .q6_K:
            let half = i / 128, r = i % 128, k = r / 32, l = r % 32
            let lowByte = b[64 * half + 32 * (k % 2) + l]
            let low = Int(k < 2 ? lowByte & 15 : lowByte >> 4)
            let high = Int(b[128 + 32 * half + l] >> UInt8(2 * k)) & 3
            return Float(h(208) * Double(Int8(bitPattern: b[192 + i / 16])) * Double(low + 16 * high - 32))
        case .f32: return Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
        case .f16: return Float(h(0))
        case .bf16: return BF16(bitPattern: UInt16(b[0]) | UInt16(b[1]) << 8).floatValue
        default: fatalError()
        }
    }

    static func sameBits(_ a: Float, _ b: Float) -> Bool { (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern }

    func testEveryFormatAgainstTheDocumentedFormula() {
        var rng = GGUFRNG(42)
        for t in GGMLType.allCases where t.canDequantize {
            var checked = 0
            for trial in 0..<300 {
                var block = rng.bytes(t.typeSize)
                // Mostly finite, normal scales; every 10th block keeps random (possibly NaN/inf/subnormal) scales.
                if trial % 10 != 0 && t.blockSize > 1 {
                    for o in Self.halfFields(t) {
                        let bits = UInt16(0x2000 + rng.below(0x2800)) | (rng.below(2) == 0 ? 0 : 0x8000)
                        block[o] = UInt8(bits & 0xFF); block[o + 1] = UInt8(bits >> 8)
                    }
                }
                var out = [Float](repeating: .nan, count: t.blockSize)
                block.withUnsafeBytes { src in
                    out.withUnsafeMutableBufferPointer { GGUFBlocks.dequantize(t, src.baseAddress, blocks: 1, into: $0.baseAddress) }
                }
                for i in 0..<t.blockSize {
                    let want = Self.reference(t, block, i)
                    if !Self.sameBits(out[i], want) {
                        XCTFail("\(t.name) trial \(trial) element \(i): \(out[i]) (\(out[i].bitPattern)) vs \(want) (\(want.bitPattern))")
                        return
                    }
                    checked += 1
                }
            }
            XCTAssertEqual(checked, 300 * t.blockSize, t.name)
        }
    }

    /// Byte offsets of the f16 scale fields of a block.
    static func halfFields(_ t: GGMLType) -> [Int] {
        switch t {
        case .q8_0, .q4_0, .q5_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q6_K: return [208]
        default: return []
        }
    }

    func testHandWrittenBlocks() {
        func deq(_ t: GGMLType, _ b: [UInt8]) -> [Float] {
            var out = [Float](repeating: 0, count: t.blockSize)
            b.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { GGUFBlocks.dequantize(t, src.baseAddress, blocks: 1, into: $0.baseAddress) } }
            return out
        }
        // Q8_0: d = 0.5; codes −128, −1, 0, 1, 127, then zeros.
        let q8 = f16Bytes([0x3800]) + [0x80, 0xFF, 0x00, 0x01, 0x7F] + [UInt8](repeating: 0, count: 27)
        XCTAssertEqual(Array(deq(.q8_0, q8).prefix(5)), [-64, -0.5, 0, 0.5, 63.5])
        // Q4_0: d = 2; byte 0x F0 → element 0 code 0 → −16, element 16 code 15 → 14.
        let q40 = f16Bytes([0x4000]) + [0xF0] + [UInt8](repeating: 0x88, count: 15)
        let v40 = deq(.q4_0, q40)
        XCTAssertEqual(v40[0], -16); XCTAssertEqual(v40[16], 14); XCTAssertEqual(v40[1], 0); XCTAssertEqual(v40[17], 0)
        // Q4_1: d = 1, m = −8 (0xC800): code 3 → −5; the rounding of the minimum's addition.
        let q41 = f16Bytes([0x3C00, 0xC800]) + [0x03] + [UInt8](repeating: 0, count: 15)
        XCTAssertEqual(deq(.q4_1, q41)[0], -5)
        XCTAssertEqual(deq(.q4_1, q41)[16], -8)
        // Q4_1 with d = 2^-24 (f16 subnormal) and m = 2048: d·q is exact, + m rounds to 2048.
        let tiny = f16Bytes([0x0001, 0x6800]) + [UInt8](repeating: 0xFF, count: 16)
        XCTAssertEqual(deq(.q4_1, tiny)[0], 2048)
        // Zero scale times a code gives +0 (−0 with a negative zero scale).
        let negZero = f16Bytes([0x8000]) + [UInt8](repeating: 0x99, count: 16)
        XCTAssertEqual(deq(.q4_0, negZero)[0].bitPattern, (-Float(0)).bitPattern)
        // Q5_0: qh bit 0 set → element 0 code 16 + low nibble.
        let q50 = f16Bytes([0x3C00]) + [0x01, 0, 0, 0x80] + [0x0F] + [UInt8](repeating: 0, count: 15)
        let v50 = deq(.q5_0, q50)
        XCTAssertEqual(v50[0], 15)        // 0x0F | 16 − 16
        XCTAssertEqual(v50[31], 0)        // bit 31 set, nibble 0 → 16 − 16
        XCTAssertEqual(v50[1], -16)
    }

    func testHalfToFloatMatchesTheDTypeConversionForEveryPattern() {
        for bits in 0...0xFFFF {
            let h = UInt16(bits)
            let a = GGUFBlocks.halfToFloat(h), b = F16(bitPattern: h).floatValue
            if b.isNaN {
                XCTAssertTrue(a.isNaN)
                // Sign and payload kept, quiet bit set (what F16C / ARM conversions give).
                XCTAssertEqual(a.bitPattern, UInt32(h & 0x8000) << 16 | 0x7FC0_0000 | UInt32(h & 0x3FF) << 13, "\(bits)")
            } else {
                XCTAssertEqual(a.bitPattern, b.bitPattern, "\(bits)")
            }
        }
    }

    func testBF16KeepsNaNPayloadLikeNumpy() {
        let b: [UInt8] = [0x81, 0x7F]  // 0x7F81: a signalling NaN in bf16
        var out: [Float] = [0]
        b.withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { GGUFBlocks.dequantize(.bf16, s.baseAddress, blocks: 1, into: $0.baseAddress) } }
        XCTAssertEqual(out[0].bitPattern, 0x7F81_0000)
    }
}
