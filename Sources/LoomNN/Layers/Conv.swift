import LoomCore

/// `conv1d` and `conv2d` (PyTorch's `F.conv1d`/`F.conv2d` with stride, padding, dilation, groups).
///
/// Shapes per sample: x `[C, L]` → y `[F, L']` (conv1d) or x `[C, H, W]` → y `[F, H', W']`
/// (conv2d); weight `[F, C/groups, k]` or `[F, C/groups, kh, kw]` (PyTorch layout), bias `[F]`.
/// Filter `o` belongs to group `g = o / (F/groups)` and reads input channels
/// `g·C/groups ..< (g+1)·C/groups`. conv1d is conv2d with height 1 (see `WindowGeometry`).
///
/// Canonical order (docs/numerics.md), for each output element `y[b, o, oy, ox]`:
/// `acc = bias[o]` (or +0 without bias); then for `c` in the group's channels (ascending),
/// `i` in 0..<kh, `j` in 0..<kw (nested in that order): `acc = fma(v, W[o, c, i, j], acc)` where
/// `v = x[b, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw]`, and `v = +0` for a tap in the zero
/// padding: padding taps are **included** as `fma(+0, w, acc)` (which can turn an `acc` of −0
/// into +0; skipping them could not). Then `y = act(acc)`.
/// Implementation: im2col `col[(c, i, j), (b, oy, ox)]` (padding taps hold +0) and one `Gemm.run`
/// per group with K ordered (c, i, j) gives exactly that chain.
///
/// Backward, with `g = dy ⊙ act'(pre)`:
/// - `dW[o, c, i, j] += fma-chain over samples b (ascending), then output positions (oy, ox)
///   row-major, of g[b, o, oy, ox]·v` (v as above, +0 for padding taps), starting from the
///   existing gradient (`Gemm.run` with K = (b, oy, ox));
/// - `db[o] += g[b, o, p]` added in the order b ascending, then p = (oy, ox) row-major;
/// - `dcol[(c, i, j), (b, p)] = fma-chain over the group's filters o (ascending) of
///   W[o, c, i, j]·g[b, o, p]` from +0 (`Gemm.run`), then col2im as a gather:
///   `dx[b, c, y, x] = +0 + dcol[(c, 0, 0), …] + dcol[(c, 0, 1), …] + …` over the taps (i, j) in
///   row-major order whose output position exists (`y = oy·sh − ph + i·dh`, same for x); taps
///   that read the padding have no input element and are dropped. Computed one sample at a time
///   (dcol of one sample, then a scatter per channel that visits the taps in that same order, so
///   each dx element receives its terms in the gather's order, on one thread, for any thread count).
public final class ConvLayer<T: LoomFloat>: Layer<T> {
    public let spec: ConvSpec
    let geo: WindowGeometry
    /// Input channels per group, filters per group, and K = (C/groups)·kh·kw.
    let cg: Int, fg: Int, kg: Int
    public let weightIndex: Int
    public let biasIndex: Int?

    init(path: String, name: String, id: Int, inputShape: [Int], spec: ConvSpec, geometry: WindowGeometry,
         params: ParameterStore<T>, seed: UInt64) {
        self.spec = spec
        geo = geometry
        cg = geometry.channels / spec.groups
        fg = spec.filters / spec.groups
        kg = cg * geometry.taps
        // PyTorch's default: U(−1/√fan_in, 1/√fan_in) with fan_in = (C/groups)·kh·kw, for weight and bias.
        let bound = 1.0 / Double(Swift.max(kg, 1)).squareRoot()
        let wShape = [spec.filters, cg] + spec.kernel
        weightIndex = params.register(name + ".weight", shape: wShape, Init.uniform(wShape, bound: bound, seed: seed, name: name + ".weight"))
        biasIndex = spec.bias ? params.register(name + ".bias", shape: [spec.filters],
                                                Init.uniform([spec.filters], bound: bound, seed: seed, name: name + ".bias")) : nil
        super.init(path: path, name: name, id: id, inputShape: inputShape, outputShape: geometry.outputShape(channels: spec.filters))
    }

    public override var typeName: String { spec.typeName }
    public override var summary: String {
        "\(geo.channels)→\(spec.filters) k\(Tensor<T>.describe(spec.kernel)) s\(Tensor<T>.describe(spec.stride)) "
            + "p\(Tensor<T>.describe(spec.padding)) d\(Tensor<T>.describe(spec.dilation))"
            + (spec.groups == 1 ? "" : " groups \(spec.groups)") + (spec.activation.isLinear ? "" : " \(spec.activation.name)")
            + (biasIndex == nil ? " no-bias" : "")
    }
    public override var parameterIndices: [Int] { biasIndex.map { [weightIndex, $0] } ?? [weightIndex] }
    /// The window sizes (input, kernel, stride, padding, dilation, output).
    public var geometry: WindowGeometry { geo }
    /// Input channels and filters per group, and K = (C/groups)·kh·kw.
    public var groupSizes: (channels: Int, filters: Int, k: Int) { (cg, fg, kg) }

