import LoomCore

// Neural Tweening's settings and reports as JSON: what the C ABI, the bindings and the CLI pass
// (docs/tweening.md lists the fields). Unknown fields are errors, each naming its path.

extension TweenConfig {
    /// A config from a JSON object; every field is optional (the defaults are `TweenConfig()`'s).
    /// `type_rates` entries replace or add to the default per-type factors. Every error (an
    /// unknown or mistyped field, a value no tween step can use) is `.invalidArgument` naming
    /// `path.field`.
    public static func decode(_ v: JSONValue, path: String) throws(LoomError) -> TweenConfig {
        let c: TweenConfig
        do { c = try fields(v, path: path) } catch { throw LoomError(.invalidArgument, error.path, error.message) }
        try c.validate(path: path)
        return c
    }

    static func fields(_ v: JSONValue, path: String) throws(LoomError) -> TweenConfig {
        var f = try IRFields(v, path: path)
        let modeName = try f.string("mode", TweenMode.chainRule.rawValue)
        guard let mode = TweenMode(rawValue: modeName) else {
            throw LoomError(.invalidIR, f.at("mode"), "unknown tween mode \"\(modeName)\" (gap_closing, chain_rule)")
        }
        var c = TweenConfig(mode: mode)
        c.rate = try f.double("rate", c.rate)
        c.momentum = try f.double("momentum", c.momentum)
        c.ignoreThreshold = try f.double("ignore_threshold", c.ignoreThreshold)
        c.linkBudgetScale = try f.double("link_budget_scale", c.linkBudgetScale)
        c.depthBarrier = try f.bool("depth_barrier", c.depthBarrier)
        c.depthScaleFactor = try f.double("depth_scale_factor", c.depthScaleFactor)
        c.signalClip = try f.double("signal_clip", c.signalClip)
        c.updateClip = try f.double("update_clip", c.updateClip)
        c.gradientScale = try f.double("gradient_scale", c.gradientScale)
        if let r = f.value("type_rates") {
            var rf = try IRFields(r, path: f.at("type_rates"))
            for key in rf.object.keys { c.typeRates[key] = try rf.double(key) }
        }
        c.explosionDetection = try f.bool("explosion_detection", c.explosionDetection)
        c.pruning = try f.bool("pruning", c.pruning)
        c.pruneThreshold = try f.double("prune_threshold", c.pruneThreshold)
        c.prunePatience = try f.int("prune_patience", c.prunePatience)
        try f.finish()
        return c
    }

    /// A config from JSON text (`source` names it in errors).
    public static func decode(json text: String, source: String) throws(LoomError) -> TweenConfig {
        try decode(try ModelCodec.parse(text, source: source), path: source)
    }
}

extension TweenReport {
    /// `{"loss", "link_budgets", "gaps", "depth_barrier", "updated", "adaptive_rate", "pruned"}`,
    /// per-stage arrays in input-to-output order (a non-finite number is written as null).
    public var json: JSONValue {
        func num(_ x: Double) -> JSONValue { JSONValue.number(x) ?? .null }
        return .object(JSONObject([
            ("loss", num(loss)),
            ("link_budgets", .array(linkBudgets.map(num))),
            ("gaps", .array(gaps.map(num))),
            ("depth_barrier", .array(depthBarrier.map(num))),
            ("updated", .array(updated.map { JSONValue.bool($0) })),
            ("adaptive_rate", num(adaptiveRate)),
            ("pruned", .array(pruned.map { JSONValue.number($0) })),
        ]))
    }
}
