import LoomCore

/// `max_pool1d/2d` and `avg_pool1d/2d` (PyTorch's `F.max_pool*d` / `F.avg_pool*d`, no ceil mode).
///
/// Shapes per sample: `[C, L]` → `[C, L']` or `[C, H, W]` → `[C, H', W']`; each channel plane is
/// pooled alone. Window taps are visited in row-major (i, j) order; taps in the padding are
/// skipped (padding is at most half the kernel, so every window holds a real element).
///
/// Max (canonical order per output): `m = −∞`, no index; for each real tap value v in order:
/// if there is no index yet, or `v > m`, or v is NaN, then `m = v` and the index becomes that tap
/// (PyTorch's rule: ties keep the **first** maximal tap; a NaN wins over numbers and a later NaN
/// over an earlier one). `y = m`.
/// Max backward: `dx = +0` everywhere; per channel plane, outputs in row-major order:
/// `dx[index] += dy` (overlapping windows add in that fixed order). The index is recomputed from
/// the saved input with the forward's comparisons.
///
/// Avg (`count_include_pad=True`): `acc = +0`; `acc = acc + v` for each real tap in order;
/// `y = acc / T(kh·kw)` (the divisor counts padding taps). Adding the padding's +0 instead of
/// skipping it would give the same bits, since acc starts at +0 and can never be −0.
/// Avg backward: `dx = +0`; per plane, outputs in row-major order: `d = dy / T(kh·kw)`, then
/// `dx[tap] += d` for each real tap in (i, j) order.
public final class PoolLayer<T: LoomFloat>: Layer<T> {
    public let spec: PoolSpec
    let geo: WindowGeometry

