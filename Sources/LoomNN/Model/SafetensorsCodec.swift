import LoomCore

/// A network's parameters in a safetensors file, by parameter name (docs/formats.md).
///
/// Every parameter of `Network.params` is one tensor under its registry name
/// (`layers.3.weight`, `layers.5.branches.1.bias`, …) with its shape. The IR is stored in the
/// metadata key `loom.ir`, so a file can be loaded on its own.
///
/// Storage dtypes:
/// - the network's compute type (the default: F32, or F64 for f64 networks): the master values
///   bit for bit;
/// - any other float type (F64, F32, F16, BF16): each value rounded once by the dtype's rule
///   (`DType.roundTrip`);
/// - an integer type or F4 (quantized): codes plus scales on the dtype's `QuantGrid`. A
///   parameter of rank ≥ 2 is quantized per output channel (a row of its first axis, as
///   quantized execution does) or, with `.perTensor`, as one vector. Parameters of rank < 2
///   (biases, norm scales) stay in the compute type, as in quantized execution, unless
///   `quantizeVectors` is set (then one scale per tensor). A quantized parameter `NAME` is
///   stored as `NAME` (the codes, in the dtype, with the parameter's shape), `NAME.__scale`
///   (F64, shape `[rows]` per channel or `[]` per tensor) and, for the unsigned types,
///   `NAME.__zero_point` (the dtype, the scale's shape). Its values are
///   `scale · (code − zero_point)`: the integer code for signed types, the code minus the zero
///   point for unsigned types (the zero point is the code of 0), the E2M1 value for F4;
///   the product is rounded once to binary64 and then to the master type. These are exactly
///   the values the grid's read-back (`QuantizedRows.dequantized`) gives.
///
/// Loading checks that every parameter is present with its shape, that no tensor is unknown,
/// that companions fit their codes, and that every value is finite; frozen flags and optimizer
/// state are not stored.
public enum SafetensorsCodec {
    /// How a quantized dtype groups values under one scale.
    public enum Granularity: String, Sendable {
        /// One scale per output channel (row of the first axis) for rank ≥ 2.
        case perChannel = "per_channel"
        /// One scale for the whole tensor.
        case perTensor = "per_tensor"
    }

    public struct Options: Sendable {
        /// The storage dtype of every parameter; nil stores the compute type (bit-exact).
        public var dtype: DType?
        /// Grouping of rank ≥ 2 parameters under quantized dtypes.
        public var granularity: Granularity
        /// Whether quantized dtypes also quantize parameters of rank < 2 (one scale per tensor).
        public var quantizeVectors: Bool
        /// Whether the IR goes into `loom.ir` (needed to load the file on its own).
        public var includeIR: Bool
        /// Further metadata entries (keys must not clash with the `loom.*` keys written).
        public var metadata: [(key: String, value: String)]

        public init(dtype: DType? = nil, granularity: Granularity = .perChannel, quantizeVectors: Bool = false,
                    includeIR: Bool = true, metadata: [(key: String, value: String)] = []) {
            self.dtype = dtype; self.granularity = granularity; self.quantizeVectors = quantizeVectors
            self.includeIR = includeIR; self.metadata = metadata
        }
    }

    /// Metadata keys written by `encode`.
    public static let irKey = "loom.ir"
    public static let versionKey = "loom.version"
    public static let dtypeKey = "loom.dtype"
    public static let quantizationKey = "loom.quantization"
    /// Suffixes of the companion tensors of quantized parameters.
    public static let scaleSuffix = ".__scale"
    public static let zeroPointSuffix = ".__zero_point"

    // MARK: - save

    /// The safetensors file of `net`'s parameters stored with `options`.
    public static func encode<T: LoomFloat>(_ net: Network<T>, options: Options = Options()) throws(LoomError) -> [UInt8] {
        try writer(net, options: options).serialized()
    }

