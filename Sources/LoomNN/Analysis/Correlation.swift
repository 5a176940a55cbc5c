import LoomCore

/// Pearson and Spearman correlation matrices of a data set (samples × features), with each
/// feature's statistics, the strongly correlated pairs, and JSON. Every sum is binary64 in sample
/// order, so the result is the same bits everywhere.
public struct CorrelationMatrix: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        /// r = Σ(x − x̄)(y − ȳ) / √(Σ(x − x̄)² · Σ(y − ȳ)²) (as numpy.corrcoef).
        case pearson
        /// Pearson of the ranks; tied values share the mean of their ranks (as scipy.stats.spearmanr).
        case spearman
    }

    /// A feature's statistics over the samples (of the raw values for both methods).
    public struct FeatureStats: Sendable, Equatable {
        public var mean: Double
        /// The population standard deviation (divided by the sample count).
        public var std: Double
        public var min: Double, max: Double
    }

    public let method: Method
    public let features: [String]
    public let samples: Int
    /// [i][j]: the correlation of features i and j; NaN when either is constant.
    public let matrix: [[Double]]
    public let stats: [FeatureStats]

    /// `data` holds `samples` rows of `features.count` values (row-major), or of `featureCount`
    /// values named "f0", "f1", … when `names` is nil. Errors: fewer than 2 samples, no features, a
    /// count that is not samples × features, a name list of the wrong length, a non-finite value.
    public init<T: LoomFloat>(_ data: [T], samples: Int, featureCount: Int, names: [String]? = nil,
                              method: Method = .pearson) throws(LoomError) {
        guard samples >= 2 else { throw LoomError(.invalidArgument, "correlation", "needs at least 2 samples, got \(samples)") }
        guard featureCount >= 1 else { throw LoomError(.invalidArgument, "correlation", "needs at least 1 feature") }
        guard data.count == samples * featureCount else {
            throw LoomError(.shapeMismatch, "correlation", "\(data.count) values are not \(samples) samples × \(featureCount) features")
        }
        if let n = names, n.count != featureCount {
            throw LoomError(.shapeMismatch, "correlation.names", "\(n.count) names for \(featureCount) features")
        }
        if let i = data.firstIndex(where: { !$0.isFinite }) {
            throw LoomError(.nonFinite, "correlation", "value \(data[i].double) at sample \(i / featureCount), feature \(i % featureCount)")
        }
        self.method = method
        self.samples = samples
        features = names ?? (0..<featureCount).map { "f\($0)" }
        var columns = (0..<featureCount).map { f in (0..<samples).map { data[$0 * featureCount + f].double } }
        stats = columns.map { c in
            let m = CorrelationMatrix.mean(c)
            var v = 0.0
            for x in c { v += (x - m) * (x - m) }
            return FeatureStats(mean: m, std: (v / Double(c.count)).squareRoot(), min: c.min()!, max: c.max()!)
        }
        if method == .spearman { columns = columns.map(CorrelationMatrix.ranks) }
        let centred = columns.map { c -> [Double] in let m = CorrelationMatrix.mean(c); return c.map { $0 - m } }
        let norms = centred.map { c -> Double in var s = 0.0; for x in c { s += x * x }; return s }
        var m = [[Double]](repeating: [Double](repeating: 0, count: featureCount), count: featureCount)
        for i in 0..<featureCount {
            for j in i..<featureCount {
                var r = Double.nan
                if norms[i] > 0 && norms[j] > 0 {
                    var s = 0.0
                    for k in 0..<samples { s += centred[i][k] * centred[j][k] }
                    r = Swift.min(1, Swift.max(-1, s / (norms[i] * norms[j]).squareRoot()))
                }
                m[i][j] = r; m[j][i] = r
            }
        }
        matrix = m
    }

    static func mean(_ c: [Double]) -> Double {
        var s = 0.0
        for x in c { s += x }
        return s / Double(c.count)
    }

    /// 1-based ranks; ties get the mean of the ranks they span (the sort is stable: index order).
    static func ranks(_ c: [Double]) -> [Double] {
        let order = c.indices.sorted { c[$0] < c[$1] || (c[$0] == c[$1] && $0 < $1) }
        var r = [Double](repeating: 0, count: c.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && c[order[j + 1]] == c[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = rank }
            i = j + 1
        }
        return r
    }

    /// Pairs (i < j) with |r| ≥ `threshold`, strongest first (ties in index order); NaN never.
    public func strongPairs(threshold: Double) -> [(a: String, b: String, r: Double)] {
        var out = [(Int, Int, Double)]()
        for i in 0..<features.count { for j in (i + 1)..<Swift.max(i + 1, features.count) where abs(matrix[i][j]) >= threshold { out.append((i, j, matrix[i][j])) } }
        return out.enumerated().sorted { abs($0.element.2) != abs($1.element.2) ? abs($0.element.2) > abs($1.element.2) : $0.offset < $1.offset }
            .map { (features[$0.element.0], features[$0.element.1], $0.element.2) }
    }

    /// Every other feature's correlation with `feature`, strongest first. Error: an unknown name.
    public func correlations(with feature: String) throws(LoomError) -> [(feature: String, r: Double)] {
        guard let i = features.firstIndex(of: feature) else {
            throw LoomError(.invalidArgument, "correlation", "no feature named \"\(feature)\" (features: \(features.joined(separator: ", ")))")
        }
        return features.indices.filter { $0 != i && !matrix[i][$0].isNaN }
            .sorted { abs(matrix[i][$0]) != abs(matrix[i][$1]) ? abs(matrix[i][$0]) > abs(matrix[i][$1]) : $0 < $1 }
            .map { (features[$0], matrix[i][$0]) }
    }

    /// `{"method", "samples", "features", "matrix" (null for NaN), "stats": [{"feature", "mean",
    /// "std", "min", "max"}], "strong" (|r| ≥ threshold)}`.
    public func json(strongThreshold: Double = 0.7) -> JSONValue {
        func num(_ v: Double) -> JSONValue { JSONNumber(v).map { .number($0) } ?? .null }
        var o = JSONObject()
        o.set("method", .string(method.rawValue))
        o.set("samples", .number(JSONNumber(samples)))
        o.set("features", .array(features.map { .string($0) }))
        o.set("matrix", .array(matrix.map { .array($0.map(num)) }))
        o.set("stats", .array(zip(features, stats).map { f, s in
            .object(JSONObject([("feature", .string(f)), ("mean", num(s.mean)), ("std", num(s.std)), ("min", num(s.min)), ("max", num(s.max))]))
        }))
        o.set("strong_threshold", num(strongThreshold))
        o.set("strong", .array(strongPairs(threshold: strongThreshold).map { p in
            .object(JSONObject([("a", .string(p.a)), ("b", .string(p.b)), ("r", num(p.r))]))
        }))
        return .object(o)
    }
}
