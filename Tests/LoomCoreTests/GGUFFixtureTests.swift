import Foundation
import LoomCore
import XCTest

/// The files written by gguf-py (scripts/fixtures/gguf_fixtures.py): Loom reads GGUFWriter's
/// metadata of every type, and its dequantization equals gguf-py's bit for bit.
final class GGUFFixtureTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/gguf")

    static func load(_ name: String) throws -> GGUF {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        return try GGUF(buffer: ByteBuffer(copying: [UInt8](data)), name: name)
    }

    func testSyntheticMetadataFromGGUFWriter() throws {
        let g = try Self.load("synthetic.gguf")
        XCTAssertEqual(g.version, 3)
        let m = g.metadata
        XCTAssertEqual(m["general.architecture"]?.stringValue, "loomtest")
        XCTAssertEqual(m["loomtest.u8"], .u8(250))
        XCTAssertEqual(m["loomtest.i8"], .i8(-7))
        XCTAssertEqual(m["loomtest.u16"], .u16(65000))
        XCTAssertEqual(m["loomtest.i16"], .i16(-32000))
        XCTAssertEqual(m["loomtest.u32"], .u32(4_000_000_000))
        XCTAssertEqual(m["loomtest.i32"], .i32(-2_000_000_000))
        XCTAssertEqual(m["loomtest.f32"], .f32(-1.5e-3))
        XCTAssertEqual(m["loomtest.bool"], .bool(true))
        XCTAssertEqual(m["loomtest.string"], .string("héllo ✓ 🦙"))
        XCTAssertEqual(m["loomtest.u64"], .u64(18_000_000_000_000_000_000))
        XCTAssertEqual(m["loomtest.i64"], .i64(-9_000_000_000_000_000_000))
        XCTAssertEqual(m["loomtest.f64"], .f64(2.718281828459045))
        func arr(_ k: String) throws -> GGUFArray { try XCTUnwrap(m["loomtest.array." + k]?.arrayValue, k) }
        XCTAssertEqual(try arr("u8").elementType, .u8)
        XCTAssertEqual(try arr("u8").ints, [1, 255])
        XCTAssertEqual(try arr("i8").ints, [-128, 127])
        XCTAssertEqual(try arr("u16").ints, [7, 65535])
        XCTAssertEqual(try arr("i16").ints, [-2, 3])
        XCTAssertEqual(try arr("u32").ints, [1, 2, 3])
        XCTAssertEqual(try arr("i32").ints, [-1, 2_147_483_647])
        XCTAssertEqual(try arr("f32").values, [.f32(0.5), .f32(-0.0), .f32(3.25)])
        XCTAssertEqual(try arr("bool").values, [.bool(false), .bool(true), .bool(true)])
        XCTAssertEqual(try arr("string").strings, ["a", "", "ü"])
        XCTAssertEqual(try arr("u64").values, [.u64(.max)])
        XCTAssertEqual(try arr("i64").values, [.i64(.min)])
        XCTAssertEqual(try arr("f64").doubles, [1e300, -0.125])
        let nested = try arr("nested")
        XCTAssertEqual(nested.elementType, .array)
        XCTAssertEqual(nested[0].arrayValue?.elementType, .i32)
        XCTAssertEqual(nested.values.map { $0.arrayValue?.ints }, [[1, 2], [3]])
        XCTAssertEqual(try arr("nested_strings").values.map { $0.arrayValue?.strings }, [["x", "y"], ["z"]])
        // Every value type appears.
        var types = Set<UInt32>()
        for (_, v) in m.entries {
            types.insert(v.type.rawValue)
            if let a = v.arrayValue { types.insert(a.elementType.rawValue) }
        }
        XCTAssertEqual(types, Set(0...12))
    }

    func testSyntheticDequantizationIsBitIdenticalToGGUFPy() throws {
        let g = try Self.load("synthetic.gguf")
        let e = try Self.load("synthetic-expected.gguf")
        let manifest = try JSONValue.parse(String(contentsOf: Self.dir.appendingPathComponent("synthetic.json"), encoding: .utf8))
        let cases = try XCTUnwrap(manifest["tensors"]?.arrayValue)
        XCTAssertEqual(cases.count, g.tensors.count)
        var seen = Set<String>()
        for c in cases {
            let name = c["name"]!.stringValue!
            let t = try XCTUnwrap(g.tensor(named: name), name)
            XCTAssertEqual(t.type.name, c["type"]!.stringValue!)
            XCTAssertEqual(t.shape, c["shape"]!.arrayValue!.map { $0.numberValue!.int! })
            let got = try g.dequantize(t)
            let want = try e.dequantize(named: name)
            XCTAssertEqual(got.count, want.count, name)
            var mismatches = 0
            for i in 0..<min(got.count, want.count) where !(got[i].isNaN && want[i].isNaN) && got[i].bitPattern != want[i].bitPattern {
                if mismatches == 0 { XCTFail("\(name)[\(i)]: \(got[i]) vs gguf-py \(want[i])") }
                mismatches += 1
            }
            XCTAssertEqual(mismatches, 0, name)
            var h = BitHash()
            for v in got { h.add(v) }
            XCTAssertEqual(h.hex, c["fnv1a64"]!.stringValue!, name)
            seen.insert(t.type.name)
        }
        XCTAssertEqual(seen, Set(GGMLType.allCases.filter { $0.canDequantize }.map { $0.name }))
    }

    func testAlignment64AndVersion2() throws {
        let g = try Self.load("align64-v2.gguf")
        XCTAssertEqual(g.version, 2)
        XCTAssertEqual(g.alignment, 64)
        XCTAssertEqual(g.dataOffset % 64, 0)
        XCTAssertEqual(g.tensor(named: "b")?.offset, 64)
        XCTAssertEqual(try g.dequantize(named: "a"), [0, 1, 2, 3, 4])
        XCTAssertEqual(try g.dequantize(named: "b"), [1, -2, 0.5])
    }

    func testBigEndianFileIsRefused() {
        XCTAssertThrowsError(try Self.load("big-endian.gguf")) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidModel)
            XCTAssertEqual((e as? LoomError)?.path, "big-endian.gguf: header.version")
            XCTAssertTrue("\(e)".contains("big-endian GGUF (version 3 written big-endian) is not supported"), "\(e)")
        }
    }
}
