extension Safetensors {
    /// Lines describing the file (for `loom inspect`): a summary, the metadata (each value on
    /// one line, control characters escaped, cut after `maxValueLength` characters), one line per
    /// tensor in file order (name, dtype, shape, elements, bytes, data offsets), and the count of
    /// tensors and bytes per dtype.
    public func descriptionLines(maxValueLength: Int = 160) -> [String] {
        var lines = [String]()
        var elements = 0
        for t in tensors { elements = elements &+ t.count }
        lines.append("safetensors \(place): \(buffer.count) bytes; header \(headerLength) bytes; \(tensors.count) tensors, \(elements) elements, \(dataLength) bytes of data")
        if let m = metadata {
            lines.append("metadata (\(m.count) \(m.count == 1 ? "key" : "keys")):")
            for e in m { lines.append("  " + Safetensors.oneLine(e.key, max: maxValueLength) + " = " + Safetensors.oneLine(e.value, max: maxValueLength)) }
        } else {
            lines.append("metadata: none")
        }
        if tensors.isEmpty { return lines }
        let rows: [[String]] = tensors.map { t in
            [t.name, t.dtype.name, Tensor<Float>.describe(t.shape), String(t.count), String(t.byteCount),
             "[\(t.dataOffsets.lowerBound), \(t.dataOffsets.upperBound))"]
        }
        let header = ["name", "dtype", "shape", "elements", "bytes", "offsets"]
        var widths = header.map { $0.unicodeScalars.count }
        for r in rows { for i in 0..<r.count { widths[i] = Swift.max(widths[i], r[i].unicodeScalars.count) } }
        func line(_ r: [String]) -> String {
            var s = " "
            for i in 0..<r.count {
                s += " " + r[i]
                if i + 1 < r.count { s += String(repeating: " ", count: widths[i] - r[i].unicodeScalars.count) }
            }
            return s
        }
        lines.append("tensors (file order):")
        lines.append(line(header))
        for r in rows { lines.append(line(r)) }
        var summary = [String]()
        for d in SafetensorsDType.allCases {
            var n = 0, bytes = 0
            for t in tensors where t.dtype == d { n += 1; bytes = bytes &+ t.byteCount }
            if n > 0 { summary.append("\(d.name) \(n) (\(bytes) bytes)") }
        }
        lines.append("dtypes: " + summary.joined(separator: ", "))
        return lines
    }

    /// `s` on one line: control characters escaped (`\n`, `\t`, `\u{…}`), at most `max` characters
    /// (then "… (N characters)").
    static func oneLine(_ s: String, max: Int) -> String {
        var out = ""
        var n = 0
        var total = 0
        for u in s.unicodeScalars {
            total += 1
            if n >= max { continue }
            n += 1
            switch u.value {
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F: out += "\\u{" + String(u.value, radix: 16) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        if total > max { out += "… (\(total) characters)" }
        return out
    }
}
