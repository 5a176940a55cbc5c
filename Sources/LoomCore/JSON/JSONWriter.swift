// Deterministic writer: members in stored order, numbers as their stored text, strings escaped
// per RFC 8259 (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as `\u00xx`; everything
// else, including non-ASCII, written as UTF-8 as is).
//
// Compact style: no whitespace at all. Pretty style: 2-space indentation, `"key": value`, one
// member or element per line, except that an array holding no non-empty array or object stays on
// one line as `[1, 2, 3]`; empty containers are `[]` and `{}`; no trailing newline.

extension JSONValue {
    /// The JSON text of this value (see the style notes in JSONWriter.swift).
    public func serialized(pretty: Bool = false) -> String {
        String(decoding: serializedBytes(pretty: pretty), as: UTF8.self)
    }

    /// The UTF-8 bytes of `serialized(pretty:)`.
    public func serializedBytes(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self, indent: 0)
        return writer.out
    }
}

extension JSONObject {
    public func serialized(pretty: Bool = false) -> String { JSONValue.object(self).serialized(pretty: pretty) }
}

struct JSONWriter {
    let pretty: Bool
    var out: [UInt8] = []

    init(pretty: Bool) {
        self.pretty = pretty
        out.reserveCapacity(256)
    }

    mutating func newline(_ indent: Int) {
        out.append(0x0A)
        for _ in 0..<indent { out.append(0x20) }
    }

    static func isNonEmptyContainer(_ v: JSONValue) -> Bool {
        switch v {
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        default: return false
        }
    }

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .number(let n): out.append(contentsOf: n.text.utf8)
        case .string(let s): writeString(s)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            if a.isEmpty { out.append(UInt8(ascii: "]")); return }
            let multiline = pretty && a.contains(where: JSONWriter.isNonEmptyContainer)
            for i in 0..<a.count {
                if i > 0 {
                    out.append(UInt8(ascii: ","))
                    if pretty && !multiline { out.append(0x20) }
                }
                if multiline { newline(indent + 2) }
                write(a[i], indent: indent + 2)
            }
            if multiline { newline(indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            if o.isEmpty { out.append(UInt8(ascii: "}")); return }
            for i in 0..<o.members.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 2) }
                writeString(o.members[i].key)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(0x20) }
                write(o.members[i].value, indent: indent + 2)
            }
            if pretty { newline(indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    mutating func append(_ s: StaticString) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func writeString(_ s: String) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(b)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(b)
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(0x5C); out.append(UInt8(ascii: "u"))
                out.append(0x30); out.append(0x30)
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
