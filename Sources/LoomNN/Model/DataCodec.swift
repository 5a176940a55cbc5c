import LoomCore

/// Reads inputs and targets from JSON.
///
/// A batch is a JSON array of samples; a single sample may be given without the outer array.
/// Each sample is a (possibly nested) array whose values, flattened in row-major order, must
/// number exactly the product of the sample shape. Numbers are converted straight to T with
/// correct rounding (no detour through another type).
public enum DataCodec {
    /// Appends the numbers of a (possibly nested) array, row-major, converted to T; errors name the path.
    public static func flatten<T: LoomFloat>(_ v: JSONValue, path: String, into out: inout [T]) throws(LoomError) {
        switch v {
        case .number(let n):
            let x: T?
            if T.dtype == .f32 { x = n.float.map { T(bits64: UInt64($0.bitPattern)) } } else { x = n.double.map { T($0) } }
            guard let value = x, value.isFinite else {
                throw LoomError(.invalidInput, path, "number \(n.text) is out of range for \(T.dtype.name)")
            }
            out.append(value)
        case .array(let a):
            for (i, e) in a.enumerated() { try flatten(e, path: "\(path)[\(i)]", into: &out) }
        default:
            throw LoomError(.invalidInput, path, "expected a number or an array, got \(v.kindName)")
        }
    }

    /// `[batch] + sampleShape` from a JSON batch or single sample.
    public static func batch<T: LoomFloat>(_ v: JSONValue, sampleShape: [Int], path: String, as: T.Type) throws(LoomError) -> Tensor<T> {
        let per = Tensor<T>.count(of: sampleShape)
        guard let arr = v.arrayValue else { throw LoomError(.invalidInput, path, "expected an array, got \(v.kindName)") }
        guard !arr.isEmpty else { throw LoomError(.invalidInput, path, "no values") }
        if arr[0].arrayValue != nil {
            // A batch when every element is one sample; else one nested sample.
            var data = [T]()
            data.reserveCapacity(arr.count * per)
            var batchError: LoomError? = nil
            for (i, s) in arr.enumerated() {
                let before = data.count
                try flatten(s, path: "\(path)[\(i)]", into: &data)
                if data.count - before != per {
                    batchError = LoomError(.shapeMismatch, "\(path)[\(i)]", "sample has \(data.count - before) values; the network expects \(per) (shape \(Tensor<T>.describe(sampleShape)))")
                    break
                }
            }
            if let e = batchError {
                var single = [T]()
                try flatten(v, path: path, into: &single)
                guard single.count == per else { throw e }
                return Tensor(uncheckedShape: [1] + sampleShape, data: single)
            }
            return Tensor(uncheckedShape: [arr.count] + sampleShape, data: data)
        }
        var data = [T]()
        try flatten(v, path: path, into: &data)
        guard data.count == per else {
            throw LoomError(.shapeMismatch, path, "a single sample needs \(per) values (shape \(Tensor<T>.describe(sampleShape))), got \(data.count); give a batch as an array of samples")
        }
        return Tensor(uncheckedShape: [1] + sampleShape, data: data)
    }

    /// Targets: one class index per sample (when every entry is a number and the output has more
    /// than one value), or one row per sample shaped like the output.
    public static func targets<T: LoomFloat>(_ v: JSONValue, count: Int, outputShape: [Int], path: String, as: T.Type) throws(LoomError) -> Tensor<T> {
        guard let arr = v.arrayValue else { throw LoomError(.invalidInput, path, "expected an array, got \(v.kindName)") }
        guard arr.count == count else {
            throw LoomError(.shapeMismatch, path, "\(arr.count) targets for \(count) inputs")
        }
        let perSample = Tensor<T>.count(of: outputShape)
        if perSample > 1 && arr.allSatisfy({ $0.numberValue != nil }) {
            var data = [T]()
            try flatten(v, path: path, into: &data)
            return Tensor(uncheckedShape: [count], data: data)
        }
        var data = [T]()
        for (i, e) in arr.enumerated() {
            let before = data.count
            try flatten(e, path: "\(path)[\(i)]", into: &data)
            guard data.count - before == perSample else {
                throw LoomError(.shapeMismatch, "\(path)[\(i)]", "target has \(data.count - before) values; the output has \(perSample)")
            }
        }
        return Tensor(uncheckedShape: [count] + outputShape, data: data)
    }

    /// A data file `{"inputs": [...], "targets": [...]}`.
    public static func dataset<T: LoomFloat>(_ root: JSONValue, inputShape: [Int], outputShape: [Int], as: T.Type) throws(LoomError) -> (Tensor<T>, Tensor<T>) {
        var f = try IRFields(root, path: "")
        let iv = try f.required("inputs"), tv = try f.required("targets")
        try f.finish()
        let x = try batch(iv, sampleShape: inputShape, path: "inputs", as: T.self)
        let t = try targets(tv, count: x.batch, outputShape: outputShape, path: "targets", as: T.self)
        return (x, t)
    }
}
