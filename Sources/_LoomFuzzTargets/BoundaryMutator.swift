/// A small deterministic generator (xorshift64*) for the mutator: the same seed gives the same
/// mutation, so libFuzzer runs replay.
public struct FuzzRandom: Sendable {
    var state: UInt64

    public init(seed: UInt32) { state = (UInt64(seed) &+ 1) &* 0x9E37_79B9_7F4A_7C15 | 1 }

    public mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// A uniform integer in `0..<n` (`n` ≥ 1).
    public mutating func below(_ n: Int) -> Int { Int(truncatingIfNeeded: (next() >> 1) % UInt64(n)) }

    /// True with probability 1/n.
    public mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }
}

/// The structured half of the fuzzers' mutator (issue 16: plain byte mutation did not find the
/// integer-overflow bugs, boundary values did). Text formats (IR, tokenizer.json, option JSON, the
/// JSON header of a safetensors file) get a number literal replaced by a boundary value, or an
/// array element or object member duplicated; binary formats (GGUF, the safetensors length
/// prefix) get an integer field — found by walking the GGUF structure, or any aligned word —
/// overwritten with a boundary value. Every choice comes from `FuzzRandom`.
public enum BoundaryMutator {
    /// Boundary values for JSON numbers: the Int32/UInt32/Int64/UInt64 edges and one past them,
    /// 2^53 + 1 (not a double), huge and denormal doubles, a block count past 2^22, and a few
    /// float-format edges (f32 overflow, −0, a half).
    public static let numbers: [String] = [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "4294967296", "9007199254740993",
        "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e308", "-1e308", "1e-320",
        "4194305", "65536",
        "2", "3", "-2147483648", "4294967295", "1e39", "-0", "0.5",
    ]

    /// Boundary values for binary integer fields (written little-endian, truncated to the field's width).
    public static let words: [UInt64] = [
        0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 40, (1 << 53) + 1, UInt64(Int64.max), UInt64.max, 4_194_305,
        2, 3, 32, 0xFFFF_FFFE,
    ]

    /// A boundary mutation of `bytes` as an input of `target`, at most `maxSize` bytes long; nil when
    /// none applies (the caller then uses libFuzzer's own mutation).
    public static func mutate(_ bytes: [UInt8], target: FuzzTarget, maxSize: Int, random r: inout FuzzRandom) -> [UInt8]? {
        let out: [UInt8]?
        switch target {
        case .ir, .tokenizer, .options: out = mutateJSON(bytes, random: &r)
        case .gguf: out = mutateGGUF(bytes, random: &r)
        case .safetensors: out = mutateSafetensors(bytes, random: &r)
        }
        guard let o = out, o.count <= maxSize, o != bytes else { return nil }
        return o
    }

    // MARK: - JSON

    /// Replaces a number literal by a boundary value (3 times in 4), else duplicates an array
    /// element or object member; nil when the text has neither.
    ///
    /// `embedded`: numbers inside strings count too when they follow `:`, `,`, `[` or a space —
    /// JSON held in a string, such as the IR in a safetensors file's `loom.ir` metadata.
    public static func mutateJSON(_ bytes: [UInt8], embedded: Bool = false, random r: inout FuzzRandom) -> [UInt8]? {
        let scan = JSONScan(bytes, embedded: embedded)
        if !r.oneIn(4) || scan.containers.isEmpty, !scan.numbers.isEmpty {
            let range = scan.numbers[r.below(scan.numbers.count)]
            var out = Array(bytes[..<range.lowerBound])
            out += Array(numbers[r.below(numbers.count)].utf8)
            out += bytes[range.upperBound...]
            return out
        }
        // Duplicate an element: up to 4 tries to find a non-empty container.
        for _ in 0..<4 where !scan.containers.isEmpty {
            let open = scan.containers[r.below(scan.containers.count)]
            let elements = JSONScan.elements(bytes, open: open)
            guard !elements.isEmpty else { continue }
            let e = elements[r.below(elements.count)]
            var out = Array(bytes[..<e.upperBound])
            out.append(UInt8(ascii: ","))
            out += bytes[e]
            out += bytes[e.upperBound...]
            return out
        }
        return nil
    }