    /// The writer holding `net`'s parameters and metadata (to add tensors before serializing).
    public static func writer<T: LoomFloat>(_ net: Network<T>, options: Options = Options()) throws(LoomError) -> SafetensorsWriter {
        let dtype = options.dtype ?? T.dtype
        var meta: [(key: String, value: String)] = [(key: versionKey, value: "1"), (key: dtypeKey, value: dtype.name)]
        if options.includeIR { meta.append((key: irKey, value: IREncoder.encode(net.spec).serialized())) }
        if let grid = QuantGrid(dtype) { meta.append((key: quantizationKey, value: describe(grid, options, vectors: T.dtype))) }
        meta.append(contentsOf: options.metadata)
        var w = SafetensorsWriter(metadata: meta)
        for i in 0..<net.params.count {
            let name = net.params.names[i]
            for (k, t) in stored(net.params.values[i], name: name, dtype: dtype, options: options) {
                try w.add(k, dtype: t.dtype, shape: t.shape, bytes: t.bytes)
            }
        }
        return w
    }

    /// The scheme for `loom.quantization`: granularity of rank ≥ 2 parameters, what rank < 2
    /// parameters are, the companions and the value formula.
    private static func describe(_ grid: QuantGrid, _ o: Options, vectors: DType) -> String {
        var m = JSONObject()
        m.set("granularity", .string(o.granularity.rawValue))
        m.set("vectors", .string(o.quantizeVectors ? "per_tensor" : SafetensorsDType(vectors).name))
        m.set("scale", .string("NAME" + scaleSuffix + " F64"))
        if grid.isUnsigned { m.set("zero_point", .string("NAME" + zeroPointSuffix + " " + SafetensorsDType(grid.dtype).name)) }
        m.set("value", .string(grid.dtype == .f4 ? "scale * e2m1" : grid.isUnsigned ? "scale * (code - zero_point)" : "scale * code"))
        return JSONValue.object(m).serialized()
    }

