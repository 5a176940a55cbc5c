import LoomCore

/// JSON ↔ spec for the convolution, pooling and shape layers (docs/ir.md).
extension IRDecoder {
    /// A spatial field: one integer (used for every axis) or an array of `rank` integers.
    static func spatial(_ f: inout IRFields, _ key: String, _ def: [Int]?, rank: Int, min: Int) throws(LoomError) -> [Int] {
        guard let v = f.value(key) else {
            if let d = def { return d }
            throw LoomError(.invalidIR, f.at(key), "is required")
        }
        if let a = v.arrayValue {
            guard a.count == rank else {
                throw LoomError(.invalidIR, f.at(key), "expected one integer or \(rank) integers, got an array of \(a.count)")
            }
            var out = [Int]()
            for (i, x) in a.enumerated() { out.append(try IRFields.int(x, path: f.at(key) + "[\(i)]", min: min)) }
            return out
        }
        let n = try IRFields.int(v, path: f.at(key), min: min)
        return [Int](repeating: n, count: rank)
    }

    static func decodeConv(_ f: inout IRFields, rank: Int) throws(LoomError) -> LayerSpec {
        let act = try f.value("activation").map { (a) throws(LoomError) in try decodeActivation(a, path: f.at("activation")) } ?? .linear
        let ones = [Int](repeating: 1, count: rank)
        return .conv(ConvSpec(rank: rank, filters: try f.int("filters", min: 1),
                              kernel: try spatial(&f, "kernel_size", nil, rank: rank, min: 1),
                              stride: try spatial(&f, "stride", ones, rank: rank, min: 1),
                              padding: try spatial(&f, "padding", [Int](repeating: 0, count: rank), rank: rank, min: 0),
                              dilation: try spatial(&f, "dilation", ones, rank: rank, min: 1),
                              groups: try f.int("groups", 1, min: 1), bias: try f.bool("bias", true), activation: act))
    }

    static func decodePool(_ f: inout IRFields, kind: PoolKind, rank: Int) throws(LoomError) -> LayerSpec {
        let kernel = try spatial(&f, "kernel_size", nil, rank: rank, min: 1)
        return .pool(PoolSpec(kind: kind, rank: rank, kernel: kernel,
                              stride: try spatial(&f, "stride", kernel, rank: rank, min: 1),
                              padding: try spatial(&f, "padding", [Int](repeating: 0, count: rank), rank: rank, min: 0)))
    }

    static func decodeReshape(_ f: inout IRFields) throws(LoomError) -> LayerSpec {
        guard let a = try f.array("shape") else { throw LoomError(.invalidIR, f.at("shape"), "is required") }
        guard !a.isEmpty else { throw LoomError(.invalidIR, f.at("shape"), "must not be empty") }
        var shape = [Int]()
        for (i, x) in a.enumerated() {
            let d = try IRFields.int(x, path: f.at("shape") + "[\(i)]", min: -1)
            guard d != 0 else { throw LoomError(.invalidIR, f.at("shape") + "[\(i)]", "must be a positive size or -1, got 0") }
            shape.append(d)
        }
        guard shape.filter({ $0 == -1 }).count <= 1 else {
            throw LoomError(.invalidIR, f.at("shape"), "at most one entry may be -1")
        }
        return .reshape(shape: shape)
    }

    /// The layer types of this file, or nil for another type.
    static func decodeConvFamily(_ type: String, _ f: inout IRFields) throws(LoomError) -> LayerSpec? {
        switch type {
        case "conv1d": return try decodeConv(&f, rank: 1)
        case "conv2d": return try decodeConv(&f, rank: 2)
        case "max_pool1d": return try decodePool(&f, kind: .max, rank: 1)
        case "max_pool2d": return try decodePool(&f, kind: .max, rank: 2)
        case "avg_pool1d": return try decodePool(&f, kind: .avg, rank: 1)
        case "avg_pool2d": return try decodePool(&f, kind: .avg, rank: 2)
        case "global_avg_pool": return .globalAvgPool
        case "flatten": return .flatten
        case "reshape": return try decodeReshape(&f)
        default: return nil
        }
    }
}

extension IREncoder {
    /// conv1d writes single integers, conv2d `[h, w]` pairs.
    static func spatial(_ v: [Int]) -> JSONValue { v.count == 1 ? num(v[0]) : .array(v.map { num($0) }) }

    /// Fields of the layer types of this file (after `type`).
    static func encodeConvFamily(_ l: LayerSpec, into o: inout JSONObject) {
        switch l {
        case .conv(let c):
            o.set("filters", num(c.filters)); o.set("kernel_size", spatial(c.kernel)); o.set("stride", spatial(c.stride))
            o.set("padding", spatial(c.padding)); o.set("dilation", spatial(c.dilation)); o.set("groups", num(c.groups))
            o.set("bias", .bool(c.bias)); o.set("activation", encode(c.activation))
        case .pool(let p):
            o.set("kernel_size", spatial(p.kernel)); o.set("stride", spatial(p.stride)); o.set("padding", spatial(p.padding))
        case .reshape(let s):
            o.set("shape", .array(s.map { num($0) }))
        default: break
        }
    }
}
