/// A JSON number, kept as the literal text exactly as written, so integers of any size and every
/// digit survive a read → write round trip. Conversions to binary types happen on demand and are
/// exact (integers) or correctly rounded (Double, Float), identically on every platform.
///
/// Equality compares the text: `1`, `1.0` and `1e0` are different `JSONNumber`s.
public struct JSONNumber: Equatable, Sendable, CustomStringConvertible {
    /// The literal, always valid RFC 8259 number syntax.
    public let text: String

    /// A number from its literal text; nil unless `text` is valid JSON number syntax
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    public init?(text: String) {
        guard JSONNumber.isValidLiteral(text.utf8) else { return nil }
        self.text = text
    }

    /// Internal: `text` already validated by the parser.
    init(validatedText text: String) {
        self.text = text
    }

    /// The shortest text that converts back to exactly `value`; nil for NaN and infinities.
    /// Formatting follows Swift's shortest round-trip digits (`0.1`, `5.0`, `1e-05` written as
    /// `1e-5`, `1e+20` written as `1e20`, `-0.0`).
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        text = JSONNumber.normalizedExponent(value.description)
    }

    /// The shortest text that converts back to exactly `value` as a Float (`float` gives `value`
    /// again; `double` gives the double nearest to the printed decimal, not `Double(value)`).
    /// nil for NaN and infinities.
    public init?(_ value: Float) {
        guard value.isFinite else { return nil }
        text = JSONNumber.normalizedExponent(value.description)
    }

    public init(_ value: Int) { text = String(value) }
    public init(_ value: Int64) { text = String(value) }
    public init(_ value: UInt64) { text = String(value) }

    public var description: String { text }

    /// Whether the literal has integer syntax (no fraction, no exponent).
    public var isIntegerLiteral: Bool {
        for b in text.utf8 where b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            return false
        }
        return true
    }

    /// The correctly rounded Double (nearest, ties to even); nil if the magnitude rounds to
    /// infinity. Underflow gives the exact subnormal or a signed zero.
    public var double: Double? { JSONDecimal(literal: text.utf8)?.double }

    /// The correctly rounded Float, converted directly from the decimal (no double rounding);
    /// nil if the magnitude rounds to infinity.
    public var float: Float? { JSONDecimal(literal: text.utf8)?.float }

    /// The exact value for integer syntax within range; nil otherwise (also for `3.0`, `1e2`).
    public var int64: Int64? {
        guard let (negative, magnitude) = integerMagnitude() else { return nil }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        if magnitude > UInt64(Int64.max) { return nil }
        return Int64(magnitude)
    }

    /// As `int64`, for `Int` (its range is platform dependent: 32 bits on wasm32).
    public var int: Int? {
        guard let v = int64, v >= Int64(Int.min), v <= Int64(Int.max) else { return nil }
        return Int(v)
    }

    /// The exact value for non-negative integer syntax within range (`-0` gives 0); nil otherwise.
    public var uint64: UInt64? {
        guard let (negative, magnitude) = integerMagnitude() else { return nil }
        if negative && magnitude != 0 { return nil }
        return magnitude
    }

    private func integerMagnitude() -> (Bool, UInt64)? {
        var negative = false
        var magnitude: UInt64 = 0
        var count = 0
        for b in text.utf8 {
            if b == UInt8(ascii: "-") && count == 0 && !negative { negative = true; continue }
            guard b >= 0x30 && b <= 0x39 else { return nil }
            // (no multipliedReportingOverflow: on wasm32 it needs the 128-bit helper __multi3)
            let d = UInt64(b - 0x30)
            if magnitude > (UInt64.max - d) / 10 { return nil }
            magnitude = magnitude &* 10 &+ d
            count += 1
        }
        return count > 0 ? (negative, magnitude) : nil
    }

    /// RFC 8259 number grammar.
    static func isValidLiteral<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var i = bytes.startIndex
        let end = bytes.endIndex
        func isDigit(_ i: C.Index) -> Bool { i < end && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if i < end && bytes[i] == UInt8(ascii: "-") { i = bytes.index(after: i) }
        guard isDigit(i) else { return false }
        if bytes[i] == 0x30 {
            i = bytes.index(after: i)
        } else {
            while isDigit(i) { i = bytes.index(after: i) }
        }
        if i < end && bytes[i] == UInt8(ascii: ".") {
            i = bytes.index(after: i)
            guard isDigit(i) else { return false }
            while isDigit(i) { i = bytes.index(after: i) }
        }
        if i < end && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i = bytes.index(after: i)
            if i < end && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
                i = bytes.index(after: i)
            }
            guard isDigit(i) else { return false }
            while isDigit(i) { i = bytes.index(after: i) }
        }
        return i == end
    }

    /// `1e-05` → `1e-5`, `1e+20` → `1e20` (Swift's exponent style → the plainest JSON form).
    static func normalizedExponent(_ s: String) -> String {
        var out: [UInt8] = []
        var inExponent = false
        var exponentLeading = true
        for b in s.utf8 {
            if inExponent {
                if b == UInt8(ascii: "+") { continue }
                if b == UInt8(ascii: "-") { out.append(b); continue }
                if exponentLeading && b == 0x30 { continue }
                exponentLeading = false
                out.append(b)
            } else {
                if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") { inExponent = true; out.append(UInt8(ascii: "e")); continue }
                out.append(b)
            }
        }
        if inExponent && exponentLeading { out.append(0x30) }  // "1e+00" (never produced) → "1e0"
        return String(decoding: out, as: UTF8.self)
    }
}
