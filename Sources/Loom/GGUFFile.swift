import LoomCore

/// GGUF files on disk: opened by mapping (nothing is copied) and described for `loom inspect`.
public enum GGUFFile {
    /// Maps `path` and parses it; errors name the path.
    public static func open(_ path: String) throws(LoomError) -> GGUF {
        try GGUF(buffer: MappedFile.open(path), name: path)
    }

    /// Text lines describing `g`: version, sizes, every metadata entry (arrays longer than
    /// `arrayPreview` elements and strings longer than `stringPreview` characters are
    /// summarized), a tensor count per type, and one line per tensor (name, type, row-major
    /// shape, bytes).
    public static func describe(_ g: GGUF, arrayPreview: Int = 8, stringPreview: Int = 120) -> [String] {
        var lines: [String] = []
        lines.append("GGUF v\(g.version): \(g.tensors.count) tensors, \(g.metadata.count) metadata entries, \(g.buffer.count) bytes")
        lines.append("alignment \(g.alignment), data section at offset \(g.dataOffset) (\(g.buffer.count - min(g.dataOffset, g.buffer.count)) bytes)")
        lines.append("metadata:")
        for (key, value) in g.metadata.entries {
            lines.append("  \(key): \(valueText(value, arrayPreview: arrayPreview, stringPreview: stringPreview))")
        }
        var counts: [(GGMLType, Int, Int, Int)] = []  // type, tensors, elements, bytes
        for t in g.tensors {
            if let i = counts.firstIndex(where: { $0.0 == t.type }) {
                counts[i].1 += 1; counts[i].2 += t.elementCount; counts[i].3 += t.byteCount
            } else {
                counts.append((t.type, 1, t.elementCount, t.byteCount))
            }
        }
        let totalElements = g.tensors.reduce(0) { $0 + $1.elementCount }
        let totalBytes = g.tensors.reduce(0) { $0 + $1.byteCount }
        lines.append("tensors: \(g.tensors.count), \(totalElements) elements, \(totalBytes) bytes")
        for (type, n, e, b) in counts.sorted(by: { $0.0.rawValue < $1.0.rawValue }) {
            lines.append("  \(type.name): \(n) tensors, \(e) elements, \(b) bytes\(type.canDequantize ? "" : " (not decoded by Loom)")")
        }
        let width = g.tensors.reduce(0) { max($0, $1.name.count) }
        let typeWidth = g.tensors.reduce(0) { max($0, $1.type.name.count) }
        for t in g.tensors {
            let pad = String(repeating: " ", count: width - t.name.count)
            let typePad = String(repeating: " ", count: typeWidth - t.type.name.count)
            lines.append("  \(t.name)\(pad)  \(t.type.name)\(typePad)  [\(t.shape.map(String.init).joined(separator: ", "))]  \(t.byteCount) bytes")
        }
        return lines
    }

    /// A value as text; scalars carry their type (`9 (u32)`) except inside arrays (`typed: false`),
    /// whose element type is given once.
    static func valueText(_ v: GGUFValue, arrayPreview: Int, stringPreview: Int, typed: Bool = true) -> String {
        switch v {
        case .string(let s): return quoted(s, limit: stringPreview)
        case .array(let a):
            let shown = min(a.count, arrayPreview)
            var parts: [String] = []
            for i in 0..<shown { parts.append(valueText(a[i], arrayPreview: arrayPreview, stringPreview: 40, typed: false)) }
            let more = a.count > shown ? ", … (\(a.count - shown) more)" : ""
            return "array<\(a.elementType.name)>[\(a.count)] [\(parts.joined(separator: ", "))\(more)]"
        case .u8(let x): return typed ? "\(x) (u8)" : "\(x)"
        case .i8(let x): return typed ? "\(x) (i8)" : "\(x)"
        case .u16(let x): return typed ? "\(x) (u16)" : "\(x)"
        case .i16(let x): return typed ? "\(x) (i16)" : "\(x)"
        case .u32(let x): return typed ? "\(x) (u32)" : "\(x)"
        case .i32(let x): return typed ? "\(x) (i32)" : "\(x)"
        case .u64(let x): return typed ? "\(x) (u64)" : "\(x)"
        case .i64(let x): return typed ? "\(x) (i64)" : "\(x)"
        case .f32(let x): return typed ? "\(x) (f32)" : "\(x)"
        case .f64(let x): return typed ? "\(x) (f64)" : "\(x)"
        case .bool(let x): return typed ? "\(x) (bool)" : "\(x)"
        }
    }

    /// A string in double quotes with control characters escaped, cut at `limit` characters.
    static func quoted(_ s: String, limit: Int) -> String {
        var out = "\""
        var n = 0
        for ch in s.unicodeScalars {
            if n == limit { return out + "\"… (\(s.unicodeScalars.count) characters)" }
            switch ch {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if ch.value < 0x20 || ch.value == 0x7F { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
            }
            n += 1
        }
        return out + "\""
    }
}
