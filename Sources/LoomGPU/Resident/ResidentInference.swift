import LoomCore
import LoomNN

/// Inference on a GPU: the network's weights (f32 values, or GGUF blocks byte for byte) and every
/// attention layer's key/value cache live on the device, and each call runs through device
/// kernels that repeat the CPU's canonical order. Two kinds of call:
/// - incremental decoding (`forward(_:lastPosition:)`): new positions through the cache, the
///   outputs equal to `Network.forward(_:cache:)`'s bit for bit (prefill and decode, any split);
/// - whole padded sequences (`forward(_:validLengths:)`), equal to `Network.forward(_:validLengths:)`.
/// Only the inputs go in and the requested outputs come out.
public final class ResidentInference<T: LoomFloat> {
    public let network: Network<T>
    public let batch: Int
    /// Positions the cache holds at most.
    public private(set) var capacity: Int
    /// Positions stored so far (the next token's position).
    public private(set) var length = 0
    let rt: ResidentRuntime<T>
    let root: SequenceOp<T>
    var input: CUDABuffer?, valid: CUDABuffer?

    /// Builds the device copy of `network` (every layer must have device kernels; f32, f64, f16 or bf16).
    public init(_ network: Network<T>, device: CUDADevice, batch: Int = 1, capacity: Int) throws(LoomError) {
        guard batch > 0 else { throw LoomError(.invalidArgument, "cache.batch", "must be positive, got \(batch)") }
        guard capacity > 0 else { throw LoomError(.invalidArgument, "cache.capacity", "must be positive, got \(capacity)") }
        self.network = network
        self.batch = batch
        self.capacity = capacity
        rt = try ResidentRuntime(device: device, store: network.params, seed: network.spec.seed, execution: network.execution, gradients: false)
        root = try SequenceOp(network.root, rt)
    }

    public var name: String { "cuda:\(rt.device.index) \(rt.device.name), resident" }

    /// Forgets every stored position; a new `capacity` sizes the cache for the next sequence.
    public func reset(capacity: Int? = nil) throws(LoomError) {
        if let c = capacity {
            guard c > 0 else { throw LoomError(.invalidArgument, "cache.capacity", "must be positive, got \(c)") }
            self.capacity = c
        }
        length = 0
    }

    /// Runs positions `length ..< length + n` of `x` `[batch, n, …]` through the network (as
    /// `Network.forward(_:cache:)`), extending the cache. Returns every position's output, or with
    /// `lastPosition` only the last one's (`[batch, 1, …]`).
    public func forward(_ x: Tensor<T>, lastPosition: Bool = false) throws(LoomError) -> Tensor<T> {
        try network.validateSequenceInput(x)
        guard x.batch == batch else {
            throw LoomError(.shapeMismatch, "input", "batch \(x.batch) differs from the cache's batch \(batch)")
        }
        let n = x.shape[1]
        guard n <= capacity - length else {
            throw LoomError(.invalidInput, "cache", "\(n) new positions after \(length) exceed the cache capacity \(capacity)")
        }
        rt.sequence = (length, capacity)
        defer { rt.sequence = nil }
        let y = try run(x)
        length += n
        guard lastPosition && n > 1 else {
            return Tensor(uncheckedShape: y.shape, data: try rt.device.copyOut(y.pointer, count: y.count, as: T.self))
        }
        let width = y.count / (batch * n)
        var data = [T]()
        data.reserveCapacity(batch * width)
        for b in 0..<batch {
            data += try rt.device.copyOut(y.pointer + CUdeviceptr(((b * n + n - 1) * width) * rt.size), count: width, as: T.self)
        }
        var shape = y.shape
        shape[1] = 1
        return Tensor(uncheckedShape: shape, data: data)
    }

    /// Positions `x` `[batch, n, …]` (any batch and n) with a padding mask: batch row b attends
    /// only to keys `0..<validLengths[b]` (as `Network.forward(_:validLengths:)`); the cache is not
    /// used. Returns every position's output.
    public func forward(_ x: Tensor<T>, validLengths: [Int]) throws(LoomError) -> Tensor<T> {
        try network.validateSequenceInput(x)
        try Network<T>.checkValidLengths(validLengths, batch: x.batch, positions: x.shape[1])
        rt.valid = try rt.upload(validLengths.map { Int32($0) }, into: &valid)
        defer { rt.valid = nil }
        let y = try run(x)
        return Tensor(uncheckedShape: y.shape, data: try rt.device.copyOut(y.pointer, count: y.count, as: T.self))
    }

    /// Uploads `x` and runs the network's forward on the device.
    func run(_ x: Tensor<T>) throws(LoomError) -> DeviceTensor {
        let p = try rt.reserve(&input, x.count)
        try x.data.withUnsafeBufferPointer { (b) throws(LoomError) in try rt.device.copyIn(b, to: p) }
        rt.hostInput = (p, x.data)
        rt.training = false
        return try root.forward(DeviceTensor(pointer: p, shape: x.shape))
    }

    /// Per-kernel wall times (each launch waited for), when `profiling` is on.
    public var profiling: Bool {
        get { rt.profile != nil }
        set { rt.profile = newValue ? [:] : nil }
    }

    /// The profile as lines `ms calls key`, slowest first.
    public var profileLines: [String] { rt.profileLines }
}
