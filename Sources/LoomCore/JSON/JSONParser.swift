// Strict RFC 8259 parser over UTF-8 bytes. Iterative (an explicit stack instead of recursion),
// so deep documents cannot overflow the machine stack; nesting beyond `maxDepth` is an error.

extension JSONValue {
    /// The default nesting limit of `parse`.
    public static let defaultMaxDepth = 512

    /// Parses one JSON document (a single value, surrounded by optional whitespace).
    public static func parse(_ text: String, maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError>? = text.utf8.withContiguousStorageIfAvailable { buffer in
            JSONParser.run(buffer, maxDepth: maxDepth)
        }
        if let result { return try result.get() }
        return try parse(utf8: Array(text.utf8), maxDepth: maxDepth)
    }

    /// Parses one JSON document from UTF-8 bytes (validated strictly; a byte order mark is refused).
    public static func parse(utf8 bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            JSONParser.run(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0

    static func run(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONValue, JSONError> {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        do throws(JSONError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    // MARK: errors

    func error(_ message: String, at offset: Int) -> JSONError {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let b = bytes[i]
            if b == 0x0A || (b == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A)) {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return JSONError(message: message, line: line, column: column, offset: offset)
    }

    func describeByte(at i: Int) -> String {
        if i >= bytes.count { return "end of input" }
        let b = bytes[i]
        if b >= 0x20 && b < 0x7F { return "'" + String(decoding: [b], as: UTF8.self) + "'" }
        if b == 0xEF && i + 2 < bytes.count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF { return "byte order mark" }
        return "byte 0x" + JSONParser.hex(UInt32(b), digits: 2)
    }

    static func hex(_ v: UInt32, digits: Int) -> String {
        let chars: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out = [UInt8](repeating: 0x30, count: digits)
        var v = v
        var i = digits - 1
        while i >= 0 { out[i] = chars[Int(v & 15)]; v >>= 4; i -= 1 }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: structure

    @inline(__always) mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    @inline(__always) func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        if pos == bytes.count { throw error("empty document: expected a JSON value", at: pos) }
        let value = try parseValue()
        skipWhitespace()
        if pos < bytes.count {
            throw error("unexpected \(describeByte(at: pos)) after the JSON value", at: pos)
        }
        return value
    }

    /// Parses a value and everything nested in it with explicit stacks.
    mutating func parseValue() throws(JSONError) -> JSONValue {
        var isObject: [Bool] = []      // kind of each open container, innermost last
        var arrays: [[JSONValue]] = []
        var objects: [JSONObject] = []
        var keys: [String] = []        // pending key of each open object
        while true {
            skipWhitespace()
            guard let c = peek() else { throw error("unexpected end of input: expected a value", at: pos) }
            var value: JSONValue
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if isObject.count >= maxDepth {
                    throw error("nesting deeper than \(maxDepth) levels", at: pos)
                }
                pos += 1
                skipWhitespace()
                if c == UInt8(ascii: "[") {
                    if peek() == UInt8(ascii: "]") { pos += 1; value = .array([]); break }
                    isObject.append(false)
                    arrays.append([])
                    continue
                }
                if peek() == UInt8(ascii: "}") { pos += 1; value = .object(JSONObject()); break }
                let object = JSONObject()
                let key = try parseKey(in: object, afterComma: false)
                isObject.append(true)
                objects.append(object)
                keys.append(key)
                continue
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "-"), 0x30...0x39:
                value = .number(try parseNumber())
            case UInt8(ascii: "t"):
                try expectLiteral("true"); value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false"); value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null"); value = .null
            default:
                throw error("unexpected \(describeByte(at: pos)): expected a value", at: pos)
            }
            // Attach the finished value to its parents, closing containers that end here.
            while true {
                guard let inObject = isObject.last else { return value }
                skipWhitespace()
                let next = peek()
                if inObject {
                    let top = objects.count - 1
                    objects[top].appendNew(keys.removeLast(), value)
                    if next == UInt8(ascii: ",") {
                        pos += 1
                        keys.append(try parseKey(in: objects[top], afterComma: true))
                        break
                    } else if next == UInt8(ascii: "}") {
                        pos += 1
                        value = .object(objects.removeLast())
                        isObject.removeLast()
                    } else {
                        throw error("expected ',' or '}' after object member, found \(describeByte(at: pos))", at: pos)
                    }
                } else {
                    let top = arrays.count - 1
                    arrays[top].append(value)
                    if next == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        if peek() == UInt8(ascii: "]") {
                            throw error("trailing comma before ']'", at: pos)
                        }
                        break
                    } else if next == UInt8(ascii: "]") {
                        pos += 1
                        value = .array(arrays.removeLast())
                        isObject.removeLast()
                    } else {
                        throw error("expected ',' or ']' after array element, found \(describeByte(at: pos))", at: pos)
                    }
                }
            }
        }
    }

    /// Parses `"key"` and the `:` after it; rejects a key already present in `object`.
    mutating func parseKey(in object: JSONObject, afterComma: Bool) throws(JSONError) -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else {
            if afterComma && peek() == UInt8(ascii: "}") { throw error("trailing comma before '}'", at: pos) }
            let expected = afterComma ? "expected '\"' to begin an object key" : "expected '\"' to begin an object key or '}'"
            throw error("\(expected), found \(describeByte(at: pos))", at: pos)
        }
        let start = pos
        let key = try parseString()
        if object.index(of: key) != nil {
            throw error("duplicate key \"\(key)\"", at: start)
        }
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else {
            throw error("expected ':' after object key, found \(describeByte(at: pos))", at: pos)
        }
        pos += 1
        return key
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for k in 0..<n {
            if pos + k >= bytes.count || bytes[pos + k] != w[k] {
                throw error("invalid literal: expected 'true', 'false' or 'null'", at: pos)
            }
        }
        pos += n
    }

