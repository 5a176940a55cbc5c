import LoomCore

/// Shape inference and checks for the convolution, pooling and shape layers.
extension Builder {
    /// The input must be `[C, L]` (rank 1) or `[C, H, W]` (rank 2) per sample.
    static func checkSpatialInput(_ input: [Int], rank: Int, type: String, path: String) throws(LoomError) {
        guard input.count == rank + 1 else {
            let want = rank == 1 ? "[channels, length]" : "[channels, height, width]"
            throw LoomError(.shapeMismatch, path, "\(type) needs a per-sample input \(want), got \(Tensor<T>.describe(input))")
        }
    }

    /// Every spatial value at most 2³¹, so window arithmetic cannot overflow.
    static func checkSpatialSizes(_ fields: [(String, [Int])], path: String) throws(LoomError) {
        for (key, v) in fields {
            for (i, n) in v.enumerated() where n > maxElements {
                throw LoomError(.invalidIR, "\(path).\(key)" + (v.count > 1 ? "[\(i)]" : ""), "\(n) is larger than 2^31")
            }
        }
    }

    static func geometry(input: [Int], kernel: [Int], stride: [Int], padding: [Int], dilation: [Int],
                         type: String, path: String) throws(LoomError) -> WindowGeometry {
        let (geo, axis) = WindowGeometry.make(input: input, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        guard let g = geo else {
            let rank = kernel.count
            let size = input[1 + axis], k = kernel[axis], p = padding[axis], d = dilation[axis]
            let span = d * (k - 1) + 1
            let axisName = rank == 1 ? "length" : (axis == 0 ? "height" : "width")
            throw LoomError(.shapeMismatch, path + ".kernel_size" + (rank > 1 ? "[\(axis)]" : ""),
                            "the \(type) window spans \(span) along the \(axisName) (kernel \(k)" + (d > 1 ? ", dilation \(d)" : "")
                                + ") but the padded input has only \(size + 2 * p) (\(size) + 2·padding \(p))")
        }
        // Each output size is at most ~2^32 (sizes and padding ≤ 2^31): their product is checked.
        guard (Limits.product(g.outH, g.outW) ?? Int.max) <= maxElements else {
            throw LoomError(.invalidIR, path + ".padding", "the \(type) output of one sample would be \(g.outH)×\(g.outW) per channel, more than 2^31 elements")
        }
        return g
    }

    mutating func buildConv(_ c: ConvSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        try Builder.checkSpatialInput(input, rank: c.rank, type: c.typeName, path: path)
        try Builder.checkSpatialSizes([("kernel_size", c.kernel), ("stride", c.stride), ("padding", c.padding),
                                       ("dilation", c.dilation)], path: path)
        let channels = input[0]
        guard channels % c.groups == 0 else {
            throw LoomError(.shapeMismatch, path + ".groups", "the \(channels) input channels are not divisible by groups \(c.groups)")
        }
        guard c.filters % c.groups == 0 else {
            throw LoomError(.invalidIR, path + ".groups", "filters \(c.filters) are not divisible by groups \(c.groups)")
        }
        let geo = try Builder.geometry(input: input, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation,
                                       type: c.typeName, path: path)
        _ = try Builder.checkedCount([c.filters, channels / c.groups] + c.kernel, path: path + ".filters", what: "the weight")
        _ = try Builder.checkedCount([channels, geo.taps, geo.outPlane], path: path, what: "the im2col matrix of one sample,")
        return ConvLayer(path: path, name: name, id: takeID(), inputShape: input, spec: c, geometry: geo, params: params, seed: seed)
    }

    mutating func buildPool(_ p: PoolSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        try Builder.checkSpatialInput(input, rank: p.rank, type: p.typeName, path: path)
        try Builder.checkSpatialSizes([("kernel_size", p.kernel), ("stride", p.stride), ("padding", p.padding)], path: path)
        for (i, pad) in p.padding.enumerated() where 2 * pad > p.kernel[i] {
            throw LoomError(.invalidIR, path + ".padding" + (p.rank > 1 ? "[\(i)]" : ""),
                            "padding \(pad) is more than half the kernel size \(p.kernel[i])")
        }
        let ones = [Int](repeating: 1, count: p.rank)
        let geo = try Builder.geometry(input: input, kernel: p.kernel, stride: p.stride, padding: p.padding, dilation: ones,
                                       type: p.typeName, path: path)
        return PoolLayer(path: path, name: name, id: takeID(), inputShape: input, spec: p, geometry: geo)
    }

    mutating func buildShapeLayer(_ spec: LayerSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        let count = try Builder.checkedCount(input, path: path, what: "the input")
        switch spec {
        case .globalAvgPool:
            guard input.count >= 2 else {
                throw LoomError(.shapeMismatch, path, "global_avg_pool needs a per-sample input [channels, …] with at least one spatial axis, got \(Tensor<T>.describe(input))")
            }
            return GlobalAvgPoolLayer(path: path, name: name, id: takeID(), inputShape: input)
        case .reshape(let shape):
            var known = 1
            for d in shape where d != -1 {
                let (p, overflow) = known.multipliedReportingOverflow(by: d)
                guard !overflow, p <= count else {
                    throw LoomError(.shapeMismatch, path + ".shape", "\(Tensor<T>.describe(shape)) has more elements than the input \(Tensor<T>.describe(input)) (\(count))")
                }
                known = p
            }
            var out = shape
            if let free = shape.firstIndex(of: -1) {
                guard count % known == 0 else {
                    throw LoomError(.shapeMismatch, path + ".shape", "cannot reshape \(Tensor<T>.describe(input)) (\(count) elements) into \(Tensor<T>.describe(shape))")
                }
                out[free] = count / known
            } else if known != count {
                throw LoomError(.shapeMismatch, path + ".shape", "\(Tensor<T>.describe(shape)) has \(known) elements but the input \(Tensor<T>.describe(input)) has \(count)")
            }
            return ReshapeLayer(path: path, name: name, id: takeID(), inputShape: input, outputShape: out, flatten: false)
        default:
            return ReshapeLayer(path: path, name: name, id: takeID(), inputShape: input, outputShape: [count], flatten: true)
        }
    }
}
