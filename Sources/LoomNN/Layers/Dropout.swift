import LoomCore

/// Dropout: in training, each element is kept when its uniform draw `u ≥ rate` and then scaled
/// by `scale = T(1 / (1 − rate))` (computed in Double, rounded once); dropped elements become 0.
/// In inference it is the identity.
///
/// The draw for element `i` of the pass's input is `Philox(seed).uniformFloat(stream:
/// StreamID.of("dropout:" + name, step), index: i)`: a pure function of seed, layer, step and
/// position, independent of threads.
public final class DropoutLayer<T: LoomFloat>: Layer<T> {
    public let rate: Double

    public init(path: String, name: String, id: Int, inputShape: [Int], rate: Double) {
        self.rate = rate
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { "dropout" }
    public override var summary: String { "rate \(rate)" }

    /// The Philox stream of the training pass at `step`.
    public func maskStream(step: UInt64) -> UInt64 { StreamID.of("dropout:" + name, step) }

    /// `T(1 / (1 − rate))`, the factor of a kept element.
    public var scale: T { T(1.0 / (1.0 - rate)) }

    /// The mask of one training pass: `scale` where element i is kept, 0 where it is dropped.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func mask(count: Int, seed: UInt64, step: UInt64) -> [T] {
        let rng = Philox(seed: seed)
        let stream = maskStream(step: step)
        let scale = self.scale
        let r = Float(rate)
        var mask = [T](repeating: 0, count: count)
        for i in 0..<count where rng.uniformFloat(stream: stream, index: UInt64(i)) >= r { mask[i] = scale }
        return mask
    }

    /// `y = m == 0 ? +0 : x·m` per element (forward with x, backward with dy): what the layer
    /// computes with its mask m.
    public static var maskProgram: ScalarProgram {
        ScalarProgram(inputs: ["x", "m"], statements: [.init("y", .select(.name("m") == .c(0), .c(0), .name("x") * .name("m")))],
                      outputs: ["y"])
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        guard pass.dropout, rate > 0 else {
            if pass.training { pass.save(id, []) }
            return x
        }
        let mask = self.mask(count: x.count, seed: pass.seed, step: pass.step)
        var y = [T](repeating: 0, count: x.count)
        for i in 0..<x.count where mask[i] != 0 { y[i] = x.data[i] * mask[i] }
        pass.save(id, [Tensor(uncheckedShape: x.shape, data: mask)])
        return Tensor(uncheckedShape: x.shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let saved = pass.saved[id]
        if saved.isEmpty { return dy }
        let mask = saved[0].data
        var dx = dy.data
        for i in 0..<dx.count { dx[i] = mask[i] == 0 ? 0 : dx[i] * mask[i] }
        return Tensor(uncheckedShape: dy.shape, data: dx)
    }
}

/// An activation as a layer of its own.
public final class ActivationLayer<T: LoomFloat>: Layer<T> {
    public let activation: Activation

    public init(path: String, name: String, id: Int, inputShape: [Int], activation: Activation) {
        self.activation = activation
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { "activation" }
    public override var summary: String { activation.name }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let act = activation
        let y = Tensor(uncheckedShape: x.shape, data: act.applyAll(pass.context, x.data))
        pass.save(id, [x, y])
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let x = pass.saved[id][0].data, y = pass.saved[id][1].data
        let act = activation
        var dx = dy.data
        act.backpropagate(pass.context, &dx, x: x, y: y)
        return Tensor(uncheckedShape: dy.shape, data: dx)
    }
}
