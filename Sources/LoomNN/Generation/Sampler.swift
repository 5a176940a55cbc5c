import LoomCore

/// How the next token is chosen from a position's logits (docs/generation.md).
///
/// Deterministic: the same logits, history, settings, seed and step give the same token on every
/// platform. Filters run in the order of Hugging Face `generate`: repetition penalty, temperature,
/// top-k, top-p, min-p; then one draw.
///
/// - Greedy (`temperature == 0`): the largest logit after the repetition penalty; ties go to the
///   lowest id.
/// - Repetition penalty r (CTRL, as HF): for every distinct id in `history`, `l = l > 0 ? l / r : l·r`.
/// - Temperature: `l / T` (Double).
/// - The candidates are sorted by (logit descending, id ascending) — a total order, so the sort
///   is unique. top-k keeps the first k. Probabilities: `e_i = exp(l_i − l_0)` (DetMath, Double) in
///   that order, `p_i = e_i / Σe` (sum in order). top-p keeps the shortest prefix whose cumulative
///   probability reaches p (at least one). min-p keeps `p_i ≥ minP·p_0`.
/// - Draw: `u = Philox(seed).uniformDouble(stream: StreamID.of("sample"), index: step)`; the
///   token is the first kept candidate whose cumulative weight (kept `e_i`, summed in order)
///   exceeds `u·Σ kept e_i` (the last kept one if rounding leaves none).
public struct SamplerSettings: Sendable, Equatable {
    public var temperature: Double
    public var topK: Int?
    public var topP: Double?
    public var minP: Double?
    public var repetitionPenalty: Double?
    public var seed: UInt64

    public init(temperature: Double = 0, topK: Int? = nil, topP: Double? = nil, minP: Double? = nil,
                repetitionPenalty: Double? = nil, seed: UInt64 = 0) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.minP = minP
        self.repetitionPenalty = repetitionPenalty; self.seed = seed
    }

    public static let greedy = SamplerSettings()

    /// Checks the ranges (temperature ≥ 0, top-k ≥ 1, top-p in (0, 1], min-p in [0, 1], penalty > 0).
    public func validate() throws(LoomError) {
        guard temperature >= 0, temperature.isFinite else { throw LoomError(.invalidArgument, "temperature", "must be a finite number ≥ 0, got \(temperature)") }
        if let k = topK, k < 1 { throw LoomError(.invalidArgument, "top_k", "must be at least 1, got \(k)") }
        if let p = topP, !(p > 0 && p <= 1) { throw LoomError(.invalidArgument, "top_p", "must be in (0, 1], got \(p)") }
        if let m = minP, !(m >= 0 && m <= 1) { throw LoomError(.invalidArgument, "min_p", "must be in [0, 1], got \(m)") }
        if let r = repetitionPenalty, !(r > 0 && r.isFinite) { throw LoomError(.invalidArgument, "repetition_penalty", "must be a finite number > 0, got \(r)") }
    }
}

public enum Sampler {
    /// The next token for `logits` (one position, V values), given the ids produced so far.
    public static func next<T: LoomFloat>(_ logits: [T], history: [Int], settings s: SamplerSettings,
                                          step: UInt64) throws(LoomError) -> Int {
        try s.validate()
        guard !logits.isEmpty else { throw LoomError(.invalidInput, "logits", "are empty") }
        var l = [Double](repeating: 0, count: logits.count)
        for i in 0..<logits.count {
            let v = logits[i].double
            guard !v.isNaN else { throw LoomError(.nonFinite, "logits", "NaN at token \(i)") }
            l[i] = v
        }
        if let r = s.repetitionPenalty, r != 1 {
            var seen = [Bool](repeating: false, count: l.count)
            for id in history where id >= 0 && id < l.count && !seen[id] {
                seen[id] = true
                l[id] = l[id] > 0 ? l[id] / r : l[id] * r
            }
        }
        if s.temperature == 0 {
            var best = 0
            for i in 1..<l.count where l[i] > l[best] { best = i }
            return best
        }
        for i in 0..<l.count { l[i] = l[i] / s.temperature }
        var order = Array(0..<l.count)
        order.sort { l[$0] != l[$1] ? l[$0] > l[$1] : $0 < $1 }
        if let k = s.topK, k < order.count { order.removeLast(order.count - k) }
        let top = l[order[0]]
        guard top.isFinite else {
            // Every candidate −∞ (or the best +∞): take the first in order.
            return order[0]
        }
        var e = order.map { DetMath.exp(l[$0] - top) }
        var total = 0.0
        for v in e { total += v }
        var kept = e.count
        if let p = s.topP, p < 1 {
            var cum = 0.0
            for i in 0..<e.count {
                cum += e[i] / total
                if cum >= p { kept = i + 1; break }
            }
        }
        if let m = s.minP, m > 0 {
            let floor = m * (e[0] / total)
            var n = 0
            while n < kept && e[n] / total >= floor { n += 1 }
            kept = Swift.max(1, n)
        }
        e.removeLast(e.count - kept)
        var keptTotal = 0.0
        for v in e { keptTotal += v }
        let u = Philox(seed: s.seed).uniformDouble(stream: StreamID.of("sample"), index: step)
        let target = u * keptTotal
        var cum = 0.0
        for i in 0..<e.count {
            cum += e[i]
            if cum > target { return order[i] }
        }
        return order[e.count - 1]
    }
}

extension SamplerSettings {
    /// From JSON: {"temperature", "top_k", "top_p", "min_p", "repetition_penalty", "seed"}, each
    /// optional (greedy by default); unknown keys and out-of-range values are invalid arguments.
    public init(json text: String, source: String = "sampler") throws(LoomError) {
        do {
            var f = try IRFields(try ModelCodec.parse(text, source: source), path: source)
            self.init()
            temperature = try f.double("temperature", 0)
            if f.value("top_k") != nil { topK = try f.int("top_k") }
            if f.value("top_p") != nil { topP = try f.double("top_p") }
            if f.value("min_p") != nil { minP = try f.double("min_p") }
            if f.value("repetition_penalty") != nil { repetitionPenalty = try f.double("repetition_penalty") }
            seed = try f.uint64("seed", 0)
            try f.finish()
        } catch {
            var e = error
            if e.kind == .invalidIR { e.kind = .invalidArgument }
            throw e
        }
        try validate()
    }
}
