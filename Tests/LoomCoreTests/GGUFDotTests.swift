import LoomCore
import XCTest

/// The quantized matrix view, the activation quantization and the integer dot kernels.
final class GGUFDotTests: XCTestCase {
    static let integerTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// A GGUF holding one random [rows, cols] matrix of `t` (finite f16 scales of both signs).
    static func matrixFile(_ t: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var rng = GGUFRNG(seed)
        var data: [UInt8] = []
        for _ in 0..<(rows * cols / t.blockSize) {
            var block = rng.bytes(t.typeSize)
            for o in GGUFBlockTests.halfFields(t) {
                let bits = UInt16(0x1C00 + rng.below(0x1800)) | (rng.below(2) == 0 ? 0 : 0x8000)
                block[o] = UInt8(bits & 0xFF); block[o + 1] = UInt8(bits >> 8)
            }
            data += block
        }
        return makeGGUF(tensors: [TensorSpec(name: "w", dims: [UInt64(cols), UInt64(rows)], type: t.rawValue, data: data)])
    }

    static func activations(_ n: Int, seed: UInt64) -> [Float] {
        var rng = GGUFRNG(seed)
        return (0..<n).map { i in rng.float() * (i % 7 == 0 ? 4 : 1) }
    }

    func testActivationQuantization() {
        var x = [Float](repeating: 0, count: 64)
        x[0] = 127; x[1] = -127; x[2] = 0.5; x[3] = 1.5; x[4] = -2.5; x[5] = 63.5; x[6] = 1e-3
        let a = GGUFQ8Activations(x)
        XCTAssertEqual(a.scales, [1, 0])
        XCTAssertEqual(Array(a.codes.prefix(7)), [127, -127, 0, 2, -2, 64, 0], "ties round to even")
        XCTAssertEqual(a.sums, [127 - 127 + 0 + 2 - 2 + 64, 0])
        XCTAssertEqual(a.dequantized[3], 2)
        // scale = amax/127 in binary32, codes = roundEven(x / scale) clamped to ±127.
        let y = GGUFDotTests.activations(96, seed: 7)
        let q = GGUFQ8Activations(y)
        for b in 0..<3 {
            let amax = y[(32 * b)..<(32 * b + 32)].map { $0.magnitude }.max()!
            XCTAssertEqual(q.scales[b].bitPattern, (amax / 127).bitPattern)
            var s: Int32 = 0
            for i in (32 * b)..<(32 * b + 32) {
                let c = Int8(max(-127, min(127, (y[i] / q.scales[b]).rounded(.toNearestOrEven))))
                XCTAssertEqual(q.codes[i], c)
                s += Int32(c)
            }
            XCTAssertEqual(q.sums[b], s)
            XCTAssertTrue(q.codes[(32 * b)..<(32 * b + 32)].contains { $0.magnitude == 127 })
        }
        // Non-finite values poison their block only; tiny blocks underflow to a zero scale.
        var z = [Float](repeating: 1, count: 96)
        z[33] = .infinity; z[64] = 1e-44; for i in 65..<96 { z[i] = 0 }
        let qz = GGUFQ8Activations(z)
        XCTAssertEqual(qz.scales[0], 1 / 127)
        XCTAssertTrue(qz.scales[1].isNaN)
        XCTAssertEqual(qz.scales[2], 0)
        XCTAssertEqual(qz.codes[64], 0)
        z[33] = .nan
        XCTAssertTrue(GGUFQ8Activations(z).scales[1].isNaN)
    }

    /// The kernel's documented formula, written out element by element with the test's own
    /// decoders: exact integer block sums, then the per-block fma chain in the documented order.
    static func expectedDot(_ t: GGMLType, _ row: [UInt8], _ a: GGUFQ8Activations, cols: Int) -> Float {
        var acc: Float = 0
        let bs = t.blockSize, ts = t.typeSize
        for blk in 0..<(cols / bs) {
            let block = Array(row[(blk * ts)..<(blk * ts + ts)])
            func h(_ o: Int) -> Float { F16(bitPattern: UInt16(block[o]) | UInt16(block[o + 1]) << 8).floatValue }
            for sub in 0..<(bs / 32) {
                let ab = blk * (bs / 32) + sub
                let da = a.scales[ab]
                func code(_ i: Int) -> Int { codeOf(t, block, sub * 32 + i) }
                var isum = 0
                for i in 0..<32 { isum += code(i) * Int(a.codes[ab * 32 + i]) }
                switch t {
                case .q8_0, .q4_0, .q5_0:
                    acc = acc.addingProduct(Float(isum), h(0) * da)
                case .q4_1, .q5_1:
                    acc = acc.addingProduct(Float(isum), h(0) * da)
                    acc = acc.addingProduct(Float(a.sums[ab]), h(2) * da)
                case .q4_K, .q5_K:
                    let sm = kScaleMin(block, sub)
                    acc = acc.addingProduct(Float(sm.0 * isum), h(0) * da)
                    acc = acc.addingProduct(Float(-sm.1 * Int(a.sums[ab])), h(2) * da)
                case .q6_K:
                    var s = 0
                    for g in 0..<2 {
                        var part = 0
                        for i in (16 * g)..<(16 * g + 16) { part += code(i) * Int(a.codes[ab * 32 + i]) }
                        s += Int(Int8(bitPattern: block[192 + (sub * 32 + 16 * g) / 16])) * part
                    }
                    acc = acc.addingProduct(Float(s), h(208) * da)
                default: fatalError()
                }
            }
        }
        return acc
    }

