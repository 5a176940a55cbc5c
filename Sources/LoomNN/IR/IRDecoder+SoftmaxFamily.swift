import LoomCore

// IR of the softmax family (hierarchical, gumbel, sparsemax, entmax, adaptive, mixture) and of
// the kmeans layer: decoding, encoding and the Builder's checks. docs/ir.md has the fields.

extension IRDecoder {
    static func intArray(_ f: inout IRFields, _ key: String) throws(LoomError) -> [Int]? {
        guard let a = try f.array(key) else { return nil }
        var out = [Int]()
        for (i, v) in a.enumerated() { out.append(try IRFields.int(v, path: f.at(key) + "[\(i)]", min: 1)) }
        return out
    }

    /// The family's variants; nil for an unknown name.
    static func decodeSoftmaxFamily(_ variant: String, _ f: inout IRFields) throws(LoomError) -> SoftmaxVariant? {
        switch variant {
        case "hierarchical":
            guard let l = try intArray(&f, "levels"), !l.isEmpty else {
                throw LoomError(.invalidIR, f.at("levels"), "is required: a non-empty array of group sizes")
            }
            return .hierarchical(levels: l)
        case "gumbel": return .gumbel(temperature: try f.double("temperature", 1))
        case "sparsemax": return .sparsemax
        case "entmax": return .entmax(alpha: try f.double("alpha", 1.5))
        case "adaptive":
            let h = try f.int("head_size", min: 1)
            guard let c = try intArray(&f, "clusters"), !c.isEmpty else {
                throw LoomError(.invalidIR, f.at("clusters"), "is required: a non-empty array of tail cluster sizes")
            }
            return .adaptive(headSize: h, clusters: c)
        case "mixture": return .mixture(components: try f.int("components", min: 1))
        default: return nil
        }
    }

    static func decodeKMeans(_ f: inout IRFields) throws(LoomError) -> KMeansSpec {
        let k = try f.int("clusters", min: 1)
        let dim: Int? = f.object.contains("dim") ? try f.int("dim", min: 1) : nil
        let dn = try f.string("distance", "euclidean")
        guard let d = KMeansDistance(rawValue: dn) else {
            throw LoomError(.invalidIR, f.at("distance"), "unknown distance \"\(dn)\" (euclidean, manhattan, cosine)")
        }
        let t = try f.double("temperature", 1)
        guard t > 0 else { throw LoomError(.invalidIR, f.at("temperature"), "must be a positive number, got \(t)") }
        let on = try f.string("output", "probabilities")
        guard let o = KMeansOutput(rawValue: on) else {
            throw LoomError(.invalidIR, f.at("output"), "unknown output \"\(on)\" (probabilities, features)")
        }
        return KMeansSpec(clusters: k, dim: dim, distance: d, temperature: t, output: o)
    }
}

extension IREncoder {
    static func encodeSoftmaxFamily(_ v: SoftmaxVariant, into o: inout JSONObject) {
        switch v {
        case .hierarchical(let l): o.set("levels", .array(l.map { num($0) }))
        case .gumbel(let t): o.set("temperature", num(t))
        case .entmax(let a): o.set("alpha", num(a))
        case .adaptive(let h, let c): o.set("head_size", num(h)); o.set("clusters", .array(c.map { num($0) }))
        case .mixture(let k): o.set("components", num(k))
        default: break
        }
    }

    static func encodeKMeans(_ s: KMeansSpec, into o: inout JSONObject) {
        o.set("clusters", num(s.clusters))
        if let d = s.dim { o.set("dim", num(d)) }
        o.set("distance", .string(s.distance.rawValue))
        o.set("temperature", num(s.temperature))
        o.set("output", .string(s.output.rawValue))
    }
}

extension Builder {
    static func checkFamily(_ variant: SoftmaxVariant, features: Int, path: String) throws(LoomError) {
        switch variant {
        case .hierarchical(let levels):
            var n = 1
            for g in levels {
                guard g > 0 else { throw LoomError(.invalidIR, path + ".levels", "group sizes must be positive") }
                let (p, o) = n.multipliedReportingOverflow(by: g)
                guard !o, p <= features else { n = features + 1; break }
                n = p
            }
            guard n == features else {
                throw LoomError(.shapeMismatch, path + ".levels", "the product of the levels \(levels) must equal the \(features) input features")
            }
        case .gumbel(let t):
            guard t > 0, t.isFinite else { throw LoomError(.invalidIR, path + ".temperature", "must be a positive number, got \(t)") }
        case .entmax(let a):
            guard a > 1, a <= 2 else { throw LoomError(.invalidIR, path + ".alpha", "must be in (1, 2], got \(a) (α = 1 is softmax: use variant standard)") }
        case .adaptive(let h, let c):
            var need = h + c.count
            for n in c {
                guard n > 0 else { throw LoomError(.invalidIR, path + ".clusters", "cluster sizes must be positive") }
                need += n
                guard need <= features else { break }
            }
            guard h > 0, need == features else {
                throw LoomError(.shapeMismatch, path, "adaptive softmax with head_size \(h) and clusters \(c) needs \(h) + \(c.count) + Σclusters input features, got \(features)")
            }
        case .mixture(let k):
            guard k > 0, features > k, (features - k) % k == 0 else {
                throw LoomError(.shapeMismatch, path + ".components", "a mixture of \(k) softmaxes needs K·V + K input features (K = \(k), V ≥ 1), got \(features)")
            }
        default: break
        }
    }

    mutating func buildKMeans(_ s: KMeansSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        guard let features = input.last, features > 0 else {
            throw LoomError(.shapeMismatch, path, "kmeans needs an input with a feature axis, got \(Tensor<T>.describe(input))")
        }
        let dim = s.dim ?? features
        guard dim == features else {
            throw LoomError(.shapeMismatch, path + ".dim", "is \(dim) but the input has \(features) features (project with a dense or stitch layer first)")
        }
        _ = try Builder.checkedCount([s.clusters, dim], path: path + ".clusters", what: "the centers")
        return KMeansLayer(path: path, name: name, id: takeID(), inputShape: input, spec: s, params: params, seed: seed)
    }
}
