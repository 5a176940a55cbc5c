import LoomCore
import XCTest

/// Every malformed GGUF gives a typed error naming the file and the field or tensor; nothing
/// crashes (crafted files, every truncation, random mutations).
final class GGUFBadInputTests: XCTestCase {
    let f32x4 = [UInt8](repeating: 0, count: 16)

    func testHeader() {
        assertGGUFError([], path: "header.magic", message: "truncated file")
        assertGGUFError(Array("GGU".utf8), path: "header.magic", message: "truncated file")
        assertGGUFError(Array("GGML\u{3}\0\0\0".utf8), path: "header.magic", message: "not a GGUF file")
        assertGGUFError(Array("GGUF".utf8), path: "header.version", message: "truncated file")
        assertGGUFError(makeGGUF(version: 1), .unsupportedVersion, path: "header.version", message: "version 1")
        assertGGUFError(makeGGUF(version: 4), .unsupportedVersion, path: "header.version", message: "unknown GGUF version 4")
        assertGGUFError(makeGGUF(version: 0), .unsupportedVersion, path: "header.version", message: "unknown GGUF version 0")
        assertGGUFError(makeGGUF(version: UInt32(3).byteSwapped), path: "header.version", message: "big-endian")
        assertGGUFError(makeGGUF(version: UInt32(2).byteSwapped), path: "header.version", message: "big-endian")
        assertGGUFError(Array(makeGGUF().prefix(12)), path: "header.tensor_count", message: "truncated")
        assertGGUFError(Array(makeGGUF().prefix(20)), path: "header.metadata_count", message: "truncated")
    }

    func testAbsurdCounts() {
        assertGGUFError(makeGGUF(tensorCount: UInt64.max), path: "header.tensor_count", message: "impossible")
        assertGGUFError(makeGGUF(tensorCount: 1 << 40), path: "header.tensor_count", message: "impossible")
        assertGGUFError(makeGGUF(metadataCount: UInt64.max), path: "header.metadata_count", message: "impossible")
        assertGGUFError(makeGGUF(metadata: [("k", .u8(1))], metadataCount: 10), path: "header.metadata_count", message: "impossible")
        // A string length beyond the file, and one near 2^64.
        var w = GGUFBytes(); w.u64(1 << 40); w.bytes += Array("abc".utf8)
        assertGGUFError(makeGGUF(metadata: [("k", .raw(8, w.bytes))]), path: "metadata k", message: "impossible")
        var w2 = GGUFBytes(); w2.u64(UInt64.max)
        assertGGUFError(makeGGUF(metadata: [("k", .raw(8, w2.bytes))]), path: "metadata k", message: "impossible")
        // Array counts: 2^62 u64 elements, 2^40 strings, 2^60 nested arrays.
        for (t, n) in [(10 as UInt32, UInt64(1) << 62), (8, 1 << 40), (9, 1 << 60), (0, UInt64.max)] {
            var a = GGUFBytes(); a.u32(t); a.u64(n)
            assertGGUFError(makeGGUF(metadata: [("arr", .raw(9, a.bytes + [0, 0, 0, 0]))]), path: "metadata arr", message: "array count")
        }
        // A key length that does not fit.
        var k = GGUFBytes(); k.bytes += Array("GGUF".utf8); k.u32(3); k.u64(0); k.u64(1); k.u64(1 << 50); k.bytes += [UInt8](repeating: 0, count: 16)
        assertGGUFError(k.bytes, path: "metadata[0].key", message: "impossible")
    }

    func testMetadataValues() {
        assertGGUFError(makeGGUF(metadata: [("b", .raw(7, [2]))]), path: "metadata b", message: "bool byte 2")
        assertGGUFError(makeGGUF(metadata: [("b", .arr(7, [.bool(true), .raw(7, [255])]))]), path: "metadata b[1]", message: "bool byte 255")
        assertGGUFError(makeGGUF(metadata: [("t", .raw(13, [0]))]), path: "metadata t", message: "unknown value type 13")
        assertGGUFError(makeGGUF(metadata: [("t", .raw(0xFFFF_FFFF, [0]))]), path: "metadata t", message: "unknown value type 4294967295")
        assertGGUFError(makeGGUF(metadata: [("t", .arr(42, []))]), path: "metadata t", message: "unknown value type 42")
        assertGGUFError(makeGGUF(metadata: [("s", .arr(8, [.str("ok"), .raw(8, [1, 0, 0, 0, 0, 0, 0, 0, 0xFF])]))]),
                        path: "metadata s[1]", message: "not valid UTF-8")
        assertGGUFError(makeGGUF(metadata: [("dup", .u8(1)), ("x", .u8(2)), ("dup", .u8(3))]), path: "metadata dup", message: "duplicate")
        var key = GGUFBytes(); key.bytes += Array("GGUF".utf8); key.u32(3); key.u64(0); key.u64(1); key.raw([0xC3, 0x28]); key.u32(0); key.u8(0)
        assertGGUFError(key.bytes, path: "metadata[0].key", message: "not valid UTF-8")
        // Nesting: 8 levels are fine, 9 are refused (and a million would not overflow the stack).
        func nest(_ depth: Int) -> MV { depth == 1 ? .arr(0, [.u8(1)]) : .arr(9, [nest(depth - 1)]) }
        XCTAssertNoThrow(try parseGGUF(makeGGUF(metadata: [("n", nest(8))])))
        assertGGUFError(makeGGUF(metadata: [("n", nest(9))]), path: "metadata n[0][0][0][0][0][0][0][0]", message: "nested deeper than 8")
        var deep = GGUFBytes()
        for _ in 0..<1_000_000 { deep.u32(9); deep.u64(1) }
        assertGGUFError(makeGGUF(metadata: [("n", .raw(9, deep.bytes))]), path: "metadata n", message: "nested deeper")
    }