    static func kScaleMin(_ b: [UInt8], _ j: Int) -> (Int, Int) {
        let s = Array(b[4..<16])
        if j < 4 { return (Int(s[j] & 63), Int(s[j + 4] & 63)) }
        return (Int(s[j + 4] & 15) + Int(s[j - 4] >> 6) * 16, Int(s[j + 4] >> 4) + Int(s[j] >> 6) * 16)
    }

    /// The signed integer code of element i of a block (Q4_0 and Q5_0 centred; Q6_K centred).
    static func codeOf(_ t: GGMLType, _ b: [UInt8], _ i: Int) -> Int {
        func nib(_ base: Int, _ i: Int) -> Int { i < 16 ? Int(b[base + i] & 15) : Int(b[base + i - 16] >> 4) }
        func bit(_ base: Int, _ i: Int) -> Int { Int(b[base + i / 8] >> UInt8(i % 8)) & 1 }
        switch t {
        case .q8_0: return Int(Int8(bitPattern: b[2 + i]))
        case .q4_0: return nib(2, i) - 8
        case .q4_1: return nib(4, i)
        case .q5_0: return nib(6, i) + 16 * bit(2, i) - 16
        case .q5_1: return nib(8, i) + 16 * bit(4, i)
        case .q4_K, .q5_K:
            let j = i / 32, l = i % 32
            let byte = b[(t == .q4_K ? 16 : 48) + 32 * (j / 2) + l]
            var q = Int(j % 2 == 0 ? byte & 15 : byte >> 4)
            if t == .q5_K { q += 16 * (Int(b[16 + l] >> UInt8(j)) & 1) }
            return q
        case .q6_K:
            let half = i / 128, r = i % 128, k = r / 32, l = r % 32
            let lowByte = b[64 * half + 32 * (k % 2) + l]
            let low = Int(k < 2 ? lowByte & 15 : lowByte >> 4)
            return low + 16 * (Int(b[128 + 32 * half + l] >> UInt8(2 * k)) & 3) - 32
        default: fatalError()
        }
    }

    func testIntegerKernelsFollowTheDocumentedFormula() throws {
        for (n, t) in Self.integerTypes.enumerated() {
            let rows = 5, cols = t.blockSize == 256 ? 512 : 96
            let g = try parseGGUF(Self.matrixFile(t, rows: rows, cols: cols, seed: UInt64(100 + n)))
            let m = try GGUFQuantizedMatrix(g, g.tensors[0])
            XCTAssertEqual(m.rows, rows); XCTAssertEqual(m.cols, cols); XCTAssertEqual(m.type, t)
            let x = Self.activations(cols, seed: UInt64(n))
            let a = GGUFQ8Activations(x)
            var all = [Float](repeating: .nan, count: rows)
            all.withUnsafeMutableBufferPointer { m.multiply(SerialContext(), a, into: $0) }
            let bytes = Array(g.bytes(of: g.tensors[0]))
            for r in 0..<rows {
                let row = Array(bytes[(r * m.rowBytes)..<((r + 1) * m.rowBytes)])
                let want = Self.expectedDot(t, row, a, cols: cols)
                let got = m.dot(row: r, a)
                XCTAssertEqual(got.bitPattern, want.bitPattern, "\(t.name) row \(r): \(got) vs \(want)")
                XCTAssertEqual(all[r].bitPattern, got.bitPattern, "\(t.name) multiply row \(r)")
                // Close to the float reference path (the difference is the activations' 8-bit rounding).
                let ref = x.withUnsafeBufferPointer { m.dotReference(row: r, $0) }
                let w = m.dequantizeRow(r)
                let wmax = w.map { $0.magnitude }.reduce(0, max)
                let xq = a.dequantized
                var mass: Float = 0, halfSteps: Float = 0
                for k in 0..<cols { mass += (w[k] * xq[k]).magnitude; halfSteps += a.scales[k / 32] / 2 }
                let bound = wmax * halfSteps * 1.01 + 1e-4 * (1 + mass)
                XCTAssertLessThanOrEqual((got - ref).magnitude, bound, "\(t.name) row \(r): \(got) vs float \(ref)")
                // With the dequantized activations the float path agrees to rounding error.
                let refq = xq.withUnsafeBufferPointer { m.dotReference(row: r, $0) }
                XCTAssertLessThanOrEqual((got - refq).magnitude, 1e-5 * (1 + mass), "\(t.name) row \(r)")
                XCTAssertNotEqual(got, 0)
            }
        }
    }