    // MARK: numbers

    mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = pos
        @inline(__always) func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(pos) else { throw error("expected a digit after '-'", at: pos) }
        if bytes[pos] == 0x30 {
            pos += 1
            if isDigit(pos) { throw error("leading zeros are not allowed in numbers", at: start) }
        } else {
            while isDigit(pos) { pos += 1 }
        }
        if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(pos) else { throw error("expected a digit after the decimal point", at: pos) }
            while isDigit(pos) { pos += 1 }
        }
        if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard isDigit(pos) else { throw error("expected a digit in the exponent", at: pos) }
            while isDigit(pos) { pos += 1 }
        }
        return JSONNumber(validatedText: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self))
    }

    // MARK: strings

    /// Parses a string starting at the opening quote.
    mutating func parseString() throws(JSONError) -> String {
        let open = pos
        pos += 1
        let start = pos
        // Fast path: plain printable ASCII up to the closing quote.
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
            pos += 1
        }
        var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: open) }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            } else if b == UInt8(ascii: "\\") {
                try parseEscape(into: &out)
            } else if b < 0x20 {
                throw error("unescaped control character U+00\(JSONParser.hex(UInt32(b), digits: 2)) in string", at: pos)
            } else if b < 0x80 {
                out.append(b)
                pos += 1
            } else {
                let n = utf8SequenceLength(at: pos)
                if n == 0 { throw error("invalid UTF-8 (byte 0x\(JSONParser.hex(UInt32(b), digits: 2)))", at: pos) }
                for k in 0..<n { out.append(bytes[pos + k]) }
                pos += n
            }
        }
    }

    /// Length of the well-formed UTF-8 sequence at `i` (Unicode Table 3-7), 0 if ill-formed.
    func utf8SequenceLength(at i: Int) -> Int {
        let b0 = bytes[i]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < bytes.count && bytes[i + k] >= lo && bytes[i + k] <= hi
        }
        switch b0 {
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE, 0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(JSONError) {
        let start = pos
        pos += 1
        guard pos < bytes.count else { throw error("unterminated string", at: start) }
        let c = bytes[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4(escapeStart: start)
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                guard pos + 1 < bytes.count && bytes[pos] == UInt8(ascii: "\\") && bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired high surrogate \\u\(JSONParser.hex(scalar, digits: 4)) (expected a \\uDC00-\\uDFFF escape after it)", at: start)
                }
                let lowStart = pos
                pos += 2
                let low = try hex4(escapeStart: lowStart)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw error("unpaired high surrogate \\u\(JSONParser.hex(scalar, digits: 4)) (followed by \\u\(JSONParser.hex(low, digits: 4)))", at: start)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw error("unpaired low surrogate \\u\(JSONParser.hex(scalar, digits: 4))", at: start)
            }
            JSONParser.appendUTF8(scalar, to: &out)
        default:
            let what = c >= 0x20 && c < 0x7F
                ? "'\\" + String(decoding: [c], as: UTF8.self) + "'"
                : "'\\' followed by byte 0x" + JSONParser.hex(UInt32(c), digits: 2)
            throw error("invalid escape sequence \(what) in string", at: start)
        }
    }

    /// Four hex digits after `\u`.
    mutating func hex4(escapeStart: Int) throws(JSONError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count else { throw error("incomplete \\u escape: expected 4 hex digits", at: escapeStart) }
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw error("invalid \\u escape: expected 4 hex digits", at: escapeStart)
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        if s < 0x80 {
            out.append(UInt8(s))
        } else if s < 0x800 {
            out.append(UInt8(0xC0 | (s >> 6)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        } else if s < 0x10000 {
            out.append(UInt8(0xE0 | (s >> 12)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (s >> 18)))
            out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }
}
