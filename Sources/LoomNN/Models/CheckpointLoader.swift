import LoomCore

/// Fills a network built with `materialize: false` from a checkpoint's tensors, by a name map
/// (`LlamaConfig.huggingFaceNames`, `BertConfig.huggingFaceNames`, …): every parameter must be
/// found with the right number of elements; values are converted once to the compute type.
public enum CheckpointLoader {
    /// How many blocks a checkpoint's tensor table holds: one more than the largest `N` of the
    /// names `prefix` + `N.` + … (0 when there is none). Bounded by the file, unlike a block count
    /// in its metadata.
    public static func blocksPresent(_ names: [String], prefix: String) -> Int {
        var most = 0
        for n in names where n.hasPrefix(prefix) {
            let digits = n.utf8.dropFirst(prefix.utf8.count).prefix(while: { $0 >= 48 && $0 <= 57 })
            guard !digits.isEmpty, digits.count <= 9, n.utf8.dropFirst(prefix.utf8.count + digits.count).first == UInt8(ascii: ".") else { continue }
            var v = 0
            for d in digits { v = v * 10 + Int(d - 48) }
            most = Swift.max(most, v + 1)
        }
        return most
    }

    /// Checks, before a network is built from a model's configuration, that its block count and
    /// the shapes of its first tensors match the tensors the file really holds, so that metadata
    /// claiming millions of blocks, or sizes unrelated to the weights, is refused at once instead
    /// of building (and allocating for) a network the file cannot fill.
    /// - `claimed`: the configuration's block count (`key` names it in errors);
    /// - `expected`: (tensor names tried in order, required shape, the configuration keys that set it).
    public static func crossCheck(blocks claimed: Int, key: String, prefixes: [String], names: [String],
                                  expected: [(tensors: [String], shape: [Int], keys: String)],
                                  shape: (String) -> [Int]?, source: String) throws(LoomError) {
        let present = prefixes.map { blocksPresent(names, prefix: $0) }.max() ?? 0
        guard claimed == present else {
            throw LoomError(.invalidModel, source + ": " + key, "is \(claimed) but the file holds tensors for \(present) block\(present == 1 ? "" : "s")")
        }
        for e in expected {
            var found: [Int]? = nil
            for t in e.tensors where found == nil { found = shape(t) }
            guard let have = found else {
                throw LoomError(.invalidModel, source, "tensor \(e.tensors[0]) is missing")
            }
            guard have == e.shape || (e.shape.count == 1 && have.reduce(1, &*) == e.shape[0]) else {
                throw LoomError(.invalidModel, source + ": " + e.keys, "say \(e.shape) for \(e.tensors[0]), but the file's tensor is \(have)")
            }
        }
    }

    /// `tensor(name)` returns the tensor's shape and values (as Float) or nil when absent.
    public static func fill<T: LoomFloat>(_ net: Network<T>, names: [(String, WeightSource)], source: String,
                                          prefixes: [String] = [""],
                                          tensor: (String) throws(LoomError) -> (shape: [Int], values: [Float])?) throws(LoomError) {
        try Limits.checkMemory(net.parameterBytes, for: "the model's weights (as \(T.dtype.name)) and their gradients", path: source, kind: .invalidModel)
        for (loomName, src) in names {
            guard let i = net.params.index(of: loomName) else {
                throw LoomError(.invalidModel, loomName, "the network has no parameter of this name")
            }
            var found: (shape: [Int], values: [Float])? = nil
            for p in prefixes where found == nil { found = try tensor(p + src.tensor) }
            guard var (shape, values) = found else {
                throw LoomError(.invalidModel, source, "tensor \(src.tensor) (for \(loomName)) is missing")
            }
            if src.take == .firstRow {
                guard shape.count == 2, shape[0] >= 1 else {
                    throw LoomError(.shapeMismatch, source + ": " + src.tensor, "needs a matrix to take row 0 of, got \(shape)")
                }
                values = Array(values[0..<shape[1]])
                shape = [shape[1]]
            }
            let want = net.params.values[i].shape
            guard shape == want || (shape.reduce(1, *) == want.reduce(1, *) && want.count == 1) else {
                throw LoomError(.shapeMismatch, source + ": " + src.tensor, "is \(shape); \(loomName) needs \(want)")
            }
            if let k = values.firstIndex(where: { !$0.isFinite }) {
                throw LoomError(.nonFinite, source + ": " + src.tensor, "value \(values[k]) at index \(k)")
            }
            net.params.values[i] = Tensor(uncheckedShape: want, data: values.map { T(Double($0)) })
            net.params.grads[i] = Tensor(zeros: want)
        }
    }
}

/// Sentence embeddings of a BERT encoder: mean over each row's valid positions (sum in position
/// order, then one division), then L2 normalisation `v / max(‖v‖, 1e-12)` with
/// `‖v‖ = sqrt(Σ v²)` (sums in order, Double) — sentence-transformers' pooling and `Normalize`.
public enum SentenceEmbedding {
    public static func pool(_ hidden: Tensor<Float>, validLengths: [Int]) -> [[Float]] {
        let s = hidden.shape[1], d = hidden.shape[2]
        var out = [[Float]]()
        for b in 0..<hidden.batch {
            let n = validLengths[b]
            var v = [Double](repeating: 0, count: d)
            for t in 0..<n { for i in 0..<d { v[i] += Double(hidden.data[(b * s + t) * d + i]) } }
            for i in 0..<d { v[i] /= Double(n) }
            var ss = 0.0
            for x in v { ss += x * x }
            let norm = Swift.max(ss.squareRoot(), 1e-12)
            out.append(v.map { Float($0 / norm) })
        }
        return out
    }
}
