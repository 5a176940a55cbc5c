import LoomCore

/// A lookup table: integer ids (stored as floats) → rows of `weight`.
///
/// Shapes: x `[…]` of ids, weight `[vocab, dim]`, y `[…, dim]`. An id that is not an integer in
/// 0..<vocab is an input error. Backward: `dW[id] += dy[row]` for rows in order; ids get no gradient.
public final class EmbeddingLayer<T: LoomFloat>: Layer<T> {
    public let vocab: Int
    public let dim: Int
    public let weightIndex: Int

    public init(path: String, name: String, id: Int, inputShape: [Int], vocab: Int, dim: Int,
                params: ParameterStore<T>, seed: UInt64) {
        self.vocab = vocab
        self.dim = dim
        weightIndex = params.register(name + ".weight", shape: [vocab, dim], Init.normal([vocab, dim], std: 1, seed: seed, name: name + ".weight"))
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape + [dim])
    }

    public override var typeName: String { "embedding" }
    public override var summary: String { "vocab \(vocab) dim \(dim)" }
    public override var parameterIndices: [Int] { [weightIndex] }

    /// The token ids of `values`; an error names the first that is not an integer in 0..<vocab.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func tokenIDs(_ values: [T]) throws(LoomError) -> [Int] {
        var ids = [Int](repeating: 0, count: values.count)
        for i in 0..<values.count {
            let v = values[i]
            guard v.isFinite, v == v.rounded(.towardZero), v >= 0, v < T(vocab) else {
                throw LoomError(.invalidInput, path, "token id \(v.double) at input index \(i) is not an integer in 0..<\(vocab)")
            }
            ids[i] = Int(v)
        }
        return ids
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let ids = try tokenIDs(x.data)
        var out = [T](repeating: 0, count: ids.count * dim)
        if let m = pass.params.externalMatrix(weightIndex) {
            // Rows of a GGUF block matrix, dequantized exactly (docs/gguf.md).
            for (r, id) in ids.enumerated() {
                let row = m.dequantizeRow(id)
                for d in 0..<dim { out[r * dim + d] = T(row[d]) }
            }
        } else {
            let w = pass.params.values[weightIndex].data
            for (r, id) in ids.enumerated() {
                for d in 0..<dim { out[r * dim + d] = w[id * dim + d] }
            }
        }
        pass.save(id, [Tensor(uncheckedShape: [ids.count], data: ids.map { T(Double($0)) })])
        return Tensor(uncheckedShape: x.shape + [dim], data: out)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let ids = pass.saved[id][0].data
        let dim = self.dim
        dy.data.withUnsafeBufferPointer { gp in
            pass.params.grads[weightIndex].data.withUnsafeMutableBufferPointer { dw in
                // Parallel over embedding columns: each dW element still sums its rows in order.
                pass.context.parallelRanges(dim, minChunk: 16) { cols in
                    for (r, idv) in ids.enumerated() {
                        let base = Int(idv.double) * dim
                        for d in cols { dw[base + d] += gp[r * dim + d] }
                    }
                }
            }
        }
        return Tensor(zeros: Array(dy.shape.dropLast()))
    }
}
