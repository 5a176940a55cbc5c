import LoomCore

/// Reads one JSON object of the IR: typed field access with defaults, and an error for every
/// field that is missing, of the wrong type, or unknown — each naming its path.
struct IRFields {
    let object: JSONObject
    let path: String
    private(set) var used: [String] = []

    init(_ value: JSONValue, path: String) throws(LoomError) {
        guard let o = value.objectValue else {
            throw LoomError(.invalidIR, path.isEmpty ? "(root)" : path, "expected an object, got \(value.kindName)")
        }
        object = o
        self.path = path
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func value(_ key: String) -> JSONValue? {
        used.append(key)
        return object[key]
    }

    mutating func required(_ key: String) throws(LoomError) -> JSONValue {
        guard let v = value(key) else { throw LoomError(.invalidIR, at(key), "is required") }
        return v
    }

    mutating func int(_ key: String, _ def: Int? = nil, min: Int? = nil) throws(LoomError) -> Int {
        guard let v = value(key) else {
            if let d = def { return d }
            throw LoomError(.invalidIR, at(key), "is required")
        }
        return try IRFields.int(v, path: at(key), min: min)
    }

    static func int(_ v: JSONValue, path: String, min: Int? = nil) throws(LoomError) -> Int {
        guard let n = v.numberValue else { throw LoomError(.invalidIR, path, "expected an integer, got \(v.kindName)") }
        guard let i = n.int else { throw LoomError(.invalidIR, path, "expected an integer, got \(n.text)") }
        if let m = min, i < m { throw LoomError(.invalidIR, path, "must be at least \(m), got \(i)") }
        // Every IR integer is a size, a count, an index or an axis: bounding it here means no
        // arithmetic on IR values downstream can overflow (Limits).
        guard i.magnitude <= Limits.maxInteger.magnitude else {
            throw LoomError(.invalidIR, path, "\(i) is out of range (an IR integer is at most 2^31 in magnitude)")
        }
        return i
    }

    mutating func uint64(_ key: String, _ def: UInt64) throws(LoomError) -> UInt64 {
        guard let v = value(key) else { return def }
        guard let n = v.numberValue, let u = n.uint64 else {
            throw LoomError(.invalidIR, at(key), "expected a non-negative integer")
        }
        return u
    }

    mutating func double(_ key: String, _ def: Double? = nil) throws(LoomError) -> Double {
        guard let v = value(key) else {
            if let d = def { return d }
            throw LoomError(.invalidIR, at(key), "is required")
        }
        guard let n = v.numberValue else { throw LoomError(.invalidIR, at(key), "expected a number, got \(v.kindName)") }
        guard let d = n.double, d.isFinite else { throw LoomError(.invalidIR, at(key), "number \(n.text) is out of range") }
        return d
    }

    mutating func bool(_ key: String, _ def: Bool) throws(LoomError) -> Bool {
        guard let v = value(key) else { return def }
        guard let b = v.boolValue else { throw LoomError(.invalidIR, at(key), "expected true or false, got \(v.kindName)") }
        return b
    }

    mutating func string(_ key: String, _ def: String? = nil) throws(LoomError) -> String {
        guard let v = value(key) else {
            if let d = def { return d }
            throw LoomError(.invalidIR, at(key), "is required")
        }
        guard let s = v.stringValue else { throw LoomError(.invalidIR, at(key), "expected a string, got \(v.kindName)") }
        return s
    }

    mutating func array(_ key: String) throws(LoomError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw LoomError(.invalidIR, at(key), "expected an array, got \(v.kindName)") }
        return a
    }

    /// Fails on any member that was never read.
    func finish(known extra: [String] = []) throws(LoomError) {
        for k in object.keys where !used.contains(k) && !extra.contains(k) {
            throw LoomError(.invalidIR, at(k), "unknown field")
        }
    }
}

extension LoomError {
    /// Wraps a JSON syntax error.
    public static func json(_ e: JSONError, source: String) -> LoomError {
        LoomError(.invalidJSON, source, e.description)
    }
}
