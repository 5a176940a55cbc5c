import LoomCore
import LoomNN

/// `KMeansLayer` (`KMeansKernels`): distances, the softmax of their negatives over τ, and the
/// probabilities or the centers' mixture; backward the input gradient one thread per row, the
/// centers' gradient one thread per center element.
final class KMeansOp<T: LoomFloat>: ResidentOp<T> {
    let layer: KMeansLayer<T>
    var x: DeviceTensor? = nil
    var out: CUDABuffer?, p: CUDABuffer?, logits: CUDABuffer?, g: CUDABuffer?, nxs: CUDABuffer?, scratch: CUDABuffer?, dx: CUDABuffer?
    init(_ l: KMeansLayer<T>, _ rt: ResidentRuntime<T>) { layer = l; super.init(rt) }

    var kind: Int {
        switch layer.spec.distance {
        case .euclidean: return 0
        case .manhattan: return 1
        case .cosine: return 2
        }
    }
    var features: Bool { layer.spec.output == .features }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let n = layer.dim, k = layer.spec.clusters, rows = x.count / n, outW = features ? n : k
        let y = try rt.reserve(&out, rows * outW)
        try rt.run("loom_kmeans_forward", over: rows, [.pointer(y), .pointer(try rt.reserve(&p, rows * k)), .pointer(try rt.reserve(&logits, rows * k)),
                                                      .pointer(x.pointer), .pointer(rt.param(layer.centersIndex)), .int(rows), .int(n), .int(k),
                                                      .int(kind), .int(features ? 1 : 0), .scalar(T(layer.spec.temperature))])
        self.x = x
        var shape = x.shape
        shape[shape.count - 1] = outW
        return DeviceTensor(pointer: y, shape: shape)
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let x = self.x!, n = layer.dim, k = layer.spec.clusters, rows = x.count / n
        let d = try rt.reserve(&dx, x.count), gp = try rt.reserve(&g, rows * k), np = try rt.reserve(&nxs, rows)
        try rt.run("loom_kmeans_backward", over: rows, [.pointer(d), .pointer(gp), .pointer(np), .pointer(try rt.reserve(&scratch, rows * k)),
                                                       .pointer(dy.pointer), .pointer(p!.pointer), .pointer(x.pointer),
                                                       .pointer(rt.param(layer.centersIndex)), .int(rows), .int(n), .int(k), .int(kind),
                                                       .int(features ? 1 : 0), .scalar(T(layer.spec.temperature))])
        try rt.run("loom_kmeans_center_grads", over: k * n, [.pointer(rt.grad(layer.centersIndex)), .pointer(p!.pointer), .pointer(gp), .pointer(np),
                                                            .pointer(x.pointer), .pointer(rt.param(layer.centersIndex)), .pointer(dy.pointer),
                                                            .int(rows), .int(n), .int(k), .int(kind), .int(features ? 1 : 0)])
        return DeviceTensor(pointer: d, shape: x.shape)
    }
}
