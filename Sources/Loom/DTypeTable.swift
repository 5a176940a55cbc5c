import LoomCore
import LoomNN

/// The dtype comparison as a text table (the `loom quantize --report` and `loom demo cnn` output).
public enum DTypeTable {
    /// Every dtype, widest first: floats, then signed, then unsigned integers.
    public static let order: [DType] = [.f64, .f32, .f16, .bf16, .f4, .i64, .i32, .i16, .i8, .u64, .u32, .u16, .u8]

    /// What the execution column means (printed under the table).
    public static let legend = "native: computed in the type; rounded: f32 arithmetic on f16/bf16 values, each layer's output rounded; quantized: exact integer products of per-channel weights and per-row activations, each layer's output requantized (docs/numerics.md)"

    public static func render(_ rows: [DTypeComparisonRow], reference: DType, marked: DType? = nil) -> [String] {
        var lines = ["dtype  execution  accuracy  agrees with \(reference.name)  deviation  max |Δ|     weights"]
        for r in rows {
            let exec: String
            switch Execution(r.dtype) {
            case .native: exec = "native"
            case .rounded: exec = "rounded"
            case .quantized: exec = "quantized"
            }
            let acc = r.accuracy.map { pct($0) } ?? "–"
            lines.append(pad(r.dtype.name + (r.dtype == marked ? " *" : ""), 7) + pad(exec, 11) + pad(acc, 10)
                         + pad(pct(r.agreement), 17) + pad(pct(r.relativeDeviation), 11) + pad(sci(r.maxDeviation), 12)
                         + bytes(r.weightBytes))
        }
        return lines
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let c = s.unicodeScalars.count
        return c >= n ? s + " " : s + String(repeating: " ", count: n - c)
    }

    public static func pct(_ v: Double) -> String {
        if !v.isFinite { return "inf" }
        let t = (v * 10000).rounded() / 100
        var s = String(t)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < 2 { s += String(repeating: "0", count: 2 - decimals) }
        }
        return s + "%"
    }

    static func sci(_ v: Double) -> String {
        if v == 0 { return "0" }
        if !v.isFinite { return "inf" }
        var e = 0, m = v
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        let r = (m * 100).rounded() / 100
        return "\(r)e\(e)"
    }

    static func bytes(_ b: Int) -> String {
        b >= 10240 ? "\(b / 1024) KiB" : "\(b) B"
    }
}
