import LoomCore

/// The state of one forward (and backward) pass: where it runs, whether it trains, and the
/// tape of values that layers save for their backward.
public final class Pass<T: LoomFloat> {
    public let context: ComputeContext
    public let params: ParameterStore<T>
    /// Training mode: dropout is active and layers record what backward needs.
    public let training: Bool
    /// Whether dropout drops (true in training unless turned off, e.g. for gradient checks).
    public let dropout: Bool
    /// Seed and step number for the pass's random streams (dropout).
    public let seed: UInt64
    public let step: UInt64
    /// saved[layer.id] = tensors that layer's backward needs.
    public var saved: [[Tensor<T>]]
    /// Sequence options for attention layers (KV cache, padding); nil for a plain forward.
    public var sequence: SequenceOptions<T>? = nil

    public init(context: ComputeContext, params: ParameterStore<T>, training: Bool,
                layerCount: Int, seed: UInt64 = 0, step: UInt64 = 0, dropout: Bool = true) {
        self.context = context
        self.dropout = training && dropout
        self.params = params
        self.training = training
        self.seed = seed
        self.step = step
        self.saved = training ? [[Tensor<T>]](repeating: [], count: layerCount) : []
    }

    @inline(__always) public func save(_ id: Int, _ tensors: [Tensor<T>]) {
        if training { saved[id] = tensors }
    }
}
