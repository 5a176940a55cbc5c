import LoomCore

/// `position_embedding`: a learned vector per position added to the input,
/// `y[b, t, :] = x[b, t, :] + P[start + t, :]` (one rounding per element), where `start` is the
/// number of positions already in the KV cache when decoding (0 otherwise). Shapes: x
/// `[positions, dim]` per sample, P `[max_positions, dim]` (N(0, 1) at initialisation, like
/// `embedding`). Backward: `dx = dy`; `dP[start + t] += dy[b, t]` for b ascending (each element's
/// sum in batch order). Positions past `max_positions` are an input error.
public final class PositionEmbeddingLayer<T: LoomFloat>: Layer<T> {
    public let maxPositions: Int
    public let dim: Int
    public let weightIndex: Int

    init(path: String, name: String, id: Int, inputShape: [Int], maxPositions: Int, params: ParameterStore<T>, seed: UInt64) {
        self.maxPositions = maxPositions
        dim = inputShape[1]
        weightIndex = params.register(name + ".weight", shape: [maxPositions, inputShape[1]], Init.normal([maxPositions, inputShape[1]], std: 1, seed: seed, name: name + ".weight"))
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { "position_embedding" }
    public override var summary: String { "max \(maxPositions) positions, dim \(dim)" }
    public override var parameterIndices: [Int] { [weightIndex] }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        guard x.rank == 3, x.shape[2] == dim else {
            throw LoomError(.shapeMismatch, path, "position_embedding needs [batch, positions, \(dim)], got \(Tensor<T>.describe(x.shape))")
        }
        let n = x.shape[1], start = pass.sequence?.start ?? 0
        guard start + n <= maxPositions else {
            throw LoomError(.invalidInput, path, "positions \(start)..<\(start + n) exceed max_positions \(maxPositions)")
        }
        let p = pass.params.values[weightIndex].data, d = dim
        var y = x.data
        y.withUnsafeMutableBufferPointer { yp in
            pass.context.parallelRanges(x.batch * n, minChunk: Swift.max(1, 4096 / d)) { rows in
                for r in rows {
                    let base = (start + r % n) * d
                    for i in 0..<d { yp[r * d + i] = yp[r * d + i] + p[base + i] }
                }
            }
        }
        pass.save(id, [Tensor(uncheckedShape: [1], data: [T(Double(start))])])
        return Tensor(uncheckedShape: x.shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let n = dy.shape[1], d = dim, batch = dy.batch
        let start = Int(pass.saved[id][0].data[0].double)
        dy.data.withUnsafeBufferPointer { gp in
            pass.params.grads[weightIndex].data.withUnsafeMutableBufferPointer { dp in
                pass.context.parallelRanges(n, minChunk: Swift.max(1, 4096 / d)) { ts in
                    for t in ts {
                        for b in 0..<batch {
                            let src = (b * n + t) * d, dst = (start + t) * d
                            for i in 0..<d { dp[dst + i] += gp[src + i] }
                        }
                    }
                }
            }
        }
        return dy
    }
}

/// `bias`: a learned vector added to every row of the last axis, `y = x + b` (b starts at +0).
/// Backward: `dx = dy`; `db[i] += dy[r, i]` for rows r in order.
public final class BiasLayer<T: LoomFloat>: Layer<T> {
    public let weightIndex: Int
    let width: Int

    init(path: String, name: String, id: Int, inputShape: [Int], params: ParameterStore<T>) {
        width = inputShape.last ?? 1
        weightIndex = params.register(name + ".bias", shape: [inputShape.last ?? 1], Tensor(zeros: [inputShape.last ?? 1]))
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: inputShape)
    }

    public override var typeName: String { "bias" }
    public override var summary: String { "\(width)" }
    public override var parameterIndices: [Int] { [weightIndex] }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let b = pass.params.values[weightIndex].data, w = width
        var y = x.data
        y.withUnsafeMutableBufferPointer { yp in
            pass.context.parallelRanges(x.count / w, minChunk: Swift.max(1, 4096 / w)) { rows in
                for r in rows { for i in 0..<w { yp[r * w + i] = yp[r * w + i] + b[i] } }
            }
        }
        return Tensor(uncheckedShape: x.shape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let w = width, rows = dy.count / w
        dy.data.withUnsafeBufferPointer { gp in
            pass.params.grads[weightIndex].data.withUnsafeMutableBufferPointer { dp in
                pass.context.parallelRanges(w, minChunk: 256) { cols in
                    for r in 0..<rows { for i in cols { dp[i] += gp[r * w + i] } }
                }
            }
        }
        return dy
    }
}
