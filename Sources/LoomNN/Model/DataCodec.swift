import LoomCore

/// Reads inputs and targets from JSON.
///
/// A batch is a JSON array of samples; a single sample may be given without the outer array.
/// Each sample is nested exactly as the sample shape, or flat (its values in row-major order);
/// no other nesting is accepted. Numbers are converted straight to T with
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

    /// Appends one sample of `shape`, given either nested exactly as the shape (`[[1, 2, 3], [4,
    /// 5, 6]]` for `[2, 3]`) or flat in row-major order (`[1, 2, 3, 4, 5, 6]`). Any other nesting
    /// is an error naming the first entry that does not fit: a `[3, 2]` array is not silently
    /// flattened into a sample of `[6]`.
    public static func sample<T: LoomFloat>(_ v: JSONValue, shape: [Int], path: String, into out: inout [T]) throws(LoomError) {
        guard let a = v.arrayValue else {
            throw LoomError(.invalidInput, path, "expected a sample of shape \(Tensor<T>.describe(shape)), got \(v.kindName)")
        }
        let per = Tensor<T>.count(of: shape)
        if shape.count > 1 && a.allSatisfy({ $0.numberValue != nil }) {
            guard a.count == per else {
                throw LoomError(.shapeMismatch, path, "a flat sample needs \(per) values (shape \(Tensor<T>.describe(shape))), got \(a.count)")
            }
            for (i, e) in a.enumerated() { try flatten(e, path: "\(path)[\(i)]", into: &out) }
            return
        }
        try nested(v, shape[...], shape: shape, path: path, into: &out)
    }

    static func nested<T: LoomFloat>(_ v: JSONValue, _ dims: ArraySlice<Int>, shape: [Int], path: String, into out: inout [T]) throws(LoomError) {
        guard let d = dims.first else {
            guard v.numberValue != nil else {
                throw LoomError(.shapeMismatch, path, "expected a number (sample shape \(Tensor<T>.describe(shape))), got \(v.kindName)")
            }
            try flatten(v, path: path, into: &out)
            return
        }
        guard let a = v.arrayValue, a.count == d else {
            let got = v.arrayValue.map { "\($0.count) entries" } ?? v.kindName
            throw LoomError(.shapeMismatch, path, "expected \(d) entries here (sample shape \(Tensor<T>.describe(shape))), got \(got)")
        }
        for (i, e) in a.enumerated() { try nested(e, dims.dropFirst(), shape: shape, path: "\(path)[\(i)]", into: &out) }
    }

    /// `[batch] + sampleShape` from a JSON batch (an array of samples) or a single sample; each
    /// sample as `sample(_:shape:path:into:)` takes it.
    public static func batch<T: LoomFloat>(_ v: JSONValue, sampleShape: [Int], path: String, as: T.Type) throws(LoomError) -> Tensor<T> {
        let per = Tensor<T>.count(of: sampleShape)
        guard let arr = v.arrayValue else { throw LoomError(.invalidInput, path, "expected an array, got \(v.kindName)") }
        guard !arr.isEmpty else { throw LoomError(.invalidInput, path, "no values") }
        if arr[0].arrayValue != nil {
            // A batch when every element is one sample; else one nested sample.
            var data = [T]()
            data.reserveCapacity(Swift.min(arr.count, Limits.maxElements / Swift.max(per, 1)) * per)
            var batchError: LoomError? = nil
            for (i, s) in arr.enumerated() {
                do { try sample(s, shape: sampleShape, path: "\(path)[\(i)]", into: &data) } catch {
                    if error.kind == .invalidInput { throw error }  // a bad number: the same in either reading
                    batchError = error
                    break
                }
            }
            if let e = batchError {
                var single = [T]()
                do { try sample(v, shape: sampleShape, path: path, into: &single) } catch { throw e }
                return Tensor(uncheckedShape: [1] + sampleShape, data: single)
            }
            return Tensor(uncheckedShape: [arr.count] + sampleShape, data: data)
        }
        var data = [T]()
        try sample(v, shape: sampleShape, path: path, into: &data)
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
