import LoomCore
import XCTest

final class GGUFReaderTests: XCTestCase {
    /// One value of every type, nested arrays, and arrays of every element type.
    static let allTypes: [(String, MV)] = [
        ("v.u8", .u8(250)), ("v.i8", .i8(-7)), ("v.u16", .u16(65000)), ("v.i16", .i16(-32000)),
        ("v.u32", .u32(4_000_000_000)), ("v.i32", .i32(-2_000_000_000)), ("v.f32", .f32(-1.5e-3)),
        ("v.bool", .bool(true)), ("v.string", .str("héllo ✓ 🦙")), ("v.empty", .str("")),
        ("v.u64", .u64(18_000_000_000_000_000_000)), ("v.i64", .i64(-9_000_000_000_000_000_000)),
        ("v.f64", .f64(2.718281828459045)),
        ("a.u8", .arr(0, [.u8(1), .u8(255)])), ("a.i8", .arr(1, [.i8(-128), .i8(127)])),
        ("a.u16", .arr(2, [.u16(7)])), ("a.i16", .arr(3, [.i16(-2), .i16(3)])),
        ("a.u32", .arr(4, [.u32(1), .u32(2), .u32(3)])), ("a.i32", .arr(5, [.i32(-1)])),
        ("a.f32", .arr(6, [.f32(0.5), .f32(-0.0)])), ("a.bool", .arr(7, [.bool(false), .bool(true)])),
        ("a.string", .arr(8, [.str("a"), .str(""), .str("ü")])), ("a.u64", .arr(10, [.u64(.max)])),
        ("a.i64", .arr(11, [.i64(.min)])), ("a.f64", .arr(12, [.f64(1e300)])), ("a.empty", .arr(6, [])),
        ("a.nested", .arr(9, [.arr(5, [.i32(1), .i32(2)]), .arr(8, [.str("x")]), .arr(9, [.arr(0, [.u8(9)])])])),
    ]

    func testEveryMetadataValueType() throws {
        for version: UInt32 in [2, 3] {
            let g = try parseGGUF(makeGGUF(version: version, metadata: Self.allTypes))
            XCTAssertEqual(g.version, version)
            XCTAssertEqual(g.metadata.count, Self.allTypes.count)
            XCTAssertEqual(g.metadata.keys, Self.allTypes.map { $0.0 })
            let m = g.metadata
            XCTAssertEqual(m["v.u8"], .u8(250))
            XCTAssertEqual(m["v.i8"], .i8(-7))
            XCTAssertEqual(m["v.u16"], .u16(65000))
            XCTAssertEqual(m["v.i16"], .i16(-32000))
            XCTAssertEqual(m["v.u32"], .u32(4_000_000_000))
            XCTAssertEqual(m["v.i32"], .i32(-2_000_000_000))
            XCTAssertEqual(m["v.f32"], .f32(-1.5e-3))
            XCTAssertEqual(m["v.bool"], .bool(true))
            XCTAssertEqual(m["v.string"]?.stringValue, "héllo ✓ 🦙")
            XCTAssertEqual(m["v.empty"]?.stringValue, "")
            XCTAssertEqual(m["v.u64"], .u64(18_000_000_000_000_000_000))
            XCTAssertEqual(m["v.i64"], .i64(-9_000_000_000_000_000_000))
            XCTAssertEqual(m["v.f64"]?.doubleValue, 2.718281828459045)
            XCTAssertEqual(m["v.u32"]?.intValue, 4_000_000_000)
            XCTAssertNil(m["v.u64"]?.intValue, "2^64-ish does not fit Int")
            XCTAssertEqual(m["v.f32"]?.doubleValue, Double(Float(-1.5e-3)))
            XCTAssertNil(m["missing"])

            XCTAssertEqual(m["a.u8"]?.arrayValue?.ints, [1, 255])
            XCTAssertEqual(m["a.i8"]?.arrayValue?.ints, [-128, 127])
            XCTAssertEqual(m["a.u16"]?.arrayValue?.ints, [7])
            XCTAssertEqual(m["a.i16"]?.arrayValue?.ints, [-2, 3])
            XCTAssertEqual(m["a.u32"]?.arrayValue?.ints, [1, 2, 3])
            XCTAssertEqual(m["a.i32"]?.arrayValue?.ints, [-1])
            XCTAssertEqual(m["a.f32"]?.arrayValue?.doubles, [0.5, -0.0])
            XCTAssertEqual(m["a.f32"]?.arrayValue?[1], .f32(-0.0))
            XCTAssertEqual(m["a.f32"]?.arrayValue?.doubles?[1].sign, .minus)
            XCTAssertEqual(m["a.bool"]?.arrayValue?.values, [.bool(false), .bool(true)])
            XCTAssertEqual(m["a.string"]?.arrayValue?.strings, ["a", "", "ü"])
            XCTAssertEqual(m["a.u64"]?.arrayValue?[0], .u64(.max))
            XCTAssertNil(m["a.u64"]?.arrayValue?.ints)
            XCTAssertEqual(m["a.i64"]?.arrayValue?.ints, [Int(Int64.min)])
            XCTAssertEqual(m["a.f64"]?.arrayValue?.doubles, [1e300])
            let empty = try XCTUnwrap(m["a.empty"]?.arrayValue)
            XCTAssertEqual(empty.count, 0)
            XCTAssertEqual(empty.elementType, .f32)
            let nested = try XCTUnwrap(m["a.nested"]?.arrayValue)
            XCTAssertEqual(nested.elementType, .array)
            XCTAssertEqual(nested.count, 3)
            XCTAssertEqual(nested[0].arrayValue?.ints, [1, 2])
            XCTAssertEqual(nested[1].arrayValue?.strings, ["x"])
            XCTAssertEqual(nested[2].arrayValue?[0].arrayValue?.ints, [9])
            XCTAssertNil(nested.strings)
            XCTAssertEqual(g.tensors.count, 0)
        }
    }

