import LoomCore

/// How a `parallel` layer combines its branch outputs (docs/ir.md).
public enum CombineMode: String, Sendable, CaseIterable {
    case concat, add, multiply, average
    case gridScatter = "grid_scatter"
    case filter
}

/// Branches that all read the same input, combined by `mode`.
///
/// Canonical orders: `add` sums branch outputs in branch order ((b₀ + b₁) + b₂ …); `average`
/// multiplies that sum by `T(1/n)`; `multiply` multiplies in branch order; `concat` and
/// `grid_scatter` copy; `filter` computes gate probabilities g (gate layer then its softmax) and
/// `y = fma-chain over i of g_i·b_i` starting from +0, in branch order.
/// Backward: each branch gets its share of dy; `dx = Σ branch dx` in branch order, then `+ gate dx`.
public final class ParallelLayer<T: LoomFloat>: Layer<T> {
    public let branches: [Layer<T>]
    public let mode: CombineMode
    public let gate: Layer<T>?
    public let gateSoftmax: SoftmaxLayer<T>?
    /// For concat/grid_scatter: the branch order in the output and each branch's width.
    public let order: [Int]
    public let widths: [Int]

    public init(path: String, name: String, id: Int, inputShape: [Int], branches: [Layer<T>], mode: CombineMode,
                gate: Layer<T>?, gateSoftmax: SoftmaxLayer<T>?, order: [Int]) {
        self.branches = branches
        self.mode = mode
        self.gate = gate
        self.gateSoftmax = gateSoftmax
        self.order = order
        self.widths = branches.map { $0.outputShape.last ?? 1 }
        var out = branches.first?.outputShape ?? inputShape
        if mode == .concat || mode == .gridScatter {
            out[out.count - 1] = widths.reduce(0, +)
        }
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: out)
    }

    public override var typeName: String { "parallel" }
    public override var summary: String { "\(branches.count) branches, \(mode.rawValue)" }
    public override var children: [Layer<T>] { branches + (gate.map { [$0] } ?? []) }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        var outs = [Tensor<T>]()
        outs.reserveCapacity(branches.count)
        for b in branches { outs.append(try b.forward(x, pass)) }
        let ctx = pass.context
        switch mode {
        case .concat, .gridScatter:
            let rows = x.rows
            let total = widths.reduce(0, +)
            var y = [T](repeating: 0, count: rows * total)
            var offset = 0
            for bi in order {
                let w = widths[bi]
                let src = outs[bi].data
                for r in 0..<rows { for j in 0..<w { y[r * total + offset + j] = src[r * w + j] } }
                offset += w
            }
            var shape = x.shape
            shape[shape.count - 1] = total
            return Tensor(uncheckedShape: shape, data: y)
        case .add, .average:
            var acc = outs[0]
            for i in 1..<outs.count { acc = Elementwise.add(ctx, acc, outs[i]) }
            if mode == .average {
                let inv = T(1.0 / Double(outs.count))
                acc = Tensor(uncheckedShape: acc.shape, data: Elementwise.map(ctx, acc.data) { $0 * inv })
            }
            return acc
        case .multiply:
            var acc = outs[0]
            for i in 1..<outs.count {
                acc = Tensor(uncheckedShape: acc.shape, data: Elementwise.zip(ctx, acc.data, outs[i].data) { $0 * $1 })
            }
            pass.save(id, outs)
            return acc
        case .filter:
            let logits = try gate!.forward(x, pass)
            let g = try gateSoftmax!.forward(logits, pass)
            let n = branches.count
            let width = outs[0].lastDim
            let rows = outs[0].rows
            var y = [T](repeating: 0, count: rows * width)
            for r in 0..<rows {
                for j in 0..<width {
                    var acc: T = 0
                    for i in 0..<n { acc = acc.addingProduct(g.data[r * n + i], outs[i].data[r * width + j]) }
                    y[r * width + j] = acc
                }
            }
            pass.save(id, outs + [g])
            return Tensor(uncheckedShape: outs[0].shape, data: y)
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let ctx = pass.context
        var branchGrads = [Tensor<T>]()
        switch mode {
        case .concat, .gridScatter:
            let rows = dy.rows
            let total = widths.reduce(0, +)
            branchGrads = [Tensor<T>](repeating: dy, count: branches.count)  // each slot is replaced below
            var offset = 0
            for bi in order {
                let w = widths[bi]
                var g = [T](repeating: 0, count: rows * w)
                for r in 0..<rows { for j in 0..<w { g[r * w + j] = dy.data[r * total + offset + j] } }
                var shape = dy.shape
                shape[shape.count - 1] = w
                branchGrads[bi] = Tensor(uncheckedShape: shape, data: g)
                offset += w
            }
        case .add:
            branchGrads = branches.map { _ in dy }
        case .average:
            let inv = T(1.0 / Double(branches.count))
            let g = Tensor(uncheckedShape: dy.shape, data: Elementwise.map(ctx, dy.data) { $0 * inv })
            branchGrads = branches.map { _ in g }
        case .multiply:
            let outs = pass.saved[id]
            for i in 0..<branches.count {
                var g = dy.data
                for j in 0..<branches.count where j != i {
                    g = Elementwise.zip(ctx, g, outs[j].data) { $0 * $1 }
                }
                branchGrads.append(Tensor(uncheckedShape: dy.shape, data: g))
            }
        case .filter:
            let saved = pass.saved[id]
            let n = branches.count
            let gp = saved[n].data
            let rows = dy.rows, width = dy.lastDim
            var dg = [T](repeating: 0, count: rows * n)
            for i in 0..<n {
                let bo = saved[i].data
                var g = [T](repeating: 0, count: dy.count)
                for r in 0..<rows {
                    var acc: T = 0
                    for j in 0..<width {
                        let k = r * width + j
                        g[k] = dy.data[k] * gp[r * n + i]
                        acc = acc.addingProduct(dy.data[k], bo[k])
                    }
                    dg[r * n + i] = acc
                }
                branchGrads.append(Tensor(uncheckedShape: dy.shape, data: g))
            }
            var gshape = dy.shape
            gshape[gshape.count - 1] = n
            let dlogits = gateSoftmax!.backward(Tensor(uncheckedShape: gshape, data: dg), pass)
            let gateDx = gate!.backward(dlogits, pass)
            var dx = branches[0].backward(branchGrads[0], pass)
            for i in 1..<n { dx = Elementwise.add(ctx, dx, branches[i].backward(branchGrads[i], pass)) }
            return Elementwise.add(ctx, dx, gateDx)
        }
        var dx = branches[0].backward(branchGrads[0], pass)
        for i in 1..<branches.count { dx = Elementwise.add(ctx, dx, branches[i].backward(branchGrads[i], pass)) }
        return dx
    }
}
