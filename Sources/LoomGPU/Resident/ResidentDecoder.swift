import LoomCore
import LoomNN

/// Incremental decoding on a GPU: the network's weights (f32 values, or GGUF blocks byte for byte)
/// and every attention layer's key/value cache live on the device; each call runs new positions
/// through device kernels that repeat the CPU's canonical order, so its outputs equal
/// `Network.forward(_:cache:)`'s bit for bit (prefill and decode, any split). Only the new token
/// ids go in and the requested outputs come out.
public final class ResidentDecoder<T: LoomFloat> {
    public let network: Network<T>
    public let batch: Int
    /// Positions the cache holds at most.
    public private(set) var capacity: Int
    /// Positions stored so far (the next token's position).
    public private(set) var length = 0
    let rt: ResidentRuntime<T>
    let root: SequenceOp<T>
    var input: CUDABuffer?

    /// Builds the device copy of `network` (every layer must have device kernels; f32 or f64).
    public init(_ network: Network<T>, device: CUDADevice, batch: Int = 1, capacity: Int) throws(LoomError) {
        guard network.execution.isNative else {
            throw LoomError(.device, "dtype", "\(network.spec.dtype.name) networks do not run device-resident yet (f32 and f64 do)")
        }
        guard batch > 0 else { throw LoomError(.invalidArgument, "cache.batch", "must be positive, got \(batch)") }
        guard capacity > 0 else { throw LoomError(.invalidArgument, "cache.capacity", "must be positive, got \(capacity)") }
        self.network = network
        self.batch = batch
        self.capacity = capacity
        rt = try ResidentRuntime(device: device, store: network.params, seed: network.spec.seed, gradients: false)
        root = try SequenceOp(network.root.layers, rt)
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
        let p = try rt.reserve(&input, x.count)
        try x.data.withUnsafeBufferPointer { (b) throws(LoomError) in try rt.device.copyIn(b, to: p) }
        rt.hostInput = (p, x.data)
        rt.training = false
        rt.sequence = (length, capacity)
        defer { rt.sequence = nil }
        let y = try root.forward(DeviceTensor(pointer: p, shape: x.shape))
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

    /// Per-kernel wall times (each launch waited for), when `profiling` is on.
    public var profiling: Bool {
        get { rt.profile != nil }
        set { rt.profile = newValue ? [:] : nil }
    }

    /// The profile as lines `ms calls key`, slowest first.
    public var profileLines: [String] { rt.profileLines }
}
