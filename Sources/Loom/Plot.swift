import LoomNN

/// A minimal SVG line chart (for `loom train --plot`).
public enum SVGPlot {
    /// `series`: (label, values by epoch, colour).
    public static func lines(title: String, xLabel: String, series: [(String, [Double], String)]) -> String {
        let w = 640.0, h = 400.0, left = 60.0, right = 20.0, top = 40.0, bottom = 50.0
        let all = series.flatMap { $0.1 }.filter { $0.isFinite }
        let maxN = series.map { $0.1.count }.max() ?? 1
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if hi - lo < 1e-12 { hi = lo + 1; lo -= 0 }
        func x(_ i: Int) -> Double { left + (w - left - right) * (maxN <= 1 ? 0.5 : Double(i) / Double(maxN - 1)) }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - (v - lo) / (hi - lo)) }
        func f(_ v: Double) -> String { String(Double(Int(v * 10)) / 10) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(w / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(h - bottom))\" x2=\"\(f(w - right))\" y2=\"\(f(h - bottom))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(h - bottom))\" stroke=\"black\"/>\n"
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(short(v))</text>\n"
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>\n"
        }
        s += "<text x=\"\(f(w / 2))\" y=\"\(f(h - 12))\" text-anchor=\"middle\">\(escape(xLabel)) (1–\(maxN))</text>\n"
        for (n, (label, values, colour)) in series.enumerated() {
            var pts = ""
            for (i, v) in values.enumerated() where v.isFinite { pts += "\(f(x(i))),\(f(y(v))) " }
            s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(pts)\"/>\n"
            s += "<text x=\"\(f(w - right - 150))\" y=\"\(f(top + 16 * Double(n)))\" fill=\"\(colour)\">\(escape(label))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func short(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return String(r)
    }

    static func escape(_ t: String) -> String { SVGText.escape(t) }
}