    func testAlignment() {
        assertGGUFError(makeGGUF(metadata: [("general.alignment", .u32(0))]), path: "metadata general.alignment", message: "not a power of two")
        assertGGUFError(makeGGUF(metadata: [("general.alignment", .u32(48))]), path: "metadata general.alignment", message: "not a power of two")
        assertGGUFError(makeGGUF(metadata: [("general.alignment", .u64(32))]), path: "metadata general.alignment", message: "must be a u32, found u64")
        assertGGUFError(makeGGUF(metadata: [("general.alignment", .str("32"))]), path: "metadata general.alignment", message: "must be a u32")
        // A huge power of two is legal but puts the data section past the end of the file.
        assertGGUFError(makeGGUF(metadata: [("general.alignment", .u32(1 << 31))], tensors: [TensorSpec(name: "x", dims: [4], type: 0, data: f32x4)]),
                        path: "tensor x", message: "outside the file")
    }

    func testTensorInfos() {
        func one(_ t: TensorSpec, metadata: [(String, MV)] = []) -> [UInt8] { makeGGUF(metadata: metadata, tensors: [t]) }
        assertGGUFError(one(TensorSpec(name: "w", dims: [4], type: 99, data: f32x4)), path: "tensor w", message: "unknown ggml type 99")
        assertGGUFError(one(TensorSpec(name: "w", dims: [4], type: 4, data: f32x4)), path: "tensor w", message: "unknown ggml type 4")
        assertGGUFError(one(TensorSpec(name: "w", dims: [1, 1, 1, 1, 4], type: 0, data: f32x4)), path: "tensor w", message: "5 dimensions")
        assertGGUFError(one(TensorSpec(name: "w", dims: [UInt64.max], type: 0, data: f32x4)), path: "tensor w", message: "too large")
        assertGGUFError(one(TensorSpec(name: "w", dims: [1 << 32, 1 << 32], type: 0, data: f32x4)), path: "tensor w", message: "element count overflows")
        assertGGUFError(one(TensorSpec(name: "w", dims: [1 << 62], type: 0, data: f32x4)), path: "tensor w", message: "byte size overflows")
        assertGGUFError(one(TensorSpec(name: "w", dims: [48], type: 8, data: [UInt8](repeating: 0, count: 68))), path: "tensor w",
                        message: "innermost dimension 48 is not a multiple of the Q8_0 block size 32")
        assertGGUFError(one(TensorSpec(name: "w", dims: [128, 2], type: 12, data: [])), path: "tensor w", message: "not a multiple of the Q4_K block size 256")
        assertGGUFError(one(TensorSpec(name: "w", dims: [4], type: 0, data: f32x4, offset: 8)), path: "tensor w", message: "not a multiple of the alignment 32")
        assertGGUFError(one(TensorSpec(name: "w", dims: [4], type: 0, data: f32x4, offset: 1 << 62)), path: "tensor w", message: "outside the file")
        assertGGUFError(one(TensorSpec(name: "w", dims: [4], type: 0, data: f32x4, offset: UInt64.max - 31)), path: "tensor w", message: "out of range")
        assertGGUFError(one(TensorSpec(name: "w", dims: [1 << 40], type: 0, data: f32x4)), path: "tensor w", message: "outside the file")
        // A tensor that ends one byte past the end of the file.
        var cut = one(TensorSpec(name: "w", dims: [4], type: 0, data: f32x4))
        cut.removeLast()
        assertGGUFError(cut, path: "tensor w", message: "outside the file")
        var name = GGUFBytes(); name.bytes += Array("GGUF".utf8); name.u32(3); name.u64(1); name.u64(0)
        name.raw([0xE0, 0x80, 0x80]); name.u32(1); name.u64(1); name.u32(0); name.u64(0)
        name.bytes += [UInt8](repeating: 0, count: 64)
        assertGGUFError(name.bytes, path: "tensors[0].name", message: "not valid UTF-8")
    }

