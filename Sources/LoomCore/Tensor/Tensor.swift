/// A dense row-major tensor with an explicit shape.
///
/// The first axis is the batch wherever a tensor enters or leaves a network:
/// `[batch, features]`, `[batch, seq, features]`, `[batch, channels, height, width]`.
/// Nothing in Loom infers a batch from a length.
public struct Tensor<T: LoomFloat>: Equatable {
    public var shape: [Int]
    public var data: [T]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [T](repeating: 0, count: Tensor.count(of: shape))
    }

    /// Wraps `data`; `data.count` must equal the product of `shape` (checked).
    public init(shape: [Int], data: [T]) throws(LoomError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw LoomError(.shapeMismatch, "", "negative dimension in shape \(Tensor.describe(shape))")
        }
        let n = Tensor.count(of: shape)
        guard n == data.count else {
            throw LoomError(.shapeMismatch, "", "shape \(Tensor.describe(shape)) needs \(n) values, got \(data.count)")
        }
        self.shape = shape
        self.data = data
    }

    /// Internal fast path when the caller guarantees the sizes match.
    @inline(__always)
    public init(uncheckedShape shape: [Int], data: [T]) {
        self.shape = shape
        self.data = data
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    /// The first axis (the batch), 1 for a rank-0 tensor.
    public var batch: Int { shape.first ?? 1 }
    /// The size of the last axis.
    public var lastDim: Int { shape.last ?? 1 }
    /// The number of rows when every axis but the last is flattened.
    public var rows: Int { lastDim == 0 ? 0 : data.count / lastDim }

    public static func count(of shape: [Int]) -> Int {
        var n = 1
        for d in shape { n = n &* d }
        return n
    }

    public static func describe(_ shape: [Int]) -> String {
        var s = "["
        for (i, d) in shape.enumerated() { if i > 0 { s += ", " }; s += String(d) }
        return s + "]"
    }

    /// The same values with a new shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.count(of: newShape) == data.count, "reshape changes the element count")
        return Tensor(uncheckedShape: newShape, data: data)
    }

    /// Rows `range` of the batch axis.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func batchSlice(_ range: Range<Int>) -> Tensor {
        let per = shape.count > 1 ? Tensor.count(of: Array(shape.dropFirst())) : 1
        var s = shape
        if s.isEmpty { s = [range.count] } else { s[0] = range.count }
        return Tensor(uncheckedShape: s, data: Array(data[(range.lowerBound * per)..<(range.upperBound * per)]))
    }

    /// Samples `indices` of the batch axis, in that order.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func gather(batch indices: [Int]) -> Tensor {
        let per = shape.count > 1 ? Tensor.count(of: Array(shape.dropFirst())) : 1
        var out = [T]()
        out.reserveCapacity(indices.count * per)
        for i in indices { out.append(contentsOf: data[(i * per)..<((i + 1) * per)]) }
        var s = shape
        if s.isEmpty { s = [indices.count] } else { s[0] = indices.count }
        return Tensor(uncheckedShape: s, data: out)
    }

    /// The hash of shape and bits (see `BitHash`).
    public var bitHash: BitHash {
        var h = BitHash()
        h.addUInt64(UInt64(shape.count))
        for d in shape { h.addUInt64(UInt64(d)) }
        h.add(data)
        return h
    }

    /// Index of the first non-finite value, if any.
    @inlinable
    public var firstNonFinite: Int? {
        for i in 0..<data.count where !data[i].isFinite { return i }
        return nil
    }

    /// The same values converted to another float type (round to nearest even).
    public func converted<U: LoomFloat>(to: U.Type) -> Tensor<U> {
        Tensor<U>(uncheckedShape: shape, data: data.map { U($0.double) })
    }
}
