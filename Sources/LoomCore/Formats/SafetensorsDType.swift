/// The element types of a safetensors file that Loom reads and writes (docs/formats.md).
///
/// The 13 `DType`s (f4 packed two per byte, element 2i in the low nibble) plus the two FP8
/// formats and BOOL, which exist only in files: `F8_E4M3` (`F8E4M3`), `F8_E5M2` (`F8E5M2`) and
/// `BOOL` (one byte per element, 0 = false, anything else = true; written as 0 or 1).
/// Every element is little-endian.
public enum SafetensorsDType: Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    case f64, f32, f16, bf16, f8E4M3, f8E5M2, f4
    case i64, i32, i16, i8
    case u64, u32, u16, u8
    case bool

    /// The header spelling: "F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F4", "I64" …
    /// "U8", "BOOL".
    public var name: String {
        switch self {
        case .f8E4M3: return "F8_E4M3"
        case .f8E5M2: return "F8_E5M2"
        case .bool: return "BOOL"
        default: return dtype!.safetensorsName
        }
    }

    public var description: String { name }

    /// The header spelling, exactly (case-sensitive, as the safetensors format is); nil for any
    /// other string, including dtypes of the format that Loom does not read (C64, F8_E8M0,
    /// F6_E2M3, F6_E3M2, F8_E4M3FNUZ, F8_E5M2FNUZ).
    public init?(name: String) {
        for t in SafetensorsDType.allCases where JSONObject.sameKey(t.name, name) {
            self = t
            return
        }
        return nil
    }

    /// The file type of a `DType`.
    public init(_ dtype: DType) {
        switch dtype {
        case .f64: self = .f64
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .f4: self = .f4
        case .i64: self = .i64
        case .i32: self = .i32
        case .i16: self = .i16
        case .i8: self = .i8
        case .u64: self = .u64
        case .u32: self = .u32
        case .u16: self = .u16
        case .u8: self = .u8
        }
    }

    /// The `DType` with the same storage (nil for F8_E4M3, F8_E5M2 and BOOL).
    public var dtype: DType? {
        switch self {
        case .f64: return .f64
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .f4: return .f4
        case .i64: return .i64
        case .i32: return .i32
        case .i16: return .i16
        case .i8: return .i8
        case .u64: return .u64
        case .u32: return .u32
        case .u16: return .u16
        case .u8: return .u8
        case .f8E4M3, .f8E5M2, .bool: return nil
        }
    }

    /// Bits per element: 64, 32, 16, 16, 8, 8, 4, 64 … 8, 8.
    public var bitWidth: Int {
        switch self {
        case .f8E4M3, .f8E5M2, .bool: return 8
        default: return dtype!.bitWidth
        }
    }

    /// Bytes of `count` elements (`count` ≥ 0): `count · bitWidth / 8`, and ⌈count / 2⌉ for F4
    /// (an odd count ends with an unused high nibble). nil when the product overflows `Int`.
    public func byteCount(forElements count: Int) -> Int? {
        if count < 0 { return nil }
        if self == .f4 { return count / 2 + count % 2 }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: bitWidth / 8)
        return overflow ? nil : bytes
    }

    /// The writer's order key: wider elements first, so that every tensor starts at a multiple
    /// of its element size (the header is padded to 8 bytes). Among equal widths the order is the
    /// reference implementation's (U64 I64 F64 | F32 U32 I32 | BF16 F16 U16 I16 |
    /// F8_E4M3 F8_E5M2 I8 U8 | F4 | BOOL), so Loom writes the same bytes as the Python
    /// `safetensors` library for the same tensors.
    public var writeRank: Int {
        switch self {
        case .u64: return 0
        case .i64: return 1
        case .f64: return 2
        case .f32: return 3
        case .u32: return 4
        case .i32: return 5
        case .bf16: return 6
        case .f16: return 7
        case .u16: return 8
        case .i16: return 9
        case .f8E4M3: return 10
        case .f8E5M2: return 11
        case .i8: return 12
        case .u8: return 13
        case .f4: return 14
        case .bool: return 15
        }
    }

    // MARK: - element conversions

    /// The storage code of `x` (low `bitWidth` bits): `DType.storageBits` for the 13 DTypes,
    /// `F8E4M3` / `F8E5M2` rounding, and for BOOL 1 when `x` is nonzero (NaN included, as
    /// PyTorch's `bool()`), else 0.
    public func storageBits(_ x: Double) -> UInt64 {
        switch self {
        case .f8E4M3: return UInt64(F8E4M3(x).bitPattern)
        case .f8E5M2: return UInt64(F8E5M2(x).bitPattern)
        case .bool: return x != 0 ? 1 : 0
        default: return dtype!.storageBits(x)
        }
    }

    /// As `storageBits(_: Double)`, from a `Float` (rounded once; f64 from a Float is exact).
    public func storageBits(_ x: Float) -> UInt64 {
        switch self {
        case .f8E4M3: return UInt64(F8E4M3(x).bitPattern)
        case .f8E5M2: return UInt64(F8E5M2(x).bitPattern)
        case .bool: return x != 0 ? 1 : 0
        default: return dtype!.storageBits(x)
        }
    }

    /// The value of a storage code as a `Double` (exact except i64/u64 beyond 2^53; BOOL: any
    /// nonzero byte is 1).
    public func doubleValue(storageBits b: UInt64) -> Double {
        switch self {
        case .f8E4M3: return F8E4M3(bitPattern: UInt8(truncatingIfNeeded: b)).doubleValue
        case .f8E5M2: return F8E5M2(bitPattern: UInt8(truncatingIfNeeded: b)).doubleValue
        case .bool: return b & 0xFF != 0 ? 1 : 0
        default: return dtype!.doubleValue(storageBits: b)
        }
    }

    /// The value of a storage code as a `Float` (rules of `DType.floatValue(storageBits:)`;
    /// F8 and BOOL are exact).
    public func floatValue(storageBits b: UInt64) -> Float {
        switch self {
        case .f8E4M3: return F8E4M3(bitPattern: UInt8(truncatingIfNeeded: b)).floatValue
        case .f8E5M2: return F8E5M2(bitPattern: UInt8(truncatingIfNeeded: b)).floatValue
        case .bool: return b & 0xFF != 0 ? 1 : 0
        default: return dtype!.floatValue(storageBits: b)
        }
    }

    /// The storage code of element `index` of a little-endian buffer of this type (the caller
    /// keeps `index` in range).
    @inline(__always)
    public func loadStorageBits(_ bytes: UnsafeRawBufferPointer, at index: Int) -> UInt64 {
        switch self {
        case .f8E4M3, .f8E5M2, .bool: return UInt64(bytes[index])
        default: return dtype!.loadStorageBits(bytes, at: index)
        }
    }

    /// `values` stored as this type, little-endian (F4 packed low nibble first, an odd count
    /// ending with a zero high nibble).
    public func encode(_ values: [Double]) -> [UInt8] {
        if let d = dtype { return DType.encode(values, as: d) }
        return values.map { UInt8(truncatingIfNeeded: storageBits($0)) }
    }

    /// `values` stored as this type, little-endian.
    public func encode(_ values: [Float]) -> [UInt8] {
        if let d = dtype { return DType.encode(values, as: d) }
        return values.map { UInt8(truncatingIfNeeded: storageBits($0)) }
    }

    /// `count` elements of this type from `bytes` as `Double`s; `bytes.count` must equal
    /// `byteCount(forElements: count)`.
    public func decodeDoubles(_ bytes: UnsafeRawBufferPointer, count: Int) throws(DTypeError) -> [Double] {
        if let d = dtype { return try DType.decodeDoubles(bytes, as: d, count: count) }
        try _check(bytes.count, count)
        return (0..<count).map { doubleValue(storageBits: UInt64(bytes[$0])) }
    }

    /// `count` elements of this type from `bytes` as `Float`s; `bytes.count` must equal
    /// `byteCount(forElements: count)`.
    public func decodeFloats(_ bytes: UnsafeRawBufferPointer, count: Int) throws(DTypeError) -> [Float] {
        if let d = dtype { return try DType.decodeFloats(bytes, as: d, count: count) }
        try _check(bytes.count, count)
        return (0..<count).map { floatValue(storageBits: UInt64(bytes[$0])) }
    }

    private func _check(_ actual: Int, _ count: Int) throws(DTypeError) {
        if count < 0 { throw .negativeCount(count) }
        if actual != count { throw .byteCountMismatch(expected: count, actual: actual) }
    }
}
