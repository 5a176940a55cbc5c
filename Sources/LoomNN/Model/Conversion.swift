import LoomCore

extension AnyNetwork {
    /// The same network and master weights executing in `dtype` (docs/numerics.md, "Execution in
    /// every dtype"). Master weights move between compute types exactly (f32 → f64) or rounded once
    /// to nearest (f64 → f32); the optimizer state is not carried over.
    public func converted(to dtype: DType) throws(LoomError) -> AnyNetwork {
        var spec = self.spec
        spec.dtype = dtype
        func copy<S: LoomFloat, D: LoomFloat>(_ from: Network<S>, _ to: Network<D>) {
            for i in 0..<from.params.count { to.params.values[i] = from.params.values[i].converted(to: D.self) }
            to.params.frozen = from.params.frozen
        }
        if Execution.computeType(of: dtype) == .f64 {
            let n = try Network<Double>(spec)
            switch self { case .f32(let m, _): copy(m, n); case .f64(let m, _): copy(m, n) }
            return .f64(n, nil)
        }
        let n = try Network<Float>(spec)
        switch self { case .f32(let m, _): copy(m, n); case .f64(let m, _): copy(m, n) }
        return .f32(n, nil)
    }

    /// Inference in the network's execution, inputs and outputs as Double.
    public func forward(_ x: Tensor<Double>, context: ComputeContext) throws(LoomError) -> Tensor<Double> {
        switch self {
        case .f32(let n, _): return try n.forward(x.converted(to: Float.self), context: context).converted(to: Double.self)
        case .f64(let n, _): return try n.forward(x, context: context)
        }
    }

    /// Bytes the weights take in the network's dtype: every parameter in the dtype for float
    /// types; for quantized types the codes of each weight matrix (`bitWidth` bits each, f4 packed)
    /// plus an f32 scale per output channel (and a zero point of the dtype for unsigned types), and
    /// rank-1 parameters in f32.
    public var weightBytes: Int {
        let dt = spec.dtype
        let shapes: [[Int]]
        switch self {
        case .f32(let n, _): shapes = n.params.values.map { $0.shape }
        case .f64(let n, _): shapes = n.params.values.map { $0.shape }
        }
        var bytes = 0
        for s in shapes {
            let count = s.reduce(1, *)
            if case .quantized(let grid) = Execution(dt) {
                if s.count >= 2 {
                    bytes += dt.byteCount(forElements: count) + s[0] * 4 + (grid.isUnsigned ? s[0] * dt.bitWidth / 8 : 0)
                } else { bytes += count * 4 }
            } else { bytes += dt.byteCount(forElements: count) }
        }
        return bytes
    }
}

/// One row of a dtype comparison: the network executed in `dtype` on a data set, against the same
/// network in its own dtype (the reference).
public struct DTypeComparisonRow: Sendable {
    public var dtype: DType
    /// Share of samples whose argmax equals the label (nil without labels).
    public var accuracy: Double?
    /// Share of samples whose argmax equals the reference's.
    public var agreement: Double
    /// mean |y − y_ref| / mean |y_ref|.
    public var relativeDeviation: Double
    /// max |y − y_ref|.
    public var maxDeviation: Double
    public var weightBytes: Int
    public var outputHash: String
}

public enum DTypeComparison {
    /// Runs `network` converted to each of `dtypes` on `inputs` and compares every output with the
    /// unconverted network's. `labels` holds one class index per sample (or nil).
    public static func run(_ network: AnyNetwork, inputs: Tensor<Double>, labels: [Int]?, dtypes: [DType],
                           context: ComputeContext) throws(LoomError) -> [DTypeComparisonRow] {
        if let l = labels, l.count != inputs.batch {
            throw LoomError(.shapeMismatch, "labels", "\(l.count) labels for \(inputs.batch) samples")
        }
        let ref = try network.forward(inputs, context: context)
        let refArg = Loss.argmax(ref)
        var rows = [DTypeComparisonRow]()
        for dt in dtypes {
            let net = try network.converted(to: dt)
            let y = try net.forward(inputs, context: context)
            let arg = Loss.argmax(y)
            var absRef = 0.0, absDev = 0.0, maxDev = 0.0
            for i in 0..<y.count {
                let d = (y.data[i] - ref.data[i]).magnitude
                absRef += ref.data[i].magnitude
                absDev += d.isNaN ? .infinity : d
                maxDev = Swift.max(maxDev, d.isNaN ? .infinity : d)
            }
            let n = Double(Swift.max(1, arg.count))
            rows.append(DTypeComparisonRow(
                dtype: dt,
                accuracy: labels.map { l in Double(zip(arg, l).filter { $0.0 == $0.1 }.count) / n },
                agreement: Double(zip(arg, refArg).filter { $0.0 == $0.1 }.count) / n,
                relativeDeviation: absRef > 0 ? absDev / absRef : absDev,
                maxDeviation: maxDev, weightBytes: net.weightBytes,
                outputHash: y.bitHash.hex))
        }
        return rows
    }
}