    /// Where the number literals (outside strings) and the containers of a JSON text are; works
    /// on broken JSON too (it only tracks strings).
    struct JSONScan {
        var numbers: [Range<Int>] = []
        var containers: [Int] = []

        init(_ b: [UInt8], embedded: Bool = false) {
            var i = 0, inString = false
            while i < b.count {
                let c = b[i]
                if inString {
                    if c == UInt8(ascii: "\\") { i += 2; continue }
                    if c == UInt8(ascii: "\"") { inString = false }
                    if embedded, i > 0, JSONScan.startsNumber(c), [UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), 0x20].contains(b[i - 1]) {
                        let start = i
                        i += 1
                        while i < b.count, JSONScan.isNumberByte(b[i]) { i += 1 }
                        if i - start > 1 || c != UInt8(ascii: "-") { numbers.append(start..<i) }
                        continue
                    }
                    i += 1
                    continue
                }
                switch c {
                case UInt8(ascii: "\""): inString = true; i += 1
                case UInt8(ascii: "["), UInt8(ascii: "{"): containers.append(i); i += 1
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let start = i
                    i += 1
                    while i < b.count, JSONScan.isNumberByte(b[i]) { i += 1 }
                    if i - start > 1 || c != UInt8(ascii: "-") { numbers.append(start..<i) }
                default: i += 1
                }
            }
        }