    /// The tensors that store one parameter (the parameter itself, then its companions).
    static func stored<T: LoomFloat>(_ t: Tensor<T>, name: String, dtype: DType, options: Options)
        -> [(String, (dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]))] {
        let values = t.data.map { $0.double }  // exact; every dtype then rounds once
        guard let grid = QuantGrid(dtype), let rows = quantizedRows(t.shape, options) else {
            let d = QuantGrid(dtype) == nil ? dtype : T.dtype
            return [(name, (SafetensorsDType(d), t.shape, DType.encode(values, as: d)))]
        }
        let cols = t.count / rows
        let q = t.data.withUnsafeBufferPointer {
            QuantizedRows(SerialContext(), $0.baseAddress!, rows: rows, cols: cols, rowStride: cols, colStride: 1, grid: grid)
        }
        var codes = [Double](repeating: 0, count: t.count)
        var scales = [Double](repeating: 0, count: rows)
        var zeros = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            // F4 codes are twice the E2M1 value: store the value, and twice the scale.
            scales[r] = grid.dtype == .f4 ? q.scales[r] * 2 : q.scales[r]
            var z: Int64 = 0
            if grid.isUnsigned {
                // The zero point: the code of 0, so that every centred code c maps to c + z ≥ 0.
                for c in 0..<cols { z = Swift.max(z, -q.codes[r * cols + c]) }
                zeros[r] = Double(z)
            }
            for c in 0..<cols {
                let code = q.codes[r * cols + c]
                codes[r * cols + c] = grid.dtype == .f4 ? Double(code) / 2 : Double(code + z)
            }
        }
        let scaleShape = rows == 1 && (t.rank < 2 || options.granularity == .perTensor) ? [Int]() : [rows]
        var out: [(String, (dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]))] = [
            (name, (SafetensorsDType(dtype), t.shape, DType.encode(codes, as: dtype))),
            (name + scaleSuffix, (.f64, scaleShape, DType.encode(scales, as: .f64))),
        ]
        if grid.isUnsigned { out.append((name + zeroPointSuffix, (SafetensorsDType(dtype), scaleShape, DType.encode(zeros, as: dtype)))) }
        return out
    }

    /// The number of scale groups of a parameter of `shape` under a quantized dtype, or nil when
    /// it stays in the compute type.
    static func quantizedRows(_ shape: [Int], _ o: Options) -> Int? {
        let count = Tensor<Float>.count(of: shape)
        if count == 0 { return nil }
        if shape.count >= 2 { return o.granularity == .perChannel ? shape[0] : 1 }
        return o.quantizeVectors ? 1 : nil
    }

    // MARK: - load

    /// Loads every parameter of `net` from `file` (names and shapes must match the network).
    public static func load<T: LoomFloat>(_ file: Safetensors, into net: Network<T>) throws(LoomError) {
        var used = [Bool](repeating: false, count: file.tensors.count)
        var values = [Tensor<T>]()
        for i in 0..<net.params.count {
            let name = net.params.names[i]
            guard let k = file.index(of: name) else {
                throw LoomError(.invalidModel, file.source.isEmpty ? "safetensors" : file.source, "missing parameter \"\(name)\"")
            }
            used[k] = true
            let view = file.tensor(at: k)
            let expected = net.params.values[i].shape
            guard view.shape == expected else {
                throw file.error(tensor: name, "has shape \(Tensor<T>.describe(view.shape)) in the file, the network expects \(Tensor<T>.describe(expected))", kind: .shapeMismatch)
            }
            let scale = file.index(of: name + scaleSuffix)
            let zero = file.index(of: name + zeroPointSuffix)
            if let s = scale { used[s] = true }
            if let z = zero { used[z] = true }
            let t: Tensor<T>
            if let s = scale {
                t = try dequantize(file, view, scale: file.tensor(at: s), zeroPoint: zero.map { file.tensor(at: $0) }, as: T.self)
            } else {
                if zero != nil { throw file.error(tensor: name + zeroPointSuffix, "a zero point without a scale (\(name + scaleSuffix))") }
                t = Tensor(uncheckedShape: view.shape, data: decode(view, as: T.self))
            }
            if let j = t.firstNonFinite {
                throw file.error(tensor: name, "value \(t.data[j].double) at index \(j) is not finite", kind: .nonFinite)
            }
            values.append(t)
        }
        for k in 0..<used.count where !used[k] {
            throw file.error(tensor: file.tensors[k].name, "the network has no parameter of this name")
        }
        // Every check passed: only now change the network (never a partial load).
        for i in 0..<values.count { net.params.values[i] = values[i] }
    }

    /// Every element of `view` in type T: exact for the compute type and every narrower float;
    /// F64 into a Float network rounds to nearest even; integers and BOOL as their values.
    static func decode<T: LoomFloat>(_ view: SafetensorsTensor, as: T.Type) -> [T] {
        if T.dtype == .f64 { return view.doubles().map { T(bits64: $0.bitPattern) } }
        return view.floats().map { T(bits64: UInt64($0.bitPattern)) }
    }

    /// `scale · (code − zero_point)` per scale group (see the type's notes).
    static func dequantize<T: LoomFloat>(_ file: Safetensors, _ codes: SafetensorsTensor, scale: SafetensorsTensor,
                                         zeroPoint: SafetensorsTensor?, as: T.Type) throws(LoomError) -> Tensor<T> {
        let name = codes.name
        let dt = codes.dtype
        guard dt == .f4 || dt.dtype?.isInteger == true else {
            throw file.error(tensor: name, "has a scale (\(scale.name)) but \(dt.name) values: only integer and F4 codes are scaled")
        }
        guard scale.dtype == .f64 || scale.dtype == .f32 || scale.dtype == .f16 || scale.dtype == .bf16 else {
            throw file.error(tensor: scale.name, "a scale must be F64, F32, F16 or BF16, got \(scale.dtype.name)")
        }
        let rows: Int
        if scale.shape.isEmpty {
            rows = 1
        } else if scale.shape.count == 1 && codes.shape.count >= 1 && scale.shape[0] == codes.shape[0] {
            rows = scale.shape[0]
        } else {
            throw file.error(tensor: scale.name, "has shape \(Tensor<T>.describe(scale.shape)): a scale is [] (per tensor) or [\(codes.shape.first.map { String($0) } ?? "rows")] (per output channel)", kind: .shapeMismatch)
        }
        var zeros = [UInt64](repeating: 0, count: rows)
        if let z = zeroPoint {
            guard dt != .f4, z.dtype == dt else {
                throw file.error(tensor: z.name, "a zero point has the dtype of its integer codes (codes \(dt.name), zero point \(z.dtype.name))")
            }
            guard z.shape == scale.shape else {
                throw file.error(tensor: z.name, "has shape \(Tensor<T>.describe(z.shape)), its scale \(Tensor<T>.describe(scale.shape))", kind: .shapeMismatch)
            }
            for r in 0..<rows { zeros[r] = z.storageBits(at: r) }
        }
        let scales = scale.doubles()
        let cols = rows == 0 ? 0 : codes.count / rows
        let signed = dt.dtype?.isSigned == true
        let width = dt.bitWidth
        var out = [T](repeating: 0, count: codes.count)
        for r in 0..<rows {
            let s = scales[r]
            let z = signed ? Int64(bitPattern: signExtend(zeros[r], width: width)) : 0
            for c in 0..<cols {
                let bits = codes.storageBits(at: r * cols + c)
                let v: Double
                if dt == .f4 {
                    v = dt.doubleValue(storageBits: bits)
                } else if signed {
                    let a = Int64(bitPattern: signExtend(bits, width: width))
                    v = exactDifference(a < 0, a.magnitude, z < 0, z.magnitude)
                } else {
                    v = exactDifference(false, bits, false, zeros[r])
                }
                out[r * cols + c] = T(v * s)
            }
        }
        return Tensor(uncheckedShape: codes.shape, data: out)
    }

    /// Two's-complement sign extension of the low `width` bits.
    private static func signExtend(_ b: UInt64, width: Int) -> UInt64 {
        if width >= 64 { return b }
        let shift = UInt64(64 - width)
        return UInt64(bitPattern: Int64(bitPattern: b << shift) >> Int64(shift))
    }

    /// a − z for integers given as sign and magnitude (|a − z| < 2^64 for two values of one
    /// 64-bit type), exact as an integer and rounded once to binary64; 0 is +0.
    private static func exactDifference(_ aNegative: Bool, _ a: UInt64, _ zNegative: Bool, _ z: UInt64) -> Double {
        let negative: Bool
        let m: UInt64
        if aNegative != zNegative { m = a &+ z; negative = aNegative }
        else if a >= z { m = a - z; negative = aNegative }
        else { m = z - a; negative = !aNegative }
        if m == 0 { return 0 }
        return negative ? -Double(m) : Double(m)
    }
}

