import LoomCore
import LoomNN

/// `SoftmaxLayer`'s other variants (`SoftmaxFamilyKernels`): hierarchical, gumbel (its training
/// noise made on the device from the layer's Philox stream, `loom_gumbel_add`),
/// sparsemax, entmax (any α: DetMath's pow on the device), adaptive and mixture; one thread per row.
final class SoftmaxFamilyOp<T: LoomFloat>: ResidentOp<T> {
    let layer: SoftmaxLayer<T>
    let inWidth: Int, outWidth: Int
    var out: CUDABuffer?, aux: CUDABuffer?, scratch: CUDABuffer?, dx: CUDABuffer?, table: CUDABuffer?, noisy: CUDABuffer?
    /// Entmax: 0 for α = 2 (P(u) = u), 1 for α = 1.5 (P(u) = u²), 2 otherwise (DetMath's pow).
    let mode: Int

    init(_ l: SoftmaxLayer<T>, _ rt: ResidentRuntime<T>) throws(LoomError) {
        layer = l
        inWidth = l.inputShape.last ?? 0
        outWidth = l.outputShape.last ?? 0
        if case .entmax(let alpha) = l.variant { mode = alpha == 2 ? 0 : (alpha == 1.5 ? 1 : 2) } else { mode = 0 }
        super.init(rt)
        switch l.variant {
        case .hierarchical(let levels): _ = try rt.upload(levels.map { Int64($0) }, into: &table)
        case .adaptive(_, let clusters): _ = try rt.upload(clusters.map { Int64($0) }, into: &table)
        default: break
        }
    }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let rows = inWidth == 0 ? 0 : x.count / inWidth, n = inWidth
        let y = try rt.reserve(&out, rows * outWidth)
        var shape = x.shape
        shape[shape.count - 1] = outWidth
        switch layer.variant {
        case .hierarchical(let levels):
            let aw = SoftmaxFamilyOp.nodes(levels)
            try rt.run("loom_hierarchical_forward", over: rows, [.pointer(y), .pointer(try rt.reserve(&aux, rows * aw)),
                       .pointer(try rt.reserve(&scratch, rows * n)), .pointer(x.pointer), .pointer(table!.pointer), .int(levels.count),
                       .int(rows), .int(n), .int(aw)])
        case .gumbel(let t):
            var input = x.pointer
            if rt.training {
                input = try rt.reserve(&noisy, x.count)
                try rt.run("loom_gumbel_add", over: x.count, [.pointer(input), .pointer(x.pointer), .int(x.count)]
                                                             + rt.philox(stream: layer.noiseStream(step: rt.step)))
            }
            try rt.run("loom_softmax_forward", over: rows, [.pointer(y), .pointer(input), .pointer(0), .int(rows), .int(n), .int(1), .scalar(T(t))])
        case .sparsemax:
            try rt.run("loom_sparsemax_forward", over: rows, [.pointer(y), .pointer(try rt.reserve(&scratch, rows * n)), .pointer(x.pointer),
                                                              .int(rows), .int(n)])
        case .entmax(let alpha):
            try rt.run("loom_entmax_forward", over: rows, [.pointer(y), .pointer(x.pointer), .int(rows), .int(n), .int(mode),
                                                           .scalar(T(alpha - 1)), .scalar(T(1 / (alpha - 1))), .scalar(T(DetMath.pow(Double(n), 1 - alpha)))])
        case .adaptive(let head, let clusters):
            try rt.run("loom_adaptive_forward", over: rows, [.pointer(y), .pointer(try rt.reserve(&aux, rows * n)), .pointer(x.pointer),
                                                             .pointer(table!.pointer), .int(clusters.count), .int(head), .int(rows), .int(n), .int(outWidth)])
        case .mixture(let k):
            try rt.run("loom_mixture_forward", over: rows, [.pointer(y), .pointer(try rt.reserve(&aux, rows * n)), .pointer(x.pointer),
                                                            .int(rows), .int(k), .int(outWidth)])
        default:
            preconditionFailure("SoftmaxOp runs the standard variants")
        }
        return DeviceTensor(pointer: y, shape: shape)
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let rows = outWidth == 0 ? 0 : dy.count / outWidth, n = inWidth
        let d = try rt.reserve(&dx, rows * n)
        var shape = dy.shape
        shape[shape.count - 1] = n
        switch layer.variant {
        case .hierarchical(let levels):
            try rt.run("loom_hierarchical_backward", over: rows, [.pointer(d), .pointer(scratch!.pointer), .pointer(dy.pointer), .pointer(out!.pointer),
                       .pointer(aux!.pointer), .pointer(table!.pointer), .int(levels.count), .int(rows), .int(n), .int(SoftmaxFamilyOp.nodes(levels))])
        case .gumbel(let t):
            try rt.run("loom_softmax_backward", over: rows, [.pointer(d), .pointer(dy.pointer), .pointer(out!.pointer), .int(rows), .int(n),
                                                             .int(1), .scalar(T(t))])
        case .sparsemax:
            try rt.run("loom_sparsemax_backward", over: rows, [.pointer(d), .pointer(dy.pointer), .pointer(out!.pointer), .int(rows), .int(n)])
        case .entmax(let alpha):
            try rt.run("loom_entmax_backward", over: rows, [.pointer(d), .pointer(dy.pointer), .pointer(out!.pointer), .int(rows), .int(n),
                                                            .int(mode), .scalar(T(2 - alpha))])
        case .adaptive(let head, let clusters):
            let width = head + clusters.count + (clusters.max() ?? 0)
            try rt.run("loom_adaptive_backward", over: rows, [.pointer(d), .pointer(try rt.reserve(&scratch, rows * width)), .pointer(dy.pointer),
                       .pointer(aux!.pointer), .pointer(table!.pointer), .int(clusters.count), .int(head), .int(rows), .int(n), .int(outWidth),
                       .int(width)])
        case .mixture(let k):
            try rt.run("loom_mixture_backward", over: rows, [.pointer(d), .pointer(try rt.reserve(&scratch, rows * (k + outWidth))),
                                                             .pointer(dy.pointer), .pointer(aux!.pointer), .int(rows), .int(k), .int(outWidth)])
        default:
            preconditionFailure("SoftmaxOp runs the standard variants")
        }
        return DeviceTensor(pointer: d, shape: shape)
    }

    /// The hierarchical tree's node count over all levels (the aux width).
    static func nodes(_ levels: [Int]) -> Int {
        var n = 1, total = 0
        for g in levels { n *= g; total += n }
        return total
    }
}
