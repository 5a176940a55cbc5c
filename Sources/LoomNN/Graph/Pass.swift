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

    /// How the pass computes in the network's dtype; `params` is the execution's view of the
    /// master parameters (the master store itself for native execution).
    public let execution: Execution
    /// The master parameters (where gradients end up).
    public let master: ParameterStore<T>
    /// Integer codes of the weight matrices, by parameter index (quantized execution only).
    let quantizedWeights: [QuantizedRows?]

    public convenience init(context: ComputeContext, params: ParameterStore<T>, training: Bool,
                            layerCount: Int, seed: UInt64 = 0, step: UInt64 = 0, dropout: Bool = true,
                            execution: Execution = .native) {
        self.init(context: context, master: params, view: execution.view(of: params, context), training: training,
                  layerCount: layerCount, seed: seed, step: step, dropout: dropout, execution: execution)
    }

    /// A pass on an execution view made earlier (`Execution.view(of: master)`), so that several
    /// passes can share one (step execution: every stage of a tick).
    init(context: ComputeContext, master: ParameterStore<T>, view: (ParameterStore<T>, [QuantizedRows?]), training: Bool,
         layerCount: Int, seed: UInt64, step: UInt64, dropout: Bool, execution: Execution) {
        self.context = context
        self.dropout = training && dropout
        self.execution = execution
        self.master = master
        (self.params, self.quantizedWeights) = view
        self.training = training
        self.seed = seed
        self.step = step
        self.saved = training ? [[Tensor<T>]](repeating: [], count: layerCount) : []
    }

    /// The integer codes of parameter `index` when it is a weight matrix in quantized execution.
    @inline(__always) func quantizedWeight(_ index: Int) -> QuantizedRows? {
        quantizedWeights.isEmpty ? nil : quantizedWeights[index]
    }

    /// After backward: the gradients computed on the execution view become the master's.
    public func commitGradients() {
        if params !== master { master.grads = params.grads }
    }

    @inline(__always) public func save(_ id: Int, _ tensors: [Tensor<T>]) {
        if training { saved[id] = tensors }
    }
}
