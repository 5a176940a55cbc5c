import LoomCore

/// A node of the network graph: one layer or container, built from its IR spec for a known
/// input shape.
///
/// Shapes here are per sample (no batch axis); tensors passed to `forward`/`backward` carry the
/// batch as their first axis. `forward` may save tensors on the pass's tape (training mode);
/// `backward` receives dL/dy, adds dL/dθ into the parameter store's gradients and returns dL/dx.
open class Layer<T: LoomFloat> {
    /// Where this layer is in the IR, e.g. `layers[3]` or `layers[2].branches[1]`.
    public let path: String
    /// The prefix of its parameter names, e.g. `layers.3`.
    public let name: String
    /// Tape slot (unique per layer in a network).
    public let id: Int
    public let inputShape: [Int]
    public internal(set) var outputShape: [Int]

    public init(path: String, name: String, id: Int, inputShape: [Int], outputShape: [Int]) {
        self.path = path
        self.name = name
        self.id = id
        self.inputShape = inputShape
        self.outputShape = outputShape
    }

    /// A short type name for the blueprint (`dense`, `parallel`, …).
    open var typeName: String { "layer" }
    /// One line of details for the blueprint.
    open var summary: String { "" }
    /// Direct children (containers only).
    open var children: [Layer<T>] { [] }
    /// Indices of this layer's own parameters in the store.
    open var parameterIndices: [Int] { [] }
    /// Elements one sample's pass keeps or works in besides the output (values saved for
    /// backward, scratch matrices), for the memory budget (`Network.activationBytes`); nil when
    /// the count overflows. Layers whose internal matrices outgrow their output override it.
    open var workspaceElementsPerSample: Int? { 0 }

    open func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        fatalError("forward not implemented for \(typeName)")
    }

    open func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        fatalError("backward not implemented for \(typeName)")
    }
}

extension Tensor {
    /// `[batch] + sampleShape`.
    static func batched(_ batch: Int, _ sample: [Int]) -> [Int] { [batch] + sample }
}
