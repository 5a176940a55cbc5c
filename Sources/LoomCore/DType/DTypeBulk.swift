// Bulk conversions between arrays of Double/Float and little-endian byte buffers.
//
// Layout: element i occupies bytes [i·w, (i+1)·w) with w = bitWidth/8, least significant byte
// first, whatever the host's byte order. f4 packs two codes per byte: element 2i in the low
// nibble, element 2i+1 in the high nibble; an odd count leaves the last high nibble 0 when
// encoding and ignores it when decoding.

extension DType {
    /// Stores `values` as this dtype (rules: `storageBits(_: Double)`), little-endian.
    public static func encode(_ values: [Double], as dtype: DType) -> [UInt8] {
        _encode(values.count, dtype) { dtype.storageBits(values[$0]) }
    }

    /// Stores `values` as this dtype (rules: `storageBits(_: Float)`), little-endian.
    public static func encode(_ values: [Float], as dtype: DType) -> [UInt8] {
        _encode(values.count, dtype) { dtype.storageBits(values[$0]) }
    }

    /// Reads `count` elements of `dtype` from `bytes` (little-endian), exactly (see
    /// `doubleValue(storageBits:)`). `bytes.count` must equal `dtype.byteCount(forElements: count)`.
    public static func decodeDoubles(_ bytes: [UInt8], as dtype: DType, count: Int) throws(DTypeError) -> [Double] {
        try _check(bytes.count, dtype, count)
        return bytes.withUnsafeBytes { raw in _decode(raw, dtype, count) { dtype.doubleValue(storageBits: $0) } }
    }

    /// Reads `count` elements of `dtype` from `bytes` (little-endian), as `Float`
    /// (see `floatValue(storageBits:)`). `bytes.count` must equal `dtype.byteCount(forElements: count)`.
    public static func decodeFloats(_ bytes: [UInt8], as dtype: DType, count: Int) throws(DTypeError) -> [Float] {
        try _check(bytes.count, dtype, count)
        return bytes.withUnsafeBytes { raw in _decode(raw, dtype, count) { dtype.floatValue(storageBits: $0) } }
    }

    /// `decodeDoubles` over raw memory (for memory-mapped files); no alignment required.
    public static func decodeDoubles(_ bytes: UnsafeRawBufferPointer, as dtype: DType, count: Int) throws(DTypeError) -> [Double] {
        try _check(bytes.count, dtype, count)
        return _decode(bytes, dtype, count) { dtype.doubleValue(storageBits: $0) }
    }

    /// `decodeFloats` over raw memory (for memory-mapped files); no alignment required.
    public static func decodeFloats(_ bytes: UnsafeRawBufferPointer, as dtype: DType, count: Int) throws(DTypeError) -> [Float] {
        try _check(bytes.count, dtype, count)
        return _decode(bytes, dtype, count) { dtype.floatValue(storageBits: $0) }
    }

    /// The storage code of element `index` in a little-endian buffer of this dtype (no bounds
    /// check beyond the buffer's own; the caller keeps `index` in range).
    public func loadStorageBits(_ bytes: UnsafeRawBufferPointer, at index: Int) -> UInt64 {
        switch self {
        case .f64, .i64, .u64:
            return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self))
        case .f32, .i32, .u32:
            return UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)))
        case .f16, .bf16, .i16, .u16:
            return UInt64(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self)))
        case .i8, .u8:
            return UInt64(bytes[index])
        case .f4:
            let byte = bytes[index &>> 1]
            return UInt64(index & 1 == 0 ? byte & 0x0F : byte &>> 4)
        }
    }

    // MARK: - internals

    private static func _check(_ actual: Int, _ dtype: DType, _ count: Int) throws(DTypeError) {
        if count < 0 { throw .negativeCount(count) }
        let expected = dtype.byteCount(forElements: count)
        if actual != expected { throw .byteCountMismatch(expected: expected, actual: actual) }
    }

    @inline(__always)
    private static func _encode(_ n: Int, _ dtype: DType, _ bits: (Int) -> UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: dtype.byteCount(forElements: n))
        out.withUnsafeMutableBytes { raw in
            switch dtype.bitWidth {
            case 64:
                for i in 0..<n { raw.storeBytes(of: bits(i).littleEndian, toByteOffset: i &* 8, as: UInt64.self) }
            case 32:
                for i in 0..<n {
                    raw.storeBytes(of: UInt32(truncatingIfNeeded: bits(i)).littleEndian, toByteOffset: i &* 4, as: UInt32.self)
                }
            case 16:
                for i in 0..<n {
                    raw.storeBytes(of: UInt16(truncatingIfNeeded: bits(i)).littleEndian, toByteOffset: i &* 2, as: UInt16.self)
                }
            case 8:
                for i in 0..<n { raw[i] = UInt8(truncatingIfNeeded: bits(i)) }
            default:  // 4: two codes per byte, low nibble first
                var i = 0
                while i &+ 1 < n {
                    let lo = UInt8(truncatingIfNeeded: bits(i)) & 0x0F
                    let hi = UInt8(truncatingIfNeeded: bits(i &+ 1)) & 0x0F
                    raw[i &>> 1] = lo | (hi &<< 4)
                    i &+= 2
                }
                if i < n { raw[i &>> 1] = UInt8(truncatingIfNeeded: bits(i)) & 0x0F }
            }
        }
        return out
    }

    @inline(__always)
    private static func _decode<T>(_ raw: UnsafeRawBufferPointer, _ dtype: DType, _ n: Int,
                                   _ value: (UInt64) -> T) -> [T] {
        if n == 0 { return [] }
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            for i in 0..<n { (buffer.baseAddress! + i).initialize(to: value(dtype.loadStorageBits(raw, at: i))) }
            initialized = n
        }
    }
}
