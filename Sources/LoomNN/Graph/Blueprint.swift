import LoomCore

/// A network's structure for people and tools: every layer with its path, type, input and
/// output shape (per sample) and parameter count.
public enum Blueprint {
    static func ownParams<T: LoomFloat>(_ l: Layer<T>, _ store: ParameterStore<T>) -> Int {
        l.parameterIndices.reduce(0) { $0 + Tensor<T>.count(of: store.values[$1].shape) }
    }

    static func totalParams<T: LoomFloat>(_ l: Layer<T>, _ store: ParameterStore<T>) -> Int {
        ownParams(l, store) + l.children.reduce(0) { $0 + totalParams($1, store) } +
            ((l as? ParallelLayer<T>)?.gateSoftmax.map { totalParams($0, store) } ?? 0)
    }

    public static func text<T: LoomFloat>(_ net: Network<T>) -> String {
        var lines = [String]()
        let title = net.spec.name.isEmpty ? "network" : net.spec.name
        lines.append("\(title) (\(net.spec.dtype.name), IR version \(NetworkSpec.currentVersion), seed \(net.spec.seed))")
        lines.append("input  \(Tensor<T>.describe(net.inputShape)) per sample")
        func walk(_ l: Layer<T>, _ depth: Int) {
            let indent = String(repeating: "  ", count: depth)
            let n = totalParams(l, net.params)
            var s = "\(indent)\(l.path.isEmpty ? l.name : l.path)  \(l.typeName)"
            if !l.summary.isEmpty { s += " (\(l.summary))" }
            s += "  \(Tensor<T>.describe(l.inputShape)) → \(Tensor<T>.describe(l.outputShape))"
            if n > 0 { s += "  \(n) params" }
            lines.append(s)
            for c in l.children { walk(c, depth + 1) }
        }
        for l in net.root.layers { walk(l, 1) }
        lines.append("output \(Tensor<T>.describe(net.outputShape)) per sample")
        lines.append("parameters: \(net.params.scalarCount) in \(net.params.count) tensors")
        for i in 0..<net.params.count {
            lines.append("  \(net.params.names[i])  \(Tensor<T>.describe(net.params.values[i].shape))")
        }
        return lines.joined(separator: "\n")
    }

    public static func json<T: LoomFloat>(_ net: Network<T>) -> JSONValue {
        func shape(_ s: [Int]) -> JSONValue { .array(s.map { .number(JSONNumber($0)) }) }
        func node(_ l: Layer<T>) -> JSONValue {
            var o = JSONObject()
            o.set("path", .string(l.path))
            o.set("type", .string(l.typeName))
            if !l.summary.isEmpty { o.set("summary", .string(l.summary)) }
            o.set("input_shape", shape(l.inputShape))
            o.set("output_shape", shape(l.outputShape))
            o.set("parameters", .number(JSONNumber(totalParams(l, net.params))))
            o.set("parameter_names", .array(l.parameterIndices.map { .string(net.params.names[$0]) }))
            if !l.children.isEmpty { o.set("children", .array(l.children.map { node($0) })) }
            return .object(o)
        }
        var o = JSONObject()
        o.set("name", .string(net.spec.name))
        o.set("dtype", .string(net.spec.dtype.name))
        o.set("input_shape", shape(net.inputShape))
        o.set("output_shape", shape(net.outputShape))
        o.set("total_parameters", .number(JSONNumber(net.params.scalarCount)))
        o.set("layers", .array(net.root.layers.map { node($0) }))
        return .object(o)
    }
}
