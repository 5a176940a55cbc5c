import LoomCore

/// Which softmax: see docs/ir.md. All variants act on groups of `cols` consecutive features of
/// the last axis (`grid` has rows·cols features and one group per row; the others one group).
public enum SoftmaxVariant: Equatable, Sendable {
    case standard
    case temperature(Double)
    case masked([Bool])
    case grid(rows: Int, cols: Int)
    // The rest of the family (Softmax+Family.swift, Softmax+Sparse.swift).
    case hierarchical(levels: [Int])
    case gumbel(temperature: Double)
    case sparsemax
    case entmax(alpha: Double)
    case adaptive(headSize: Int, clusters: [Int])
    case mixture(components: Int)

    public var name: String {
        switch self {
        case .standard: return "standard"
        case .temperature: return "temperature"
        case .masked: return "masked"
        case .grid: return "grid"
        case .hierarchical: return "hierarchical"
        case .gumbel: return "gumbel"
        case .sparsemax: return "sparsemax"
        case .entmax: return "entmax"
        case .adaptive: return "adaptive"
        case .mixture: return "mixture"
        }
    }
}

/// Softmax over groups of the last axis.
///
/// Canonical order per group of n values: `z_i = x_i / T` (temperature only); `m = max z_i`
/// over unmasked entries (sequential, `Float.maximum`-style: NaN wins); `e_i = exp(z_i − m)`
/// (masked: 0); `s = e₀ + e₁ + …` (in order); `y_i = e_i / s`.
/// Backward: `c = fma-chain Σ dy_i·y_i`; `dx_i = y_i·(dy_i − c)` (then `/ T`).
public enum SoftmaxKernel {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func forward<T: LoomFloat>(_ xi: UnsafePointer<T>, _ yo: UnsafeMutablePointer<T>, n: Int,
                                             temperature: T?, mask: [Bool]?) {
        var m = -T.infinity
        for i in 0..<n {
            if let mask = mask, !mask[i] { continue }
            let z = temperature.map { xi[i] / $0 } ?? xi[i]
            m = T.maximum(m, z)
        }
        var s: T = 0
        for i in 0..<n {
            if let mask = mask, !mask[i] { yo[i] = 0; continue }
            let z = temperature.map { xi[i] / $0 } ?? xi[i]
            let e = T.detExp(z - m)
            yo[i] = e
            s += e
        }
        for i in 0..<n { yo[i] = yo[i] / s }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func backward<T: LoomFloat>(_ dy: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
                                              n: Int, temperature: T?) {
        var c: T = 0
        for i in 0..<n { c = c.addingProduct(dy[i], y[i]) }
        for i in 0..<n {
            let v = y[i] * (dy[i] - c)
            dx[i] = temperature.map { v / $0 } ?? v
        }
    }
}

public final class SoftmaxLayer<T: LoomFloat>: Layer<T> {
    public let variant: SoftmaxVariant
    public let groupSize: Int

    public init(path: String, name: String, id: Int, inputShape: [Int], variant: SoftmaxVariant) {
        self.variant = variant
        if case .grid(_, let cols) = variant { groupSize = cols } else { groupSize = inputShape.last ?? 1 }
        super.init(path: path, name: name, id: id, inputShape: inputShape,
                   outputShape: SoftmaxLayer.outputShape(variant, input: inputShape))
    }

    public override var typeName: String { "softmax" }
    public override var summary: String {
        switch variant {
        case .standard: return "standard"
        case .temperature(let t): return "temperature \(t)"
        case .masked(let m): return "masked \(m.filter { $0 }.count)/\(m.count)"
        case .grid(let r, let c): return "grid \(r)×\(c)"
        default: return familySummary
        }
    }

    var temperature: T? { if case .temperature(let t) = variant { return T(t) } else { return nil } }
    var mask: [Bool]? { if case .masked(let m) = variant { return m } else { return nil } }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func forward(_ x: Tensor<T>, _ pass: Pass<T>) throws(LoomError) -> Tensor<T> {
        if let y = familyForward(x, pass) { return y }
        let g = groupSize
        let groups = g == 0 ? 0 : x.count / g
        let temp = temperature, mask = self.mask
        let y = Elementwise.rows(pass.context, rows: groups, inWidth: g, outWidth: g, x.data) { _, xi, yo in
            SoftmaxKernel.forward(xi, yo, n: g, temperature: temp, mask: mask)
        }
        let out = Tensor(uncheckedShape: x.shape, data: y)
        pass.save(id, [out])
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public override func backward(_ dy: Tensor<T>, _ pass: Pass<T>) -> Tensor<T> {
        if let dx = familyBackward(dy, pass) { return dx }
        let y = pass.saved[id][0].data
        let g = groupSize
        let groups = g == 0 ? 0 : dy.count / g
        let temp = temperature
        let dx = y.withUnsafeBufferPointer { yp in
            Elementwise.rows(pass.context, rows: groups, inWidth: g, outWidth: g, dy.data) { row, dyi, dxo in
                SoftmaxKernel.backward(dyi, yp.baseAddress! + row * g, dxo, n: g, temperature: temp)
            }
        }
        return Tensor(uncheckedShape: dy.shape, data: dx)
    }
}
