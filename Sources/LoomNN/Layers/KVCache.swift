import LoomCore

/// Keys and values of every attention layer of a network, for incremental decoding: prefill a
/// prompt with `Network.forward(_:cache:)`, then feed one token (or a few) at a time. Each call
/// appends its positions; the outputs are bit-identical to a full-sequence forward at the same
/// positions (causal attention), for any split and any batch composition.
///
/// Storage per attention layer: keys (after RoPE) and values, `[batch, capacity, kv_heads·head_dim]`.
public final class KVCache<T: LoomFloat> {
    public let batch: Int
    public let capacity: Int
    /// Positions stored so far (the next token's position).
    public internal(set) var length: Int = 0

    final class Entry {
        let width: Int
        var keys: [T]
        var values: [T]
        init(width: Int, count: Int) {
            self.width = width
            keys = [T](repeating: 0, count: count)
            values = keys
        }
    }
    var entries: [Entry?] = []
    /// Bytes of every entry so far, kept within the memory budget (`Limits.memoryBytes`).
    private(set) var bytes = 0

    public init(batch: Int, capacity: Int) throws(LoomError) {
        guard batch > 0 else { throw LoomError(.invalidArgument, "cache.batch", "must be positive, got \(batch)") }
        guard capacity > 0 else { throw LoomError(.invalidArgument, "cache.capacity", "must be positive, got \(capacity)") }
        self.batch = batch
        self.capacity = capacity
    }

    /// Forgets every stored position (keeps the memory).
    public func reset() { length = 0 }

    /// The storage of layer `id` (created on first use).
    func entry(layer id: Int, width: Int, path: String) throws(LoomError) -> Entry {
        if id < entries.count, let e = entries[id] {
            guard e.width == width else {
                throw LoomError(.invalidArgument, path, "this cache was filled by another network (width \(e.width), layer needs \(width))")
            }
            return e
        }
        let count = try Builder<T>.checkedCount([batch, capacity, width], path: path, what: "the key/value cache")
        let total = Limits.product([2, count, MemoryLayout<T>.stride]).flatMap { Limits.sum(bytes, $0) }
        try Limits.checkMemory(total, for: "a key/value cache of \(capacity) positions", path: path)
        bytes = total!
        while entries.count <= id { entries.append(nil) }
        let e = Entry(width: width, count: count)
        entries[id] = e
        return e
    }
}

/// Per-pass sequence options read by attention layers: a KV cache (incremental decoding, with
/// `start` = the position of the first new token) or per-batch-row counts of valid key positions
/// (padding: keys at or past the count are excluded).
public final class SequenceOptions<T: LoomFloat> {
    public let cache: KVCache<T>?
    public let start: Int
    public let validLengths: [Int]?
    public init(cache: KVCache<T>? = nil, start: Int = 0, validLengths: [Int]? = nil) {
        self.cache = cache; self.start = start; self.validLengths = validLengths
    }
}

extension Network {
    /// Checks `[batch, n] + inputShape[1...]` (any sequence length n ≥ 1) with finite values.
    public func validateSequenceInput(_ x: Tensor<T>) throws(LoomError) {
        guard x.rank == inputShape.count + 1, x.rank >= 2, Array(x.shape.dropFirst(2)) == Array(inputShape.dropFirst()),
              x.batch > 0, x.shape[1] > 0 else {
            throw LoomError(.shapeMismatch, "input", "expected [batch, positions\(inputShape.dropFirst().map { ", \($0)" }.joined())], got \(Tensor<T>.describe(x.shape))")
        }
        if let i = x.firstNonFinite {
            throw LoomError(.nonFinite, "input", "value \(x.data[i].double) at index \(i)")
        }
    }

    /// Incremental decoding: runs the new positions `x` `[cache.batch, n, …]` (positions
    /// `cache.length ..< cache.length + n`) through the network, attention layers reading and
    /// extending `cache`. The other layers must act on each position independently (dense, norms,
    /// activations, residual, …). A cache overflow is an error (nothing is appended then).
    public func forward(_ x: Tensor<T>, cache: KVCache<T>, context: ComputeContext = SerialContext()) throws(LoomError) -> Tensor<T> {
        try validateSequenceInput(x)
        guard x.batch == cache.batch else {
            throw LoomError(.shapeMismatch, "input", "batch \(x.batch) differs from the cache's batch \(cache.batch)")
        }
        let n = x.shape[1]
        guard n <= cache.capacity - cache.length else {
            throw LoomError(.invalidInput, "cache", "\(n) new positions after \(cache.length) exceed the cache capacity \(cache.capacity)")
        }
        let pass = makePass(context: context, training: false)
        pass.sequence = SequenceOptions(cache: cache, start: cache.length)
        let y = try root.forward(x, pass)
        cache.length += n
        return y
    }

    /// Checks padding counts: one per batch row, each in 1…positions.
    public static func checkValidLengths(_ v: [Int], batch: Int, positions: Int) throws(LoomError) {
        guard v.count == batch else {
            throw LoomError(.invalidArgument, "valid_lengths", "has \(v.count) entries for a batch of \(batch)")
        }
        for (i, l) in v.enumerated() where l < 1 || l > positions {
            throw LoomError(.invalidArgument, "valid_lengths[\(i)]", "must be in 1…\(positions), got \(l)")
        }
    }

    /// Inference with a padding mask: in every attention layer, batch row b attends only to keys
    /// `0..<validLengths[b]` (and, if causal, ≤ the query's position).
    /// The number of positions may differ from the IR's (like a KV-cache forward: every layer must
    /// act on positions independently or through attention).
    public func forward(_ x: Tensor<T>, validLengths: [Int], context: ComputeContext = SerialContext()) throws(LoomError) -> Tensor<T> {
        try validateSequenceInput(x)
        try Network.checkValidLengths(validLengths, batch: x.batch, positions: x.rank > 1 ? x.shape[1] : 1)
        let pass = makePass(context: context, training: false)
        pass.sequence = SequenceOptions(validLengths: validLengths)
        return try root.forward(x, pass)
    }

    /// Training-mode forward with a padding mask (backward then uses the same mask).
    public func forward(_ x: Tensor<T>, validLengths: [Int], pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        try validateInput(x)
        try Network.checkValidLengths(validLengths, batch: x.batch, positions: x.rank > 1 ? x.shape[1] : 1)
        pass.sequence = SequenceOptions(validLengths: validLengths)
        defer { pass.sequence = nil }
        return try root.forward(x, pass)
    }
}