    /// `col[r, b·P + p]` for r = (c, i, j) over all C channels (group g owns rows g·K ..< (g+1)·K).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func im2col(_ ctx: ComputeContext, _ x: [T], batch: Int, _ geo: WindowGeometry) -> [T] {
        let rowsK = geo.channels * geo.taps, P = geo.outPlane, bp = batch * P
        let inPlane = geo.inPlane, sampleSize = geo.channels * inPlane
        var col = [T](repeating: 0, count: rowsK * bp)
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in
                ctx.parallelRanges(rowsK, minChunk: Swift.max(1, 4096 / Swift.max(bp, 1))) { rows in
                    for r in rows {
                        let c = r / geo.taps, i = (r / geo.kw) % geo.kh, j = r % geo.kw
                        let out = cp.baseAddress! + r * bp
                        let xs = geo.outXRange(j), off = j * geo.dw - geo.pw, sw = geo.sw
                        for b in 0..<batch {
                            let plane = xp.baseAddress! + b * sampleSize + c * inPlane
                            for oy in 0..<geo.outH {
                                let y = geo.inY(oy, i)
                                guard y >= 0, y < geo.height else { continue }  // stays +0
                                let o = out + b * P + oy * geo.outW, src = plane + y * geo.width + off
                                if sw == 1 {
                                    for ox in xs { o[ox] = src[ox] }
                                } else {
                                    for ox in xs { o[ox] = src[ox * sw] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return col
    }

    /// `[B, F, P]` ↔ `[F, B·P]` (a copy; `toBatchMajor` is its inverse).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func toChannelMajor(_ ctx: ComputeContext, _ a: [T], batch: Int, channels: Int, plane: Int) -> [T] {
        var out = [T](repeating: 0, count: a.count)
        out.withUnsafeMutableBufferPointer { op in
            ctx.parallelRanges(channels, minChunk: 16) { r in
                for c in r { for b in 0..<batch { for p in 0..<plane { op[(c * batch + b) * plane + p] = a[(b * channels + c) * plane + p] } } }
            }
        }
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    static func toBatchMajor(_ ctx: ComputeContext, _ a: [T], batch: Int, channels: Int, plane: Int) -> [T] {
        var out = [T](repeating: 0, count: a.count)
        out.withUnsafeMutableBufferPointer { op in
            ctx.parallelRanges(batch, minChunk: 1) { r in
                for b in r { for c in 0..<channels { for p in 0..<plane { op[(b * channels + c) * plane + p] = a[(c * batch + b) * plane + p] } } }
            }
        }
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        let ctx = pass.context, batch = x.batch, F = spec.filters, P = geo.outPlane, bp = batch * P
        let col = ConvLayer.im2col(ctx, x.data, batch: batch, geo)
        var acc = [T](repeating: 0, count: F * bp)  // [F, B·P]
        if let bi = biasIndex {
            let b = pass.params.values[bi].data
            acc.withUnsafeMutableBufferPointer { p in for o in 0..<F { for k in 0..<bp { p[o * bp + k] = b[o] } } }
        }
        let w = pass.params.values[weightIndex].data
        let fg = self.fg, kg = self.kg
        w.withUnsafeBufferPointer { wp in
            col.withUnsafeBufferPointer { cp in
                acc.withUnsafeMutableBufferPointer { ap in
                    for g in 0..<spec.groups {
                        // Quantized execution: rows = output positions (each patch quantized on its own).
                        if WeightProduct.quantized(pass, weight: weightIndex, channels: (g * fg)..<((g + 1) * fg),
                                                   x: cp.baseAddress! + g * kg * bp, rows: bp, cols: kg, rsX: 1, csX: bp,
                                                   c: ap.baseAddress! + g * fg * bp, rsC: 1, csC: bp) { continue }
                        Gemm.run(ctx, GemmProblem(
                            m: fg, n: bp, k: kg,
                            a: wp.baseAddress! + g * fg * kg, rsA: kg, csA: 1,
                            b: cp.baseAddress! + g * kg * bp, rsB: bp, csB: 1,
                            c: ap.baseAddress! + g * fg * bp, ldc: bp, accumulate: true))
                    }
                }
            }
        }
        let shape = [batch] + outputShape
        let pre = Tensor(uncheckedShape: shape, data: ConvLayer.toBatchMajor(ctx, acc, batch: batch, channels: F, plane: P))
        let colT = Tensor(uncheckedShape: [geo.channels * geo.taps, bp], data: col)
        let act = spec.activation
        if act.isLinear {
            pass.save(id, [colT])
            return pre
        }
        let y = Tensor(uncheckedShape: shape, data: act.applyAll(ctx, pre.data))
        pass.save(id, [colT, pre, y])
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        let ctx = pass.context, saved = pass.saved[id]
        let col = saved[0].data
        let batch = dy.batch, F = spec.filters, P = geo.outPlane, bp = batch * P
        var gb = dy.data
        if !spec.activation.isLinear {
            let act = spec.activation
            act.backpropagate(ctx, &gb, x: saved[1].data, y: saved[2].data)
        }
        let g = ConvLayer.toChannelMajor(ctx, gb, batch: batch, channels: F, plane: P)  // [F, B·P]
        let fg = self.fg, kg = self.kg, groups = spec.groups
        let w = pass.params.values[weightIndex].data
        g.withUnsafeBufferPointer { gp in
            col.withUnsafeBufferPointer { cp in
                pass.params.grads[weightIndex].data.withUnsafeMutableBufferPointer { dwp in
                    for gi in 0..<groups {  // dW[o, k] += Σ_(b,p) g[o, (b,p)]·col[k, (b,p)]
                        Gemm.run(ctx, GemmProblem(
                            m: fg, n: kg, k: bp,
                            a: gp.baseAddress! + gi * fg * bp, rsA: bp, csA: 1,
                            b: cp.baseAddress! + gi * kg * bp, rsB: 1, csB: bp,
                            c: dwp.baseAddress! + gi * fg * kg, ldc: kg, accumulate: true))
                    }
                }
            }
            if let bi = biasIndex {
                pass.params.grads[bi].data.withUnsafeMutableBufferPointer { dbp in
                    ctx.parallelRanges(F, minChunk: 16) { r in
                        for o in r {
                            var s = dbp[o]
                            for k in 0..<bp { s += gp[o * bp + k] }
                            dbp[o] = s
                        }
                    }
                }
            }
        }
        // dx, one sample at a time: dcol_b[k, p] = Σ_o W[o, k]·g[o, (b, p)] from +0, then col2im.
        var dx = [T](repeating: 0, count: batch * geo.channels * geo.inPlane)
        let rowsK = geo.channels * geo.taps
        var dcol = [T](repeating: 0, count: rowsK * P)
        g.withUnsafeBufferPointer { gp in
            w.withUnsafeBufferPointer { wp in
                dcol.withUnsafeMutableBufferPointer { dp in
                    dx.withUnsafeMutableBufferPointer { xp in
                        for b in 0..<batch {
                            for gi in 0..<groups {
                                Gemm.run(ctx, GemmProblem(
                                    m: kg, n: P, k: fg,
                                    a: wp.baseAddress! + gi * fg * kg, rsA: 1, csA: kg,
                                    b: gp.baseAddress! + gi * fg * bp + b * P, rsB: bp, csB: 1,
                                    c: dp.baseAddress! + gi * kg * P, ldc: P, accumulate: false))
                            }
                            ConvLayer.col2im(ctx, dp.baseAddress!, into: xp.baseAddress! + b * geo.channels * geo.inPlane, geo)
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [batch] + inputShape, data: dx)
    }

    /// col2im of one sample (`dcol` `[C·kh·kw, P]`) into its `dx` `[C, H, W]` (which holds +0):
    /// per channel, the taps (i, j) in row-major order each add their values to the inputs they
    /// read, so every dx element is `+0 + dcol(first tap) + dcol(next tap) + …` in the gather order
    /// of the doc comment (a tap reaches each input at most once).
    @_specialize(where T == Float) @_specialize(where T == Double)
    static func col2im(_ ctx: ComputeContext, _ dcol: UnsafeMutablePointer<T>, into dx: UnsafeMutablePointer<T>, _ geo: WindowGeometry) {
        let H = geo.height, W = geo.width, P = geo.outPlane, sw = geo.sw
        ctx.parallelRanges(geo.channels, minChunk: Swift.max(1, 4096 / Swift.max(P * geo.taps, 1))) { channels in
            for c in channels {
                let plane = dx + c * H * W
                for i in 0..<geo.kh {
                    for j in 0..<geo.kw {
                        let src = dcol + ((c * geo.kh + i) * geo.kw + j) * P
                        let xs = geo.outXRange(j), off = j * geo.dw - geo.pw
                        for oy in 0..<geo.outH {
                            let y = geo.inY(oy, i)
                            guard y >= 0, y < H else { continue }
                            let d = plane + y * W + off, s = src + oy * geo.outW
                            if sw == 1 {
                                for ox in xs { d[ox] += s[ox] }
                            } else {
                                for ox in xs { d[ox * sw] += s[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}
