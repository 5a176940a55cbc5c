/// The 13 numeric storage types Loom knows.
///
/// `f64` and `f32` are the compute types. `f16` (IEEE binary16) and `bf16` (bfloat16) are
/// IEEE-like storage types with infinities and NaN. `f4` is OCP MX E2M1 (no infinities, no
/// NaN, saturating). The integer types saturate. Every conversion rule is written in the doc
/// comments of `F16`, `BF16`, `F4E2M1` and `DType.saturatingInteger(_:as:)`, and in
/// `docs/numerics.md`; all of them are bit-exact and identical on every platform (they are done
/// with integer bit manipulation and exact IEEE operations only).
///
/// The raw values are part of the portable format (do not reorder the cases).
public enum DType: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case f64, f32, f16, bf16, f4
    case i64, i32, i16, i8
    case u64, u32, u16, u8

    /// The lowercase canonical spelling: "f64", "f32", "f16", "bf16", "f4", "i64" … "u8".
    public var name: String {
        switch self {
        case .f64: return "f64"
        case .f32: return "f32"
        case .f16: return "f16"
        case .bf16: return "bf16"
        case .f4: return "f4"
        case .i64: return "i64"
        case .i32: return "i32"
        case .i16: return "i16"
        case .i8: return "i8"
        case .u64: return "u64"
        case .u32: return "u32"
        case .u16: return "u16"
        case .u8: return "u8"
        }
    }

    public var description: String { name }

    /// The dtype string used in safetensors headers: "F64", "F32", "F16", "BF16", "F4",
    /// "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8".
    public var safetensorsName: String {
        switch self {
        case .f64: return "F64"
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .f4: return "F4"
        case .i64: return "I64"
        case .i32: return "I32"
        case .i16: return "I16"
        case .i8: return "I8"
        case .u64: return "U64"
        case .u32: return "U32"
        case .u16: return "U16"
        case .u8: return "U8"
        }
    }

    /// Parses a dtype name, ASCII case-insensitively.
    ///
    /// Accepted: the canonical names ("f32", "bf16", "u8" …), hence also the safetensors names
    /// ("F32", "BF16", "U8" …); "float64"/"double"/"fp64", "float32"/"float"/"fp32",
    /// "float16"/"half"/"fp16", "bfloat16", "fp4"/"e2m1"/"float4_e2m1"/"float4_e2m1fn",
    /// "int64"…"int8", "uint64"…"uint8". Anything else gives `nil`.
    public init?(name: String) {
        // Byte-wise ASCII comparison (no String normalisation, so no Unicode tables in wasm).
        for (dtype, spellings) in DType._nameTable {
            for spelling in spellings where DType._asciiCaseInsensitiveEqual(name, spelling) {
                self = dtype
                return
            }
        }
        return nil
    }

    private static let _nameTable: [(DType, [StaticString])] = [
        (.f64, ["f64", "float64", "double", "fp64"]),
        (.f32, ["f32", "float32", "float", "fp32"]),
        (.f16, ["f16", "float16", "half", "fp16"]),
        (.bf16, ["bf16", "bfloat16"]),
        (.f4, ["f4", "fp4", "e2m1", "float4_e2m1", "float4_e2m1fn", "mxfp4"]),
        (.i64, ["i64", "int64"]), (.i32, ["i32", "int32"]),
        (.i16, ["i16", "int16"]), (.i8, ["i8", "int8"]),
        (.u64, ["u64", "uint64"]), (.u32, ["u32", "uint32"]),
        (.u16, ["u16", "uint16"]), (.u8, ["u8", "uint8"]),
    ]

    private static func _asciiCaseInsensitiveEqual(_ s: String, _ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        if s.utf8.count != count { return false }
        let p = lowercase.utf8Start
        var i = 0
        for c in s.utf8 {
            let lower = c >= 65 && c <= 90 ? c &+ 32 : c
            if lower != p[i] { return false }
            i &+= 1
        }
        return true
    }

    /// Bits per element: 64, 32, 16, 16, 4, 64, 32, 16, 8, 64, 32, 16, 8.
    public var bitWidth: Int {
        switch self {
        case .f64, .i64, .u64: return 64
        case .f32, .i32, .u32: return 32
        case .f16, .bf16, .i16, .u16: return 16
        case .i8, .u8: return 8
        case .f4: return 4
        }
    }

    /// True for f64, f32, f16, bf16, f4.
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16, .f4: return true
        default: return false
        }
    }

    /// True for the floating-point types (they all have a sign bit) and i64…i8.
    public var isSigned: Bool {
        switch self {
        case .u64, .u32, .u16, .u8: return false
        default: return true
        }
    }

    /// True for the integer types i64…u8.
    public var isInteger: Bool { !isFloatingPoint }

    /// Bytes needed to store `count` elements: `count * bitWidth / 8`, and for `f4`
    /// `(count + 1) / 2` (two codes per byte, element 2i in the low nibble, 2i+1 in the high
    /// nibble; the high nibble of the last byte of an odd count is 0). `count` must be ≥ 0;
    /// a product that does not fit in `Int` gives `Int.max` (so a size check against a real
    /// buffer fails instead of trapping).
    public func byteCount(forElements count: Int) -> Int {
        precondition(count >= 0, "element count must not be negative")
        if self == .f4 { return count / 2 + count % 2 }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: bitWidth / 8)
        return overflow ? Int.max : bytes
    }
}

/// Errors of the bulk byte-buffer conversions.
public enum DTypeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The buffer does not hold exactly `byteCount(forElements: count)` bytes.
    case byteCountMismatch(expected: Int, actual: Int)
    /// A negative element count was asked for.
    case negativeCount(Int)

    public var description: String {
        switch self {
        case let .byteCountMismatch(expected, actual):
            return "byte count mismatch: expected \(expected) bytes, got \(actual)"
        case let .negativeCount(n):
            return "negative element count \(n)"
        }
    }
}
