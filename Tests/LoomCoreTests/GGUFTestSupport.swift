import LoomCore
import XCTest

/// Writes GGUF files byte by byte for the tests: valid ones, and broken ones with exactly the
/// defect a test wants (every field can be given raw).
struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func u8(_ x: UInt8) { bytes.append(x) }
    mutating func u16(_ x: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: x >> (8 * UInt16(i)))) } }
    mutating func u32(_ x: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: x >> (8 * UInt32(i)))) } }
    mutating func u64(_ x: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) } }
    mutating func str(_ s: String) { raw(Array(s.utf8)) }
    mutating func raw(_ b: [UInt8]) { u64(UInt64(b.count)); bytes += b }
    mutating func value(_ v: MV) {
        switch v {
        case .u8(let x): u8(x)
        case .i8(let x): u8(UInt8(bitPattern: x))
        case .u16(let x): u16(x)
        case .i16(let x): u16(UInt16(bitPattern: x))
        case .u32(let x): u32(x)
        case .i32(let x): u32(UInt32(bitPattern: x))
        case .f32(let x): u32(x.bitPattern)
        case .bool(let x): u8(x ? 1 : 0)
        case .str(let s): str(s)
        case .arr(let t, let items): u32(t); u64(UInt64(items.count)); for i in items { value(i) }
        case .u64(let x): u64(x)
        case .i64(let x): u64(UInt64(bitPattern: x))
        case .f64(let x): u64(x.bitPattern)
        case .raw(_, let b): bytes += b
        }
    }
}

/// A metadata value to write; `.raw(type, bytes)` writes any type tag with any payload.
indirect enum MV {
    case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
    case str(String), arr(UInt32, [MV]), u64(UInt64), i64(Int64), f64(Double)
    case raw(UInt32, [UInt8])

    var typeTag: UInt32 {
        switch self {
        case .u8: return 0
        case .i8: return 1
        case .u16: return 2
        case .i16: return 3
        case .u32: return 4
        case .i32: return 5
        case .f32: return 6
        case .bool: return 7
        case .str: return 8
        case .arr: return 9
        case .u64: return 10
        case .i64: return 11
        case .f64: return 12
        case .raw(let t, _): return t
        }
    }
}

struct TensorSpec {
    var name: String
    var dims: [UInt64]
    var type: UInt32
    var data: [UInt8]
    /// Relative offset; nil: the next aligned position after the previous tensor.
    var offset: UInt64? = nil
}

/// A GGUF file: header, metadata, tensor infos, padding to `alignment`, tensor data.
/// `alignment` only places the data; add `general.alignment` to the metadata to declare it.
func makeGGUF(version: UInt32 = 3, metadata: [(String, MV)] = [], tensors: [TensorSpec] = [],
              alignment: Int = 32, tensorCount: UInt64? = nil, metadataCount: UInt64? = nil) -> [UInt8] {
    var w = GGUFBytes()
    w.bytes += Array("GGUF".utf8)
    w.u32(version)
    w.u64(tensorCount ?? UInt64(tensors.count))
    w.u64(metadataCount ?? UInt64(metadata.count))
    for (k, v) in metadata { w.str(k); w.u32(v.typeTag); w.value(v) }
    var next: UInt64 = 0
    var placed: [(UInt64, [UInt8])] = []
    for t in tensors {
        w.str(t.name)
        w.u32(UInt32(t.dims.count))
        for d in t.dims { w.u64(d) }
        w.u32(t.type)
        let off = t.offset ?? next
        w.u64(off)
        placed.append((off, t.data))
        let end = off &+ UInt64(t.data.count)
        next = (end &+ UInt64(alignment) &- 1) / UInt64(alignment) &* UInt64(alignment)
    }
    while w.bytes.count % alignment != 0 { w.u8(0) }
    let start = w.bytes.count
    for (off, data) in placed where off < 1 << 20 {  // absurd offsets: leave the data out
        let need = start + Int(off) + data.count
        if w.bytes.count < need { w.bytes += [UInt8](repeating: 0, count: need - w.bytes.count) }
        for (i, b) in data.enumerated() { w.bytes[start + Int(off) + i] = b }
    }
    return w.bytes
}

func parseGGUF(_ bytes: [UInt8], name: String = "t.gguf") throws -> GGUF {
    try GGUF(buffer: ByteBuffer(copying: bytes), name: name)
}

/// Asserts that parsing fails with a LoomError of `kind` whose message contains `message` and
/// whose path contains `path`.
func assertGGUFError(_ bytes: [UInt8], _ kind: LoomError.Kind = .invalidModel, path: String, message: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try parseGGUF(bytes)
        XCTFail("parsed without error; expected '\(message)'", file: file, line: line)
    } catch let e as LoomError {
        XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
        XCTAssertTrue(e.path.hasPrefix("t.gguf"), "path \(e.path) should name the file", file: file, line: line)
        XCTAssertTrue(e.path.contains(path), "path '\(e.path)' should contain '\(path)'", file: file, line: line)
        XCTAssertTrue(e.message.contains(message), "message '\(e.message)' should contain '\(message)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
}

/// Little-endian bytes of f16 values given as bit patterns.
func f16Bytes(_ bits: [UInt16]) -> [UInt8] { bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

/// A deterministic byte stream (xorshift64*) for random blocks.
struct GGUFRNG {
    var s: UInt64
    init(_ seed: UInt64) { s = seed | 1 }
    mutating func next() -> UInt64 {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27
        return s &* 0x2545_F491_4F6C_DD1D
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next() >> 32) } }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// A uniform Float in [-1, 1).
    mutating func float() -> Float { Float(Int64(next() >> 40) - (1 << 23)) * 0x1p-23 }
}
