import Foundation
import LoomCore
import XCTest

/// The safetensors reader and writer: files written by the Python library (values and exact
/// bytes), crafted bad files (with the library's verdict), and in-memory round trips.
final class SafetensorsTests: XCTestCase {
    static let dir = Float8Tests.root.appendingPathComponent("Fixtures/safetensors")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    static func json(_ name: String) throws -> JSONValue {
        try JSONValue.parse(String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8))
    }

    /// The error `body` throws (fails the test when it does not throw a LoomError).
    func loomError(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                   _ body: () throws -> Void) -> LoomError? {
        do {
            try body()
            XCTFail("\(what): no error", file: file, line: line)
        } catch let e as LoomError {
            return e
        } catch {
            XCTFail("\(what): not a LoomError: \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: - files of the Python library

    func testReadsEveryFixtureFileExactly() throws {
        let expected = try XCTUnwrap(Self.json("values.json")["files"]?.objectValue)
        XCTAssertEqual(expected.count, 4)
        for (fileName, spec) in expected.members {
            let file = try Safetensors(bytes: Self.bytes(fileName), source: fileName)
            // Metadata, in any order.
            let meta = spec["metadata"]?.objectValue
            XCTAssertEqual(file.metadata == nil, meta == nil, fileName)
            if let meta {
                XCTAssertEqual(file.metadata?.count, meta.count, fileName)
                for m in meta.members { XCTAssertEqual(file.metadataValue(m.key), m.value.stringValue, "\(fileName) \(m.key)") }
            }
            let tensors = try XCTUnwrap(spec["tensors"]?.objectValue)
            XCTAssertEqual(file.tensors.count, tensors.count, fileName)
            for (name, t) in tensors.members {
                let view = try XCTUnwrap(file.tensor(name), "\(fileName): \(name)")
                XCTAssertEqual(view.dtype.name, t["dtype"]?.stringValue, name)
                XCTAssertEqual(view.shape, t["shape"]?.arrayValue?.map { $0.numberValue!.int! }, name)
                let codes = try XCTUnwrap(t["codes"]?.arrayValue).map { $0.numberValue!.uint64! }
                let values = try XCTUnwrap(t["values"]?.arrayValue).map { Double($0.stringValue!)! }
                XCTAssertEqual(view.count, codes.count, name)
                XCTAssertEqual((0..<view.count).map { view.storageBits(at: $0) }, codes, name)
                let doubles = view.doubles(), floats = view.floats()
                for i in 0..<values.count {
                    if values[i].isNaN {
                        XCTAssertTrue(doubles[i].isNaN && floats[i].isNaN, "\(name)[\(i)]")
                    } else {
                        XCTAssertEqual(doubles[i].bitPattern, values[i].bitPattern, "\(name)[\(i)]: \(doubles[i]) vs \(values[i])")
                        // Float: the value rounded once (Float(Double) is IEEE round to nearest even).
                        XCTAssertEqual(floats[i].bitPattern, Float(values[i]).bitPattern, "\(name)[\(i)] as Float")
                    }
                }
            }
        }
    }

    /// Loom writes exactly the bytes the Python library wrote for the same tensors. (The library
    /// writes several metadata keys in hash order; the fixture script kept a metadata.safetensors
    /// whose keys came out in byte order, Loom's order.)
    func testWriterReproducesThePythonLibraryByteForByte() throws {
        for name in ["dtypes.safetensors", "f4.safetensors", "empty.safetensors", "metadata.safetensors"] {
            let original = try Self.bytes(name)
            let file = try Safetensors(bytes: original, source: name)
            var w = SafetensorsWriter(metadata: file.metadata)
            // Added in reverse file order: the writer's order must not depend on it.
            for i in stride(from: file.tensors.count - 1, through: 0, by: -1) {
                let t = file.tensor(at: i)
                try w.add(t.name, dtype: t.dtype, shape: t.shape, bytes: t.byteArray)
            }
            let written = try w.serialized()
            XCTAssertEqual(written.count, original.count, name)
            XCTAssertTrue(written == original, "\(name): bytes differ from the Python library's")
        }
        // Names and metadata with quotes, escapes and non-ASCII text survive a round trip.
        let file = try Safetensors(bytes: Self.bytes("metadata.safetensors"))
        var w = SafetensorsWriter(metadata: file.metadata)
        for t in file.tensors { try w.add(t.name, dtype: t.dtype, shape: t.shape, bytes: file.tensor(t.name)!.byteArray) }
        let again = try Safetensors(bytes: w.serialized())
        XCTAssertEqual(again.tensors, file.tensors)
        XCTAssertEqual(again.metadata?.map { $0.key }, ["emoji", "empty", "format", "text"])
        XCTAssertEqual(again.metadataValue("text"), "line1\nline2 \"quoted\" ü")
        XCTAssertNotNil(again.tensor("quote\"back\\slash"))
        XCTAssertNotNil(again.tensor("unicodé ✓ 名前"))
        XCTAssertNil(again.tensor("unicode ✓ 名前"))
    }

    /// Every crafted file: Loom accepts exactly what the Python library accepts (except the
    /// documented differences), and its errors say what is wrong.
    func testCraftedFilesAgainstThePythonLibrary() throws {
        // Where Loom knowingly differs from the library (docs/formats.md).
        let differences: [String: String] = [
            "f4_odd_count.safetensors": "Loom stores ceil(n/2) bytes for an odd F4 count; the library refuses sub-byte remainders",
            "duplicate_name.safetensors": "the library keeps the last of two equal JSON keys; Loom refuses duplicate names",
            "unsupported_dtype_c64.safetensors": "Loom reads the dtypes of docs/formats.md; C64, F8_E8M0, F6_* and the FNUZ types are refused by name",
        ]
        let cases = try XCTUnwrap(Self.json("cases.json")["cases"]?.arrayValue)
        XCTAssertGreaterThan(cases.count, 30)
        var rejected = 0
        for c in cases {
            let name = c["file"]!.stringValue!
            let python = c["python"]!.stringValue!
            let loomAccepts = c["loom"]!.stringValue! == "accepts"
            let bytes = try Self.bytes("cases/" + name)
            let pythonAccepts = python == "accepts"
            if differences[name] == nil {
                XCTAssertEqual(loomAccepts, pythonAccepts, "\(name): the Python library says \(python)")
            } else {
                XCTAssertNotEqual(loomAccepts, pythonAccepts, "\(name): no longer a difference; update the list and docs")
            }
            if loomAccepts {
                let file = try Safetensors(bytes: bytes, source: name)
                for i in 0..<file.tensors.count { _ = file.tensor(at: i).doubles() }
            } else {
                rejected += 1
                guard let e = loomError(name, { _ = try Safetensors(bytes: bytes, source: name) }) else { continue }
                XCTAssertEqual(e.kind, .invalidModel, name)
                XCTAssertTrue(e.path.hasPrefix(name), "\(name): path \(e.path)")
                XCTAssertTrue(e.description.contains(c["loom_error"]!.stringValue!), "\(name): \(e.description)")
            }
        }
        XCTAssertGreaterThan(rejected, 25)
    }

    // MARK: - round trips

    func testRoundTripOfEveryDTypeIsTheStorageRule() throws {
        var g = PhiloxSequence(seed: 3)
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 1e-9, -3.75, 448, 1e5, -70000, 255.5, 6, -6.5, .infinity, -.infinity, .nan]
        for _ in 0..<200 { values.append(Double(Int64(bitPattern: g.next()) >> 40) * 0x1p-12) }
        let floats = values.map { Float($0) }
        var w = SafetensorsWriter(metadata: [(key: "k", value: "v")])
        for d in SafetensorsDType.allCases {
            try w.add("d_" + d.name, values: values, shape: [values.count], as: d)
            try w.add("f_" + d.name, values: floats, shape: [2, values.count / 2], as: d)
        }
        let file = try Safetensors(bytes: w.serialized())
        XCTAssertEqual(file.tensors.count, 2 * SafetensorsDType.allCases.count)
        for d in SafetensorsDType.allCases {
            let a = try XCTUnwrap(file.tensor("d_" + d.name)), b = try XCTUnwrap(file.tensor("f_" + d.name))
            XCTAssertEqual(a.dtype, d)
            XCTAssertEqual(b.shape, [2, values.count / 2])
            let da = a.doubles(), fb = b.floats()
            for i in 0..<values.count {
                let expected = d.doubleValue(storageBits: d.storageBits(values[i]))
                XCTAssertTrue(da[i].bitPattern == expected.bitPattern || (da[i].isNaN && expected.isNaN), "\(d) \(values[i])")
                let ef = d.floatValue(storageBits: d.storageBits(floats[i]))
                XCTAssertTrue(fb[i].bitPattern == ef.bitPattern || (fb[i].isNaN && ef.isNaN), "\(d) \(floats[i])")
                if let dt = d.dtype, !values[i].isNaN {
                    XCTAssertEqual(da[i].bitPattern, DType.roundTrip(values[i], through: dt).bitPattern, "\(d) \(values[i])")
                    XCTAssertEqual(fb[i].bitPattern, DType.roundTrip(floats[i], through: dt).bitPattern, "\(d) \(floats[i])")
                }
            }
        }
        XCTAssertEqual(file.tensor("d_BOOL")!.doubles()[0...3], [0, 0, 1, 1])
        XCTAssertEqual(file.tensor("d_BOOL")!.doubles()[15], 1)  // NaN is true, as in PyTorch
        XCTAssertEqual(file.tensor("d_F8_E4M3")!.doubles()[13], 448)  // +inf saturates
        XCTAssertEqual(file.tensor("d_F8_E5M2")!.doubles()[13], .infinity)
    }

    func testWriterLayoutIsAlignedAndIndependentOfInsertionOrder() throws {
        let specs: [(String, SafetensorsDType, [Int])] = [("b", .u8, [3]), ("a", .f64, [2]), ("c", .bf16, [3]), ("e", .bool, [1]),
                                                          ("d", .f32, [1]), ("z", .i64, [1]), ("y", .f4, [5]), ("x", .f8E5M2, [2])]
        var w1 = SafetensorsWriter(), w2 = SafetensorsWriter(metadata: nil)
        for s in specs { try w1.add(s.0, values: [Double](repeating: 1.5, count: s.2[0]), shape: s.2, as: s.1) }
        for s in specs.reversed() { try w2.add(s.0, values: [Double](repeating: 1.5, count: s.2[0]), shape: s.2, as: s.1) }
        let bytes = try w1.serialized()
        XCTAssertTrue(bytes == (try w2.serialized()))
        let file = try Safetensors(bytes: bytes)
        XCTAssertEqual(file.headerLength % 8, 0)
        XCTAssertEqual(file.names, ["z", "a", "d", "c", "x", "b", "y", "e"])  // widest first, then by name
        for t in file.tensors { XCTAssertEqual((file.dataStart + t.dataOffsets.lowerBound) % Swift.max(1, t.dtype.bitWidth / 8), 0, t.name) }
        // F4 is documented in the metadata, and an odd count takes ceil(n/2) bytes.
        XCTAssertEqual(file.metadataValue(SafetensorsWriter.f4MetadataKey), SafetensorsWriter.f4MetadataValue)
        XCTAssertEqual(file.info("y")?.byteCount, 3)
        XCTAssertEqual(file.tensor("y")?.doubles(), [1.5, 1.5, 1.5, 1.5, 1.5])
        XCTAssertEqual(file.tensor("y")?.byteArray, [0x33, 0x33, 0x03])
        let header = String(decoding: bytes[8..<(8 + file.headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"loom.f4\":"), header)
        XCTAssertTrue(header.contains("\"z\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}"), header)
    }

    func testWriterRefusesBadTensors() {
        var w = SafetensorsWriter()
        XCTAssertNoThrow(try w.add("a", dtype: .f32, shape: [2], bytes: [UInt8](repeating: 0, count: 8)))
        let cases: [(String, () throws -> Void, String)] = [
            ("duplicate", { try w.add("a", dtype: .u8, shape: [1], bytes: [0]) }, "already added"),
            ("reserved", { try w.add("__metadata__", dtype: .u8, shape: [1], bytes: [0]) }, "reserved"),
            ("byte count", { try w.add("b", dtype: .f32, shape: [3], bytes: [0, 0, 0, 0]) }, "needs 12 bytes, got 4"),
            ("negative", { try w.add("c", dtype: .u8, shape: [-1], bytes: []) }, "negative"),
            ("overflow", { try w.add("d", dtype: .u8, shape: [Int.max, 3], bytes: []) }, "overflows"),
            ("values", { try w.add("e", values: [1.0, 2.0], shape: [3], as: .f32) }, "does not hold 2 values"),
        ]
        for (what, body, message) in cases {
            guard let e = loomError(what, body) else { continue }
            XCTAssertEqual(e.kind, .invalidArgument, what)
            XCTAssertTrue(e.description.contains(message), "\(what): \(e)")
        }
        var m = SafetensorsWriter(metadata: [(key: "k", value: "1"), (key: "k", value: "2")])
        XCTAssertNoThrow(try m.add("a", dtype: .u8, shape: [], bytes: [7]))
        XCTAssertTrue(loomError("duplicate metadata", { _ = try m.serialized() })?.message.contains("duplicate key") == true)
    }

    // MARK: - bad input crafted here

    /// A valid file with two tensors and metadata, and the pieces to craft broken ones.
    func sample() throws -> [UInt8] {
        var w = SafetensorsWriter(metadata: [(key: "name", value: "sample")])
        try w.add("w", values: [1, 2, 3, 4, 5, 6], shape: [2, 3], as: .f32)
        try w.add("b", values: [0.5, -0.5], shape: [2], as: .f16)
        return try w.serialized()
    }

    func file(header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = [UInt8]()
        var n = UInt64(h.count)
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: n)); n >>= 8 }
        return out + h + data
    }

    func testEveryTruncationIsATypedError() throws {
        let good = try sample()
        XCTAssertNoThrow(try Safetensors(bytes: good))
        for n in 0..<good.count {
            guard let e = loomError("prefix \(n)", { _ = try Safetensors(bytes: Array(good[0..<n]), source: "cut.safetensors") }) else { continue }
            XCTAssertEqual(e.kind, .invalidModel)
            XCTAssertTrue(e.path.hasPrefix("cut.safetensors"), e.description)
        }
        // One byte too many is an error as well (nothing may follow the last tensor).
        XCTAssertTrue(loomError("extra byte", { _ = try Safetensors(bytes: good + [0]) })?.message.contains("trailing") == true)
    }

    func testRandomCorruptionNeverCrashes() throws {
        let good = try sample()
        var g = PhiloxSequence(seed: 11)
        var accepted = 0
        for _ in 0..<4000 {
            var b = good
            for _ in 0..<(1 + Int(g.next() % 3)) {
                let i = Int(g.next() % UInt64(b.count))
                b[i] = UInt8(truncatingIfNeeded: g.next())
            }
            if let f = try? Safetensors(bytes: b) {
                accepted += 1
                for i in 0..<f.tensors.count { _ = f.tensor(at: i).floats(); _ = f.tensor(at: i).doubles() }
                _ = f.descriptionLines()
            }
        }
        XCTAssertGreaterThan(accepted, 0)  // data bytes may change freely
    }

    func testErrorsNameTheFileTheTensorAndTheProblem() throws {
        let data = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8], String, String)] = [
            ("wrong count", file(header: #"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: data),
             "m.safetensors, tensor \"t\"", "shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8"),
            ("unknown dtype", file(header: #"{"t":{"dtype":"Q4_0","shape":[8],"data_offsets":[0,8]}}"#, data: data),
             "m.safetensors, tensor \"t\"", "unknown dtype \"Q4_0\""),
            ("overlap", file(header: #"{"a":{"dtype":"U8","shape":[5],"data_offsets":[0,5]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, data: data),
             "m.safetensors, tensor \"b\"", "overlap tensor \"a\" [0, 5]"),
            ("hole", file(header: #"{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, data: data),
             "m.safetensors, tensor \"b\"", "bytes [3, 4)"),
            ("duplicate", file(header: #"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, data: data),
             "m.safetensors", "duplicate key \"a\""),
            ("metadata", file(header: #"{"__metadata__":{"x":true}}"#, data: []), "m.safetensors, __metadata__ \"x\"", "must be a string, got boolean"),
            ("negative offset", file(header: #"{"a":{"dtype":"U8","shape":[8],"data_offsets":[-1,8]}}"#, data: data),
             "m.safetensors, tensor \"a\"", "data_offsets[0] = -1 is negative"),
            ("huge offset", file(header: #"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,99999999999999999999]}}"#, data: data),
             "m.safetensors, tensor \"a\"", "too large"),
            ("not an object", file(header: "\"text\"", data: []), "m.safetensors", "must be a JSON object, got string"),
            ("deep JSON", file(header: String(repeating: "[", count: 40) + String(repeating: "]", count: 40), data: []),
             "m.safetensors", "nesting deeper"),
        ]
        for (what, bytes, path, message) in cases {
            guard let e = loomError(what, { _ = try Safetensors(bytes: bytes, source: "m.safetensors") }) else { continue }
            XCTAssertEqual(e.kind, .invalidModel, what)
            XCTAssertEqual(e.path, path, "\(what): \(e)")
            XCTAssertTrue(e.message.contains(message), "\(what): \(e)")
        }
        // Absurd and out-of-file header lengths.
        var absurd = file(header: "{}", data: [])
        absurd[7] = 0x01
        XCTAssertTrue(loomError("absurd", { _ = try Safetensors(bytes: absurd) })?.message.contains("absurd") == true)
        var long = file(header: "{}", data: [])
        long[0] = 200
        XCTAssertTrue(loomError("past end", { _ = try Safetensors(bytes: long) })?.message.contains("past the end of the file") == true)
        XCTAssertTrue(loomError("bad UTF-8", { _ = try Safetensors(bytes: file(header: "{\"\u{E9}\":1}", data: []).map { $0 == 0xC3 ? 0xFF : $0 }) })?
            .message.contains("not valid UTF-8 (byte 10") == true)
    }

    func testDescriptionLines() throws {
        let f = try Safetensors(bytes: sample(), source: "s.safetensors")
        let lines = f.descriptionLines()
        XCTAssertTrue(lines[0].hasPrefix("safetensors s.safetensors: "), lines[0])
        XCTAssertTrue(lines[0].contains("2 tensors, 8 elements, 28 bytes of data"), lines[0])
        XCTAssertTrue(lines.contains("  name = sample"), "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("w ") && $0.contains("F32") && $0.contains("[2, 3]") && $0.contains("24") && $0.contains("[0, 24)") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("b ") && $0.contains("F16") && $0.contains("[24, 28)") }, "\(lines)")
        XCTAssertEqual(lines.last, "dtypes: F32 1 (24 bytes), F16 1 (4 bytes)")
        var w = SafetensorsWriter(metadata: [(key: "long", value: String(repeating: "x", count: 500) + "\n")])
        try w.add("s", values: [1.0], shape: [], as: .f64)
        let d = try Safetensors(bytes: w.serialized()).descriptionLines(maxValueLength: 10)
        XCTAssertTrue(d.contains("  long = xxxxxxxxxx… (501 characters)"), "\(d)")
    }
}
