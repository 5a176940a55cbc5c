import LoomCore
import LoomNN

/// The native entry points for models on disk.
extension AnyNetwork {
    /// Reads an IR file or a saved model.
    public static func load(path: String) throws(LoomError) -> AnyNetwork {
        try load(json: try FileIO.readText(path), source: path)
    }

    /// Writes the model (IR, weights, optimizer state) atomically.
    public func save(to path: String) throws(LoomError) {
        try FileIO.write(path, text: saved())
    }

    /// Runs inference on rows of Doubles (converted to the network's type) and returns Doubles.
    public func forward(_ x: Tensor<Double>, context: ComputeContext) throws(LoomError) -> Tensor<Double> {
        switch self {
        case .f32(let n, _): return try n.forward(x.converted(to: Float.self), context: context).converted(to: Double.self)
        case .f64(let n, _): return try n.forward(x, context: context)
        }
    }

    public var inputShape: [Int] { spec.inputShape }
    public var outputShape: [Int] {
        switch self { case .f32(let n, _): return n.outputShape; case .f64(let n, _): return n.outputShape }
    }
}
