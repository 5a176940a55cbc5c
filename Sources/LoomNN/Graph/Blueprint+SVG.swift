import LoomCore

/// The blueprint as a diagram (`loom inspect MODEL --svg FILE`): every layer a box with its type,
/// summary, input → output shape and parameter count; sequences top to bottom with arrows,
/// residual blocks with their skip connection, parallel branches side by side (and a filter's gate).
extension Blueprint {
    /// A laid-out node: its size, and how to draw it at an origin.
    struct Box {
        var width: Double
        var height: Double
        var draw: (_ x: Double, _ y: Double, _ out: inout [String]) -> Void
    }

    static let charWidth = 7.3, lineHeight = 15.0, pad = 8.0, gap = 22.0

    public static func svg<T: LoomFloat>(_ net: Network<T>) -> String {
        func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 12, fill: String = "#222") -> String {
            "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" fill=\"\(fill)\">\(SVGText.escape(s))</text>"
        }
        func leaf(_ lines: [String], fill: String) -> Box {
            let w = Double(lines.map { $0.count }.max() ?? 1) * charWidth + 2 * pad
            let h = Double(lines.count) * lineHeight + pad
            return Box(width: w, height: h) { x, y, out in
                out.append("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" rx=\"5\" fill=\"\(fill)\" stroke=\"#555\"/>")
                for (i, l) in lines.enumerated() {
                    out.append(text(x + pad, y + lineHeight * Double(i + 1), l, size: i == 0 ? 12 : 11, fill: i == 0 ? "#111" : "#444"))
                }
            }
        }
        func arrow(_ x: Double, _ y0: Double, _ y1: Double) -> String {
            "<line x1=\"\(f(x))\" y1=\"\(f(y0))\" x2=\"\(f(x))\" y2=\"\(f(y1 - 2))\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>"
        }
        /// Children stacked top to bottom, each centred, arrows between.
        func column(_ items: [Box]) -> Box {
            let w = items.map { $0.width }.max() ?? 0
            let h = items.map { $0.height }.reduce(0, +) + gap * Double(Swift.max(items.count - 1, 0))
            return Box(width: w, height: h) { x, y, out in
                var cy = y
                for (i, b) in items.enumerated() {
                    b.draw(x + (w - b.width) / 2, cy, &out)
                    cy += b.height
                    if i + 1 < items.count { out.append(arrow(x + w / 2, cy, cy + gap)); cy += gap }
                }
            }
        }
        /// A labelled frame around `inner`.
        func frame(_ label: String, _ inner: Box, fill: String, skip: Bool = false) -> Box {
            let extra = skip ? 24.0 : 0
            let w = Swift.max(inner.width, Double(label.count) * charWidth) + 2 * pad + extra
            let h = inner.height + lineHeight + 2 * pad
            return Box(width: w, height: h) { x, y, out in
                out.append("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" rx=\"8\" fill=\"\(fill)\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>")
                out.append(text(x + pad, y + lineHeight, label, size: 11, fill: "#333"))
                inner.draw(x + pad + (w - 2 * pad - extra - inner.width) / 2, y + lineHeight + pad, &out)
                if skip {
                    let sx = x + w - pad - 6
                    out.append("<path d=\"M \(f(x + w / 2)) \(f(y + lineHeight + 5)) H \(f(sx)) V \(f(y + h - 6)) H \(f(x + w / 2))\" fill=\"none\" stroke=\"#2a7\" stroke-width=\"1.5\"/>")
                    out.append(text(sx - 4, y + h - 8, "+", anchor: "end", size: 14, fill: "#2a7"))
                }
            }
        }
        func node(_ l: Layer<T>) -> Box {
            let n = totalParams(l, net.params)
            let title = l.typeName + (l.summary.isEmpty ? "" : "  " + l.summary)
            let shapes = "\(Tensor<T>.describe(l.inputShape)) → \(Tensor<T>.describe(l.outputShape))" + (n > 0 ? " · \(n) params" : "")
            if let p = l as? ParallelLayer<T> {
                var items = p.branches.map { node($0) }
                if let g = p.gate { items.append(frame("gate", node(g), fill: "#fff7e0")) }
                let w = items.map { $0.width }.reduce(0, +) + 16 * Double(Swift.max(items.count - 1, 0))
                let h = items.map { $0.height }.max() ?? 0
                let row = Box(width: w, height: h) { x, y, out in
                    var cx = x
                    for b in items { b.draw(cx, y, &out); cx += b.width + 16 }
                }
                return frame("\(title)  \(shapes)", row, fill: "#eef4ff")
            }
            if l is ResidualLayer<T> {
                return frame("residual  \(shapes)", column(l.children.map { node($0) }), fill: "#effaf3", skip: true)
            }
            if !l.children.isEmpty {
                return frame("\(l.typeName)  \(shapes)", column(l.children.map { node($0) }), fill: "#f6f6f6")
            }
            return leaf([title, shapes], fill: "#ffffff")
        }
        let header = leaf(["\(net.spec.name.isEmpty ? "network" : net.spec.name)  (\(net.spec.dtype.name))",
                           "input \(Tensor<T>.describe(net.inputShape)) · \(net.params.scalarCount) parameters"], fill: "#f0f0ff")
        let body = column([header] + net.root.layers.map { node($0) }
                          + [leaf(["output \(Tensor<T>.describe(net.outputShape))"], fill: "#f0f0ff")])
        let W = body.width + 40, H = body.height + 40
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(W))\" height=\"\(f(H))\" viewBox=\"0 0 \(f(W)) \(f(H))\" font-family=\"monospace\">",
                   "<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"6\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#555\"/></marker></defs>",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        body.draw(20, 20, &out)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func f(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
}

/// XML text escaping for SVG labels (the blueprint diagram and `SVGPlot`).
public enum SVGText {
    public static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}