        static func startsNumber(_ c: UInt8) -> Bool { c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) }

        static func isNumberByte(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e")
                || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
        }

        static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

        /// The elements (whitespace trimmed) of the array or object opening at `open`, up to its
        /// matching close (or the end of the text).
        static func elements(_ b: [UInt8], open: Int) -> [Range<Int>] {
            var out: [Range<Int>] = []
            var i = open + 1, depth = 0, inString = false, start = open + 1
            func close(_ end: Int) {
                var s = start, e = end
                while s < e, isSpace(b[s]) { s += 1 }
                while e > s, isSpace(b[e - 1]) { e -= 1 }
                if s < e { out.append(s..<e) }
            }
            while i < b.count {
                let c = b[i]
                if inString {
                    if c == UInt8(ascii: "\\") { i += 2; continue }
                    if c == UInt8(ascii: "\"") { inString = false }
                } else {
                    switch c {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        if depth == 0 { close(i); return out }
                        depth -= 1
                    case UInt8(ascii: ","):
                        if depth == 0 { close(i); start = i + 1 }
                    default: break
                    }
                }
                i += 1
            }
            return out
        }
    }

    // MARK: - binary

    /// Writes `value` little-endian into `width` bytes at `offset` (bytes past the end are dropped).
    static func write(_ value: UInt64, width: Int, at offset: Int, into b: inout [UInt8]) {
        for k in 0..<width where offset + k < b.count {
            b[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))
        }
    }

    /// Overwrites a random 4- or 8-byte aligned word in `range` with a boundary value.
    static func mutateAlignedWord(_ b: inout [UInt8], in range: Range<Int>, random r: inout FuzzRandom) -> Bool {
        let width = r.oneIn(2) ? 4 : 8
        let first = (range.lowerBound + width - 1) / width
        let last = (range.upperBound - width) / width
        guard last >= first else { return false }
        write(words[r.below(words.count)], width: width, at: (first + r.below(last - first + 1)) * width, into: &b)
        return true
    }

    /// Overwrites an integer field of the GGUF structure (counts, lengths, value types, metadata
    /// values, dimensions, tensor types and offsets) with a boundary value, 7 times in 8; else any
    /// aligned word.
    public static func mutateGGUF(_ bytes: [UInt8], random r: inout FuzzRandom) -> [UInt8]? {
        var b = bytes
        let fields = GGUFFields(bytes).fields
        if !fields.isEmpty && !r.oneIn(8) {
            let f = fields[r.below(fields.count)]
            // 1 time in 4 a small value instead: another metadata value type or tensor type (0…47).
            let value = r.oneIn(4) ? UInt64(r.below(48)) : words[r.below(words.count)]
            write(value, width: f.width, at: f.offset, into: &b)
            return b
        }
        return mutateAlignedWord(&b, in: 0..<b.count, random: &r) ? b : nil
    }

    /// The integer fields of a GGUF file (v2/v3 layout), as far as its structure can be walked.
    struct GGUFFields {
        var fields: [(offset: Int, width: Int)] = []
        let b: [UInt8]
        var pos = 0

        init(_ bytes: [UInt8]) {
            b = bytes
            guard b.count >= 24, b[0] == 0x47, b[1] == 0x47, b[2] == 0x55, b[3] == 0x46 else { return }
            field(4, 4)  // version
            field(8, 8)  // tensor count
            field(16, 8)  // metadata count
            let tensors = Int(truncatingIfNeeded: u64(8)), kvs = Int(truncatingIfNeeded: u64(16))
            pos = 24
            var n = 0
            while n < kvs && n < 4096 {
                guard string(), let type = u32At(), value(type, depth: 0) else { return }
                n += 1
            }
            n = 0
            while n < tensors && n < 4096 {
                guard string(), let dims = u32At(), dims <= 8 else { return }
                for _ in 0..<dims { guard u64At() != nil else { return } }
                guard u32At() != nil, u64At() != nil else { return }
                n += 1
            }
        }

        mutating func field(_ offset: Int, _ width: Int) { fields.append((offset, width)) }

        func u64(_ o: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[o + k]) << (8 * UInt64(k)) }
            return v
        }

        mutating func u32At() -> UInt32? {
            guard pos + 4 <= b.count else { return nil }
            field(pos, 4)
            let v = UInt32(b[pos]) | UInt32(b[pos + 1]) << 8 | UInt32(b[pos + 2]) << 16 | UInt32(b[pos + 3]) << 24
            pos += 4
            return v
        }

        mutating func u64At() -> UInt64? {
            guard pos + 8 <= b.count else { return nil }
            field(pos, 8)
            let v = u64(pos)
            pos += 8
            return v
        }

        /// A string: its u64 length (a field), then its bytes.
        mutating func string() -> Bool {
            guard let n = u64At(), n <= UInt64(b.count - pos) else { return false }
            pos += Int(n)
            return true
        }

        /// A metadata value of `type`; integer values of 4 or 8 bytes are fields.
        mutating func value(_ type: UInt32, depth: Int) -> Bool {
            let sizes: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
            if let s = sizes[type] {
                guard pos + s <= b.count else { return false }
                if s >= 4 { field(pos, s) }
                pos += s
                return true
            }
            if type == 8 { return string() }
            guard type == 9, depth < 4, let itemType = u32At(), let count = u64At() else { return false }
            if let s = sizes[itemType] {
                guard count <= UInt64((b.count - pos) / s) else { return false }
                // A few items as fields (the first ones: ids, sizes); skip the rest.
                if s >= 4 { for k in 0..<Swift.min(Int(count), 8) { field(pos + k * s, s) } }
                pos += Int(count) * s
                return true
            }
            var k: UInt64 = 0
            while k < count {
                // Strings in a long array (a vocabulary): record the first lengths only.
                let before = fields.count
                guard value(itemType, depth: depth + 1) else { return false }
                if k >= 8 { fields.removeSubrange(before...) }
                k += 1
            }
            return true
        }
    }

    /// The 8-byte header length (1 time in 8), or the JSON header — after which the length prefix
    /// is set to the new header's length (7 times in 8), so the mutation reaches the header's fields.
    public static func mutateSafetensors(_ bytes: [UInt8], random r: inout FuzzRandom) -> [UInt8]? {
        guard bytes.count >= 8 else { return nil }
        var b = bytes
        if r.oneIn(8) {
            BoundaryMutator.write(words[r.below(words.count)], width: 8, at: 0, into: &b)
            return b
        }
        var n = 0
        for k in 0..<8 { n |= Int(b[k]) << (8 * k) }
        let end = (n > 0 && n <= b.count - 8) ? 8 + n : b.count
        guard let header = mutateJSON(Array(b[8..<end]), embedded: true, random: &r) else { return nil }
        var out = Array(b[..<8]) + header + b[end...]
        if !r.oneIn(8) { write(UInt64(header.count), width: 8, at: 0, into: &out) }
        return out
    }
}