extension AnyNetwork {
    /// Builds the network stored in a safetensors file written by `SafetensorsCodec` (its IR in
    /// the metadata key `loom.ir`) and loads its parameters. The compute type follows the IR's
    /// dtype (f64 networks in `Double`, every other dtype in `Float`).
    public static func load(safetensors file: Safetensors) throws(LoomError) -> AnyNetwork {
        let place = (file.source.isEmpty ? "safetensors" : file.source) + ", __metadata__ \"" + SafetensorsCodec.irKey + "\""
        guard let ir = file.metadataValue(SafetensorsCodec.irKey) else {
            throw LoomError(.invalidModel, file.source.isEmpty ? "safetensors" : file.source,
                            "has no \(SafetensorsCodec.irKey) metadata (not written by Loom): build the network from its IR and load the tensors into it with SafetensorsCodec.load(_:into:)")
        }
        let root: JSONValue
        do { root = try JSONValue.parse(ir) } catch { throw LoomError(.invalidModel, place, "invalid JSON: \(error.description)") }
        let spec: NetworkSpec
        do { spec = try IRDecoder.decode(root) } catch {
            throw LoomError(error.kind, place + (error.path.isEmpty ? "" : ", " + error.path), error.message)
        }
        if Execution.computeType(of: spec.dtype) == .f64 {
            let n = try Network<Double>(spec)
            try SafetensorsCodec.load(file, into: n)
            return .f64(n, nil)
        }
        let n = try Network<Float>(spec)
        try SafetensorsCodec.load(file, into: n)
        return .f32(n, nil)
    }

    /// The network's parameters (and IR) as a safetensors file; the optimizer state is not stored.
    public func safetensors(options: SafetensorsCodec.Options = SafetensorsCodec.Options()) throws(LoomError) -> [UInt8] {
        switch self {
        case .f32(let n, _): return try SafetensorsCodec.encode(n, options: options)
        case .f64(let n, _): return try SafetensorsCodec.encode(n, options: options)
        }
    }
}
