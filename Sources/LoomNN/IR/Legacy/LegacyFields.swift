import LoomCore

/// Field access for the original Loom's JSON, with the Go decoder's rules: unknown fields are
/// ignored (as `encoding/json` does), a missing number is "not set" (Go's zero value with
/// `omitempty`), a present field of the wrong type is an error naming its path.
struct LegacyFields {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String) throws(LoomError) {
        guard let o = value.objectValue else {
            throw LoomError(.invalidIR, path.isEmpty ? "(root)" : path, "expected an object, got \(value.kindName)")
        }
        object = o
        self.path = path
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key]!.isNull) }

    /// An integer field; nil when absent, null or 0 (Go's "not set").
    func int(_ key: String) throws(LoomError) -> Int? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let n = v.numberValue, let i = n.int else {
            throw LoomError(.invalidIR, at(key), "expected an integer, got \(v.numberValue?.text ?? v.kindName)")
        }
        return i == 0 ? nil : i
    }

    /// A positive integer field; nil when not set; an error when negative.
    func positive(_ key: String) throws(LoomError) -> Int? {
        guard let i = try int(key) else { return nil }
        guard i > 0 else { throw LoomError(.invalidIR, at(key), "must be positive, got \(i)") }
        return i
    }

    /// A float32 field of the original (epsilon, temperature…): the decimal rounded to Float as
    /// Go's decoder does, returned as the exact Double of that Float; nil when absent or 0.
    func float32(_ key: String) throws(LoomError) -> Double? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let n = v.numberValue, let f = n.float, f.isFinite else {
            throw LoomError(.invalidIR, at(key), "expected a number, got \(v.numberValue?.text ?? v.kindName)")
        }
        return f == 0 ? nil : Double(f)
    }

    func string(_ key: String) throws(LoomError) -> String {
        guard let v = object[key], !v.isNull else { return "" }
        guard let s = v.stringValue else { throw LoomError(.invalidIR, at(key), "expected a string, got \(v.kindName)") }
        return s
    }

    func array(_ key: String) throws(LoomError) -> [JSONValue] {
        guard let v = object[key], !v.isNull else { return [] }
        guard let a = v.arrayValue else { throw LoomError(.invalidIR, at(key), "expected an array, got \(v.kindName)") }
        return a
    }

    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }
}

/// One imported parameter before it gets its final name: `local` is relative to the legacy
/// layer ("weight", "branches.1.bias", "gate.weight").
struct LegacyParam {
    var local: String
    var shape: [Int]
    var values: [Double]

    func under(_ prefix: String) -> LegacyParam { LegacyParam(local: prefix + "." + local, shape: shape, values: values) }
}

/// The weights of one legacy layer (`LayerWeights` of the saved bundle), or nothing for a config.
struct LegacyWeights {
    let object: JSONObject?
    let path: String

    static let none = LegacyWeights(object: nil, path: "")

    var present: Bool { object != nil }

    init(object: JSONObject?, path: String) { self.object = object; self.path = path }

    init(_ v: JSONValue?, path: String) throws(LoomError) {
        self.path = path
        guard let v = v else { throw LoomError(.invalidModel, path, "is missing") }
        guard let o = v.objectValue else { throw LoomError(.invalidModel, path, "expected an object, got \(v.kindName)") }
        object = o
    }

    func at(_ key: String) -> String { "\(path).\(key)" }

    /// A float32 array of exactly `count` values (`what` explains the expected size).
    func floats(_ key: String, count: Int, what: String) throws(LoomError) -> [Double] {
        let v = object?[key]
        guard let v = v, !v.isNull else {
            throw LoomError(.invalidModel, at(key), "is missing (\(what) needs \(count) values)")
        }
        guard let a = v.arrayValue else { throw LoomError(.invalidModel, at(key), "expected an array, got \(v.kindName)") }
        guard a.count == count else {
            throw LoomError(.invalidModel, at(key), "has \(a.count) values, \(what) needs \(count)")
        }
        var out = [Double]()
        out.reserveCapacity(count)
        for (i, x) in a.enumerated() {
            guard let n = x.numberValue, let f = n.float, f.isFinite else {
                throw LoomError(.invalidModel, at(key) + "[\(i)]", "expected a finite float32, got \(x.numberValue?.text ?? x.kindName)")
            }
            out.append(Double(f))
        }
        return out
    }

    /// The weights of nested layers (`branch_weights`), one per branch.
    func branches(count: Int) throws(LoomError) -> [LegacyWeights] {
        guard present else { return [LegacyWeights](repeating: .none, count: count) }
        let a = object?["branch_weights"]?.arrayValue ?? []
        guard a.count == count else {
            throw LoomError(.invalidModel, at("branch_weights"), "has \(a.count) entries for \(count) branches")
        }
        var out = [LegacyWeights]()
        for (i, b) in a.enumerated() { out.append(try LegacyWeights(b, path: at("branch_weights") + "[\(i)]")) }
        return out
    }
}

func legacyQuote(_ s: String) -> String { "\"" + s + "\"" }