    func testReferencePathIsTheFmaChainOverTheDequantizedRow() throws {
        let g = try parseGGUF(Self.matrixFile(.q4_1, rows: 3, cols: 64, seed: 9))
        let m = try GGUFQuantizedMatrix(g, g.tensors[0])
        let all = try g.dequantize(g.tensors[0])
        let x = Self.activations(64, seed: 3)
        for r in 0..<3 {
            XCTAssertEqual(m.dequantizeRow(r), Array(all[(64 * r)..<(64 * r + 64)]))
            var acc: Float = 0
            for k in 0..<64 { acc = acc.addingProduct(all[64 * r + k], x[k]) }
            XCTAssertEqual(x.withUnsafeBufferPointer { m.dotReference(row: r, $0) }.bitPattern, acc.bitPattern)
        }
    }

    /// Integer accumulation is exact: extreme codes everywhere (the Int32 bounds of docs/formats.md)
    /// give exactly the integer the formula says.
    func testExtremeCodesStayExact() throws {
        // Q6_K with every code −32 and every scale −128, activations all −127 codes: per block
        // isum = 2 · (−128) · 16 · (−32)(−127) = −16,646,144 (below 2^24, exact as Float).
        var block = [UInt8](repeating: 0, count: 210)
        for i in 192..<208 { block[i] = 0x80 }
        block[208] = 0x00; block[209] = 0x3C  // d = 1
        let g = try parseGGUF(makeGGUF(tensors: [TensorSpec(name: "w", dims: [256, 1], type: 14, data: block)]))
        let m = try GGUFQuantizedMatrix(g, g.tensors[0])
        let a = GGUFQ8Activations([Float](repeating: -1, count: 256))
        XCTAssertEqual(a.codes[0], -127)
        let perBlock = Float(2 * -128 * 16 * (-32 * -127))
        var acc: Float = 0
        for _ in 0..<8 { acc = acc.addingProduct(perBlock, 1 * (1 / 127)) }
        XCTAssertEqual(m.dot(row: 0, a).bitPattern, acc.bitPattern)
    }

    func testMatrixViewRefusesOtherTypesAndShapes() throws {
        let f32 = try parseGGUF(makeGGUF(tensors: [TensorSpec(name: "n", dims: [4], type: 0, data: [UInt8](repeating: 0, count: 16))]))
        XCTAssertThrowsError(try GGUFQuantizedMatrix(f32, f32.tensors[0])) { e in
            XCTAssertTrue("\(e)".contains("F32 has no quantized dot product"), "\(e)")
            XCTAssertTrue((e as? LoomError)?.path.contains("tensor n") ?? false)
        }
        let cube = try parseGGUF(makeGGUF(tensors: [TensorSpec(name: "c", dims: [32, 2, 2], type: 8, data: [UInt8](repeating: 0, count: 136))]))
        XCTAssertThrowsError(try GGUFQuantizedMatrix(cube, cube.tensors[0])) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .shapeMismatch)
        }
        let flat = try parseGGUF(makeGGUF(tensors: [TensorSpec(name: "c", dims: [32, 2, 1, 1], type: 8, data: [UInt8](repeating: 0, count: 68))]))
        XCTAssertEqual(try GGUFQuantizedMatrix(flat, flat.tensors[0]).rows, 2)
        let empty = try parseGGUF(makeGGUF(tensors: [TensorSpec(name: "c", dims: [0, 2], type: 8, data: [])]))
        XCTAssertThrowsError(try GGUFQuantizedMatrix(empty, empty.tensors[0]))
    }

    /// A NaN activation makes the dot product NaN (not silently 0).
    func testNonFiniteActivationsGiveNaN() throws {
        let g = try parseGGUF(Self.matrixFile(.q8_0, rows: 1, cols: 64, seed: 1))
        let m = try GGUFQuantizedMatrix(g, g.tensors[0])
        var x = Self.activations(64, seed: 2)
        x[40] = .infinity
        XCTAssertTrue(m.dot(row: 0, GGUFQ8Activations(x)).isNaN)
    }
}
