import LoomCore

/// Layers applied in order. The top level of a network is one of these.
public final class SequentialLayer<T: LoomFloat>: Layer<T> {
    public let layers: [Layer<T>]
    let kind: String

    public init(path: String, name: String, id: Int, inputShape: [Int], layers: [Layer<T>], kind: String = "sequential") {
        self.layers = layers
        self.kind = kind
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: layers.last?.outputShape ?? inputShape)
    }

    public override var typeName: String { kind }
    public override var summary: String { "\(layers.count) layers" }
    public override var children: [Layer<T>] { layers }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        var h = x
        let exec = pass.execution, ctx = pass.context
        // The network input is rounded like any value between layers, except token ids (indices).
        if !exec.isNative && kind == "network" && !(layers.first is EmbeddingLayer<T>) { exec.roundActivation(&h, ctx) }
        for l in layers {
            h = try l.forward(h, pass)
            exec.roundActivation(&h, ctx)
        }
        return h
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        var g = dy
        let exec = pass.execution, ctx = pass.context
        for l in layers.reversed() {
            exec.roundGradient(&g, ctx)
            g = l.backward(g, pass)
        }
        if kind == "network" { exec.roundGradient(&g, ctx) }
        return g
    }
}

/// `y = x + block(x)`; the block keeps the shape. Backward: `dx = dy + block'(dy)`.
public final class ResidualLayer<T: LoomFloat>: Layer<T> {
    public let block: SequentialLayer<T>

    public init(path: String, name: String, id: Int, inputShape: [Int], block: SequentialLayer<T>) {
        self.block = block
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { "residual" }
    public override var summary: String { "x + block(\(block.layers.count) layers)" }
    public override var children: [Layer<T>] { block.layers }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let h = try block.forward(x, pass)
        return Elementwise.add(pass.context, x, h)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let g = block.backward(dy, pass)
        return Elementwise.add(pass.context, dy, g)
    }
}
