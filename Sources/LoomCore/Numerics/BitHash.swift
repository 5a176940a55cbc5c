/// FNV-1a (64-bit) over little-endian bytes: the hash in every determinism check and golden file.
///
/// Floats are hashed by their IEEE bits, except that every NaN is hashed as the canonical quiet
/// NaN of its type (WebAssembly does not fix NaN payloads; the contract treats NaNs as equal).
public struct BitHash: Sendable, Equatable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inline(__always) public mutating func addByte(_ b: UInt8) {
        value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3
    }
    public mutating func addUInt64(_ x: UInt64) {
        var v = x
        for _ in 0..<8 { addByte(UInt8(truncatingIfNeeded: v)); v >>= 8 }
    }
    public mutating func addUInt32(_ x: UInt32) {
        var v = x
        for _ in 0..<4 { addByte(UInt8(truncatingIfNeeded: v)); v >>= 8 }
    }
    public mutating func add(_ x: Float) { addUInt32(x.isNaN ? 0x7FC0_0000 : x.bitPattern) }
    public mutating func add(_ x: Double) { addUInt64(x.isNaN ? 0x7FF8_0000_0000_0000 : x.bitPattern) }
    public mutating func add<T: LoomFloat>(_ x: T) {
        if T.dtype == .f32 {
            addUInt32(x.isNaN ? 0x7FC0_0000 : UInt32(truncatingIfNeeded: x.bits64))
        } else {
            addUInt64(x.isNaN ? 0x7FF8_0000_0000_0000 : x.bits64)
        }
    }
    public mutating func add<T: LoomFloat>(_ values: [T]) {
        for v in values { add(v) }
    }

    /// 16 lowercase hex digits.
    public var hex: String { Hex.string(value, digits: 16) }
}

public enum Hex {
    public static func string(_ v: UInt64, digits: Int) -> String {
        let table: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: digits)
        var x = v
        var i = digits - 1
        while i >= 0 { out[i] = table[Int(x & 15)]; x >>= 4; i -= 1 }
        return String(decoding: out, as: UTF8.self)
    }
}
