/// The type tag written before every GGUF metadata value (a little-endian `u32`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, bool = 7, string = 8, array = 9
    case u64 = 10, i64 = 11, f64 = 12

    /// The name used in messages and `loom inspect`: `u8`, `string`, `array`, …
    public var name: String {
        switch self {
        case .u8: return "u8"
        case .i8: return "i8"
        case .u16: return "u16"
        case .i16: return "i16"
        case .u32: return "u32"
        case .i32: return "i32"
        case .f32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .u64: return "u64"
        case .i64: return "i64"
        case .f64: return "f64"
        }
    }

    /// Bytes of one value of a fixed-size type; nil for `string` and `array`.
    public var fixedSize: Int? {
        switch self {
        case .u8, .i8, .bool: return 1
        case .u16, .i16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value of this type occupies in a file (a string's u64 length; an
    /// array's type tag and u64 count). Counts read from a file are checked against it before
    /// anything is allocated.
    var minimumSize: Int {
        switch self {
        case .string: return 8
        case .array: return 12
        default: return fixedSize!
        }
    }
}

/// One GGUF metadata value. Arrays are views into the file (see `GGUFArray`); everything else
/// is decoded.
public enum GGUFValue: Equatable, Sendable {
    case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
    case string(String)
    case array(GGUFArray)
    case u64(UInt64), i64(Int64), f64(Double)

    public var type: GGUFValueType {
        switch self {
        case .u8: return .u8
        case .i8: return .i8
        case .u16: return .u16
        case .i16: return .i16
        case .u32: return .u32
        case .i32: return .i32
        case .f32: return .f32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .u64: return .u64
        case .i64: return .i64
        case .f64: return .f64
        }
    }

    /// Any integer type whose value fits `Int`; nil otherwise (also for floats and bools).
    public var intValue: Int? {
        switch self {
        case .u8(let v): return Int(v)
        case .i8(let v): return Int(v)
        case .u16(let v): return Int(v)
        case .i16(let v): return Int(v)
        case .u32(let v): return Int(exactly: v)
        case .i32(let v): return Int(v)
        case .u64(let v): return Int(exactly: v)
        case .i64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// `f32` (widened exactly) or `f64`; nil for every other type.
    public var doubleValue: Double? {
        switch self {
        case .f32(let v): return Double(v)
        case .f64(let v): return v
        default: return nil
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: GGUFArray? { if case .array(let a) = self { return a }; return nil }
}

/// A GGUF array: its element type, its count and its elements, read in place from the file's
/// bytes (the parser has validated every element, nested arrays included). Fixed-size elements
/// are decoded when asked for; strings and nested arrays are located by offsets recorded while
/// parsing (at most one `Int` per element, and each element takes at least 8 bytes of file).
public struct GGUFArray: Equatable, Sendable {
    public let elementType: GGUFValueType
    public let count: Int
    let buffer: ByteBuffer
    /// Absolute offset of the first element.
    let start: Int
    /// Absolute offsets of string elements (empty for other element types).
    let stringOffsets: [Int]
    /// Nested arrays (empty for other element types).
    let children: [GGUFArray]

    init(elementType: GGUFValueType, count: Int, buffer: ByteBuffer, start: Int,
         stringOffsets: [Int], children: [GGUFArray]) {
        self.elementType = elementType; self.count = count; self.buffer = buffer; self.start = start
        self.stringOffsets = stringOffsets; self.children = children
    }

    /// Element `i` (0 ≤ i < count).
    public subscript(i: Int) -> GGUFValue {
        precondition(i >= 0 && i < count, "GGUFArray index out of range")
        switch elementType {
        case .string: return .string(string(at: i))
        case .array: return .array(children[i])
        default: return GGUFArray.decodeFixed(elementType, buffer, start + i * elementType.fixedSize!)
        }
    }

    /// Every element, decoded.
    public var values: [GGUFValue] {
        var out: [GGUFValue] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(self[i]) }
        return out
    }

    /// The elements when they are strings; nil for other element types.
    public var strings: [String]? {
        guard elementType == .string else { return nil }
        var out: [String] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(string(at: i)) }
        return out
    }

    /// The elements when they are integers that all fit `Int`; nil otherwise.
    public var ints: [Int]? {
        switch elementType {
        case .u8, .i8, .u16, .i16, .u32, .i32, .u64, .i64: break
        default: return nil
        }
        var out: [Int] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let v = self[i].intValue else { return nil }
            out.append(v)
        }
        return out
    }

    /// The elements when they are `f32` or `f64` (as Double, exactly); nil otherwise.
    public var doubles: [Double]? {
        guard elementType == .f32 || elementType == .f64 else { return nil }
        var out: [Double] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(self[i].doubleValue!) }
        return out
    }

    func string(at i: Int) -> String {
        let o = stringOffsets[i]
        let n = Int(buffer.u64(o))
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer.bytes[(o + 8)..<(o + 8 + n)]), as: UTF8.self)
    }

    static func decodeFixed(_ t: GGUFValueType, _ b: ByteBuffer, _ o: Int) -> GGUFValue {
        switch t {
        case .u8: return .u8(b.u8(o))
        case .i8: return .i8(Int8(bitPattern: b.u8(o)))
        case .u16: return .u16(b.u16(o))
        case .i16: return .i16(Int16(bitPattern: b.u16(o)))
        case .u32: return .u32(b.u32(o))
        case .i32: return .i32(Int32(bitPattern: b.u32(o)))
        case .f32: return .f32(Float(bitPattern: b.u32(o)))
        case .bool: return .bool(b.u8(o) != 0)
        case .u64: return .u64(b.u64(o))
        case .i64: return .i64(Int64(bitPattern: b.u64(o)))
        case .f64: return .f64(Double(bitPattern: b.u64(o)))
        case .string, .array: fatalError("not a fixed-size type")
        }
    }

    /// Element types and elements equal (floats by `==`, so NaN ≠ NaN).
    public static func == (a: GGUFArray, b: GGUFArray) -> Bool {
        guard a.elementType == b.elementType, a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}

/// The metadata of a GGUF file: key/value pairs in file order, looked up by key.
public struct GGUFMetadata: Sendable {
    public let entries: [(key: String, value: GGUFValue)]
    private let index: [String: Int]

    init(entries: [(key: String, value: GGUFValue)], index: [String: Int]) {
        self.entries = entries; self.index = index
    }

    public var count: Int { entries.count }
    public var keys: [String] { entries.map { $0.key } }
    public subscript(key: String) -> GGUFValue? { index[key].map { entries[$0].value } }
}