    init(path: String, name: String, id: Int, inputShape: [Int], spec: PoolSpec, geometry: WindowGeometry) {
        self.spec = spec
        geo = geometry
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: geometry.outputShape(channels: geometry.channels))
    }

    public override var typeName: String { spec.typeName }
    /// The window sizes (input, kernel, stride, padding, dilation, output).
    public var geometry: WindowGeometry { geo }
    public override var summary: String {
        "k\(Tensor<T>.describe(spec.kernel)) s\(Tensor<T>.describe(spec.stride)) p\(Tensor<T>.describe(spec.padding))"
    }

    /// The plane index of the max of output (oy, ox) (see the doc comment), −1 if none. The taps
    /// in the padding are cut off the loop ranges (the same taps as skipping them one by one), and
    /// the update is a select, not a branch (random data would mispredict half of them).
    @inline(__always)
    static func argmax(_ plane: UnsafePointer<T>, _ geo: WindowGeometry, _ oy: Int, _ ox: Int) -> Int {
        if geo.ph == 0 && geo.pw == 0 && geo.dh == 1 && geo.dw == 1 {
            // No padding, no dilation: every tap of an output's window is real (the common case).
            let w = geo.width, kh = geo.kh, kw = geo.kw
            let first = (oy &* geo.sh) &* w &+ ox &* geo.sw
            var best = first, m = plane[first]
            var i = 0
            while i < kh {
                let row = first &+ i &* w
                var j = 0
                while j < kw {
                    let v = plane[row &+ j]
                    let take = v > m || v.isNaN
                    m = take ? v : m
                    best = take ? row &+ j : best
                    j &+= 1
                }
                i &+= 1
            }
            return best
        }
        let rows = geo.rowTaps(oy), cols = geo.columnTaps(ox)
        if rows.isEmpty || cols.isEmpty { return -1 }
        let w = geo.width, y0 = oy * geo.sh - geo.ph, x0 = ox * geo.sw - geo.pw
        // The first real tap is the start (the rule's "no index yet").
        var best = (y0 + rows.lowerBound * geo.dh) * w + x0 + cols.lowerBound * geo.dw
        var m = plane[best]
        for i in rows {
            let row = (y0 + i * geo.dh) * w + x0
            for j in cols {
                let idx = row + j * geo.dw
                let v = plane[idx]
                let take = v > m || v.isNaN
                m = take ? v : m
                best = take ? idx : best
            }
        }
        return best
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let geo = self.geo, isMax = spec.kind == .max
        let divisor = T(geo.taps)
        let planes = x.batch * geo.channels
        let y = Elementwise.rows(pass.context, rows: planes, inWidth: geo.inPlane, outWidth: geo.outPlane, x.data) { _, xi, yo in
            for oy in 0..<geo.outH {
                for ox in 0..<geo.outW {
                    if isMax {
                        let k = PoolLayer.argmax(xi, geo, oy, ox)
                        yo[oy * geo.outW + ox] = k >= 0 ? xi[k] : -T.infinity
                        continue
                    }
                    var acc: T = 0
                    for i in 0..<geo.kh {
                        let yy = geo.inY(oy, i)
                        guard yy >= 0, yy < geo.height else { continue }
                        for j in 0..<geo.kw {
                            let xx = geo.inX(ox, j)
                            if xx >= 0, xx < geo.width { acc += xi[yy * geo.width + xx] }
                        }
                    }
                    yo[oy * geo.outW + ox] = acc / divisor
                }
            }
        }
        if isMax { pass.save(id, [x]) }
        return Tensor(uncheckedShape: [x.batch] + outputShape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let geo = self.geo, isMax = spec.kind == .max
        let divisor = T(geo.taps)
        let planes = dy.batch * geo.channels
        let xs = isMax ? pass.saved[id][0].data : []
        let dx = xs.withUnsafeBufferPointer { xp in
            Elementwise.rows(pass.context, rows: planes, inWidth: geo.outPlane, outWidth: geo.inPlane, dy.data) { plane, g, dxo in
                for oy in 0..<geo.outH {
                    for ox in 0..<geo.outW {
                        let d = g[oy * geo.outW + ox]
                        if isMax {
                            let k = PoolLayer.argmax(xp.baseAddress! + plane * geo.inPlane, geo, oy, ox)
                            if k >= 0 { dxo[k] += d }
                            continue
                        }
                        let share = d / divisor
                        for i in 0..<geo.kh {
                            let yy = geo.inY(oy, i)
                            guard yy >= 0, yy < geo.height else { continue }
                            for j in 0..<geo.kw {
                                let xx = geo.inX(ox, j)
                                if xx >= 0, xx < geo.width { dxo[yy * geo.width + xx] += share }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [dy.batch] + inputShape, data: dx)
    }
}

/// `global_avg_pool`: `[C, …]` → `[C]` per sample, the mean over every axis after the channels
/// (PyTorch's `adaptive_avg_pool*d(x, 1)` flattened). Canonical order per (b, c):
/// `acc = +0`; `acc = acc + x` over the S spatial elements in row-major order; `y = acc / T(S)`.
/// Backward: `dx = dy / T(S)` for each of the S elements (one division per (b, c)).
public final class GlobalAvgPoolLayer<T: LoomFloat>: Layer<T> {
    /// Elements averaged per (sample, channel).
    public let spatial: Int

    init(path: String, name: String, id: Int, inputShape: [Int]) {
        spatial = Tensor<T>.count(of: Array(inputShape.dropFirst()))
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: [inputShape[0]])
    }

    public override var typeName: String { "global_avg_pool" }
    public override var summary: String { "mean over \(spatial)" }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let s = spatial, n = T(spatial)
        let y = Elementwise.rows(pass.context, rows: x.batch * inputShape[0], inWidth: s, outWidth: 1, x.data) { _, xi, yo in
            var acc: T = 0
            for k in 0..<s { acc += xi[k] }
            yo[0] = acc / n
        }
        return Tensor(uncheckedShape: [x.batch] + outputShape, data: y)
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let s = spatial, n = T(spatial)
        let dx = Elementwise.rows(pass.context, rows: dy.count, inWidth: 1, outWidth: s, dy.data) { _, g, dxo in
            let d = g[0] / n
            for k in 0..<s { dxo[k] = d }
        }
        return Tensor(uncheckedShape: [dy.batch] + inputShape, data: dx)
    }
}

/// `flatten` (every axis after the batch into one) and `reshape` (to a given per-sample shape):
/// the data are unchanged, only the shape differs; backward gives dy the input's shape.
public final class ReshapeLayer<T: LoomFloat>: Layer<T> {
    let isFlatten: Bool

    init(path: String, name: String, id: Int, inputShape: [Int], outputShape: [Int], flatten: Bool) {
        isFlatten = flatten
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: outputShape)
    }

    public override var typeName: String { isFlatten ? "flatten" : "reshape" }
    public override var summary: String { "\(Tensor<T>.describe(inputShape)) → \(Tensor<T>.describe(outputShape))" }

    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        Tensor(uncheckedShape: [x.batch] + outputShape, data: x.data)
    }

    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        Tensor(uncheckedShape: [dy.batch] + inputShape, data: dy.data)
    }
}