    func testValueTypeTagsAndNames() {
        XCTAssertEqual(GGUFValueType.allCases.map { $0.rawValue }, Array(0...12))
        XCTAssertEqual(GGUFValueType.allCases.map { $0.name },
                       ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"])
    }

    func testTensorInfosOffsetsAndViews() throws {
        let a = (0..<6).flatMap { i -> [UInt8] in var w = GGUFBytes(); w.u32(Float(i).bitPattern); return w.bytes }
        let b = f16Bytes([0x3C00, 0xC000, 0x0001, 0x7BFF])
        let file = makeGGUF(metadata: [("general.architecture", .str("test"))], tensors: [
            TensorSpec(name: "a", dims: [3, 2], type: 0, data: a),
            TensorSpec(name: "b", dims: [4], type: 1, data: b),
            TensorSpec(name: "empty", dims: [0, 5], type: 0, data: []),
        ])
        let g = try parseGGUF(file)
        XCTAssertEqual(g.alignment, 32)
        XCTAssertEqual(g.dataOffset % 32, 0)
        XCTAssertEqual(g.tensors.map { $0.name }, ["a", "b", "empty"])
        let ta = try XCTUnwrap(g.tensor(named: "a"))
        XCTAssertEqual(ta.dimensions, [3, 2])
        XCTAssertEqual(ta.shape, [2, 3])
        XCTAssertEqual(ta.type, .f32)
        XCTAssertEqual(ta.elementCount, 6)
        XCTAssertEqual(ta.byteCount, 24)
        XCTAssertEqual(ta.offset, 0)
        XCTAssertEqual(ta.fileOffset, g.dataOffset)
        XCTAssertEqual(Array(g.bytes(of: ta)), a)
        XCTAssertEqual(try g.dequantize(ta), [0, 1, 2, 3, 4, 5])
        let tb = try XCTUnwrap(g.tensor(named: "b"))
        XCTAssertEqual(tb.offset, 32)
        XCTAssertEqual(tb.byteCount, 8)
        XCTAssertEqual(try g.dequantize(named: "b"), [1, -2, 0x1p-24, 65504])
        XCTAssertEqual(try g.dequantize(named: "empty"), [])
        XCTAssertEqual(g.tensor(named: "empty")?.elementCount, 0)
        XCTAssertNil(g.tensor(named: "c"))
        XCTAssertThrowsError(try g.dequantize(named: "c")) { XCTAssertTrue("\($0)".contains("no tensor named c")) }
    }

    func testDeclaredAlignment() throws {
        let data = [UInt8](repeating: 7, count: 4)
        let file = makeGGUF(metadata: [("general.alignment", .u32(64))], tensors: [
            TensorSpec(name: "x", dims: [1], type: 0, data: data),
            TensorSpec(name: "y", dims: [1], type: 0, data: data),
        ], alignment: 64)
        let g = try parseGGUF(file)
        XCTAssertEqual(g.alignment, 64)
        XCTAssertEqual(g.dataOffset % 64, 0)
        XCTAssertEqual(g.tensor(named: "y")?.offset, 64)
        XCTAssertEqual(Array(g.bytes(of: g.tensor(named: "y")!)), data)
        // Alignment 1 is allowed and packs tensors tightly.
        let tight = makeGGUF(metadata: [("general.alignment", .u32(1))], tensors: [
            TensorSpec(name: "x", dims: [1], type: 0, data: data),
            TensorSpec(name: "y", dims: [1], type: 0, data: data),
        ], alignment: 1)
        let g1 = try parseGGUF(tight)
        XCTAssertEqual(g1.tensor(named: "y")?.offset, 4)
        XCTAssertEqual(g1.dataOffset, tight.count - 8)
    }

    func testGGMLTypeTable() {
        // Sizes from ggml's type traits; spot-check the formats Loom decodes.
        let expected: [(GGMLType, Int, Int)] = [
            (.f32, 1, 4), (.f16, 1, 2), (.bf16, 1, 2), (.q4_0, 32, 18), (.q4_1, 32, 20), (.q5_0, 32, 22),
            (.q5_1, 32, 24), (.q8_0, 32, 34), (.q4_K, 256, 144), (.q5_K, 256, 176), (.q6_K, 256, 210),
            (.q2_K, 256, 84), (.q3_K, 256, 110), (.q8_K, 256, 292), (.iq4_xs, 256, 136), (.tq2_0, 256, 66),
        ]
        for (t, bs, ts) in expected {
            XCTAssertEqual(t.blockSize, bs, t.name)
            XCTAssertEqual(t.typeSize, ts, t.name)
        }
        XCTAssertEqual(GGMLType.allCases.filter { $0.canDequantize }.map { $0.name },
                       ["F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "BF16"])
        XCTAssertNil(GGMLType(rawValue: 4))
        XCTAssertNil(GGMLType(rawValue: 31))
        XCTAssertNil(GGMLType(rawValue: 42))
        XCTAssertEqual(GGMLType.q1_0.blockSize, 128)
        XCTAssertEqual(GGMLType.nvfp4.typeSize, 36)
    }

    func testKnownButUndecodedTypeParsesAndRefusesToDequantize() throws {
        let file = makeGGUF(tensors: [TensorSpec(name: "q2", dims: [256], type: 10, data: [UInt8](repeating: 0, count: 84))])
        let g = try parseGGUF(file)
        XCTAssertEqual(g.tensors[0].type, .q2_K)
        XCTAssertThrowsError(try g.dequantize(g.tensors[0])) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidModel)
            XCTAssertTrue("\(e)".contains("cannot dequantize type Q2_K"), "\(e)")
            XCTAssertTrue("\(e)".contains("tensor q2"), "\(e)")
        }
    }

    func testUTF8Validation() throws {
        // Valid edge cases: U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF.
        let valid: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xEF, 0xBF, 0xBF],
                                [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0x00, 0x7F]]
        for v in valid {
            XCTAssertNoThrow(try parseGGUF(makeGGUF(metadata: [("k", .raw(8, rawString(v)))])), "\(v)")
        }
        // Overlong, surrogate, beyond U+10FFFF, bare continuation, truncated sequences.
        let invalid: [[UInt8]] = [[0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80],
                                  [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
                                  [0x80], [0xBF], [0xE2, 0x82], [0x61, 0xF0, 0x9F, 0x98], [0xFF], [0xE2, 0x28, 0xA1]]
        for v in invalid {
            assertGGUFError(makeGGUF(metadata: [("k", .raw(8, rawString(v)))]), path: "metadata k", message: "not valid UTF-8")
        }
    }

    func rawString(_ b: [UInt8]) -> [UInt8] { var w = GGUFBytes(); w.raw(b); return w.bytes }
}