    func testDuplicateAndOverlappingTensors() {
        let dup = makeGGUF(tensors: [TensorSpec(name: "w", dims: [4], type: 0, data: f32x4), TensorSpec(name: "w", dims: [4], type: 0, data: f32x4)])
        assertGGUFError(dup, path: "tensor w", message: "duplicate tensor name")
        let same = makeGGUF(tensors: [TensorSpec(name: "a", dims: [4], type: 0, data: f32x4, offset: 0),
                                      TensorSpec(name: "b", dims: [4], type: 0, data: f32x4, offset: 0)])
        assertGGUFError(same, path: "tensor b", message: "overlaps tensor a")
        let big = [UInt8](repeating: 1, count: 40)
        let partial = makeGGUF(tensors: [TensorSpec(name: "b", dims: [4], type: 0, data: f32x4, offset: 32),
                                         TensorSpec(name: "a", dims: [10], type: 0, data: big, offset: 0)])
        assertGGUFError(partial, path: "tensor b", message: "overlaps tensor a [0, 40)")
        // Touching is fine; empty tensors overlap nothing.
        let touching = makeGGUF(metadata: [("general.alignment", .u32(8))],
                                tensors: [TensorSpec(name: "a", dims: [4], type: 0, data: f32x4, offset: 0),
                                          TensorSpec(name: "b", dims: [4], type: 0, data: f32x4, offset: 16),
                                          TensorSpec(name: "e", dims: [0], type: 0, data: [], offset: 8)], alignment: 8)
        XCTAssertNoThrow(try parseGGUF(touching))
    }

    /// Every proper prefix of a valid file fails with a typed error (no crash, no partial result).
    func testEveryTruncation() throws {
        let file = makeGGUF(metadata: GGUFReaderTests.allTypes, tensors: [
            TensorSpec(name: "w", dims: [32, 2], type: 8, data: [UInt8](repeating: 0, count: 68)),
            TensorSpec(name: "n", dims: [4], type: 0, data: f32x4),
        ])
        XCTAssertNoThrow(try parseGGUF(file))
        var failures = 0
        for n in 0..<file.count {
            do {
                _ = try parseGGUF(Array(file.prefix(n)))
                XCTFail("prefix of \(n) bytes parsed")
            } catch let e as LoomError {
                XCTAssertTrue(e.kind == .invalidModel, "\(e)")
                failures += 1
            }
        }
        XCTAssertEqual(failures, file.count)
    }

    /// Random byte mutations of a valid file: each either parses (then every tensor is in range
    /// and dequantizes) or throws a LoomError; nothing traps.
    func testRandomMutationsNeverCrash() throws {
        var rng = GGUFRNG(0x5EED_6607)
        var blocks = GGUFBytes()
        for _ in 0..<2 { blocks.u16(0x3C00); blocks.bytes += rng.bytes(32) }
        let file = makeGGUF(metadata: Array(GGUFReaderTests.allTypes.prefix(20)) + [("general.alignment", .u32(32))], tensors: [
            TensorSpec(name: "w", dims: [32, 2], type: 8, data: blocks.bytes),
            TensorSpec(name: "k", dims: [256], type: 14, data: rng.bytes(210)),
            TensorSpec(name: "n", dims: [4], type: 0, data: f32x4),
        ])
        var parsed = 0, refused = 0
        for trial in 0..<20_000 {
            var m = file
            let edits = 1 + rng.below(4)
            for _ in 0..<edits {
                let i = rng.below(m.count)
                switch rng.below(4) {
                case 0: m[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: m[i] ^= UInt8(1) << UInt8(rng.below(8))
                case 2: m[i] = [0, 0xFF, 0x7F, 0x80][rng.below(4)]
                default: m = Array(m.prefix(i))
                }
                if m.isEmpty { break }
            }
            do {
                let g = try parseGGUF(m)
                for t in g.tensors where t.type.canDequantize {
                    XCTAssertEqual(try g.dequantize(t).count, t.elementCount)
                }
                _ = g.metadata.entries.map { "\($0.value)" }
                parsed += 1
            } catch let e as LoomError {
                XCTAssertTrue(e.path.hasPrefix("t.gguf"), "trial \(trial): \(e)")
                refused += 1
            }
        }
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(refused, 1000)
    }
}
