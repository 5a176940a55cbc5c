import LoomCore

/// Row-parallel helpers shared by the layers. Each output element depends only on its own
/// inputs, so the split never changes a bit.
enum Elementwise {
    /// out[i] = f(x[i]), split across the context's threads.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func map<T: LoomFloat>(_ ctx: ComputeContext, _ x: [T], _ f: (T) -> T) -> [T] {
        var out = [T](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                ctx.parallelRanges(x.count, minChunk: 4096) { r in
                    for i in r { op[i] = f(xp[i]) }
                }
            }
        }
        return out
    }

    /// out[i] = f(a[i], b[i]).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func zip<T: LoomFloat>(_ ctx: ComputeContext, _ a: [T], _ b: [T], _ f: (T, T) -> T) -> [T] {
        precondition(a.count == b.count)
        var out = [T](repeating: 0, count: a.count)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    ctx.parallelRanges(a.count, minChunk: 4096) { r in
                        for i in r { op[i] = f(ap[i], bp[i]) }
                    }
                }
            }
        }
        return out
    }

    /// Runs `body(row, inputRow, outputRow)` for every row of width `inWidth` → `outWidth`.
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func rows<T: LoomFloat>(_ ctx: ComputeContext, rows: Int, inWidth: Int, outWidth: Int, _ x: [T],
                                   _ body: (Int, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) -> [T] {
        var out = [T](repeating: 0, count: rows * outWidth)
        if rows == 0 { return out }
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                let work = Swift.max(1, inWidth + outWidth)
                ctx.parallelRanges(rows, minChunk: Swift.max(1, 8192 / work)) { r in
                    for row in r {
                        body(row, xp.baseAddress! + row * inWidth, op.baseAddress! + row * outWidth)
                    }
                }
            }
        }
        return out
    }

    /// a + b elementwise (IEEE addition is commutative, so the order of operands is irrelevant).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func add<T: LoomFloat>(_ ctx: ComputeContext, _ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
        Tensor(uncheckedShape: a.shape, data: zip(ctx, a.data, b.data) { $0 + $1 })
    }
}
