/// Builds a safetensors file in memory, deterministically (docs/formats.md).
///
/// The bytes are a pure function of the tensors and metadata given, whatever order they were
/// added in:
/// - tensors are laid out by element width, widest first (so every tensor starts at a multiple of
///   its element size), then by name in UTF-8 byte order — the order of the reference
///   implementation (`SafetensorsDType.writeRank`), so that Loom and the Python `safetensors`
///   library write the same bytes for the same tensors;
/// - the header is compact JSON: `__metadata__` first (when there is one, its keys in UTF-8 byte
///   order), then every tensor as `{"dtype":…,"shape":[…],"data_offsets":[b,e]}` in data order;
///   strings escaped as RFC 8259 requires (`\"`, `\\`, `\b \f \n \r \t`, other controls as
///   `\u00xx`), everything else written as UTF-8;
/// - the header is padded with spaces to a multiple of 8 bytes, so the data starts 8-aligned;
/// - when there is an F4 tensor, the metadata key `loom.f4` (unless given) records how F4 is
///   packed, since the safetensors format names F4 but not its byte layout.
public struct SafetensorsWriter {
    public struct Entry: Sendable {
        public var name: String
        public var dtype: SafetensorsDType
        public var shape: [Int]
        public var bytes: [UInt8]
    }

    /// The metadata key added for files holding F4 tensors.
    public static let f4MetadataKey = "loom.f4"
    /// Its value.
    public static let f4MetadataValue =
        "OCP MX FP4 E2M1: 1 sign, 2 exponent bits (bias 1), 1 mantissa bit, code = sign<<3 | exponent<<1 | mantissa; "
        + "packed two per byte, element 2i in the low nibble and 2i+1 in the high nibble; "
        + "an odd element count ends with a zero high nibble (ceil(count/2) bytes)"

    public private(set) var entries: [Entry] = []
    /// `__metadata__` (nil: the header has none). Keys must be distinct.
    public var metadata: [(key: String, value: String)]?

    public init(metadata: [(key: String, value: String)]? = nil) {
        self.metadata = metadata
    }

    /// Adds a tensor from its little-endian bytes: `bytes.count` must be exactly what `shape` and
    /// `dtype` need; the name must be new and not `__metadata__`.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws(LoomError) {
        let place = Safetensors.place("", tensor: name)
        if JSONObject.sameKey(name, "__metadata__") {
            throw LoomError(.invalidArgument, place, "the name __metadata__ is reserved by the format")
        }
        for e in entries where JSONObject.sameKey(e.name, name) {
            throw LoomError(.invalidArgument, place, "a tensor of this name was already added")
        }
        var count = 1
        for d in shape {
            guard d >= 0 else { throw LoomError(.invalidArgument, place, "negative size in shape \(Tensor<Float>.describe(shape))") }
            let (c, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw LoomError(.invalidArgument, place, "shape \(Tensor<Float>.describe(shape)) overflows") }
            count = c
        }
        guard let needed = dtype.byteCount(forElements: count), needed == bytes.count else {
            throw LoomError(.invalidArgument, place, "shape \(Tensor<Float>.describe(shape)) of \(dtype.name) needs \(dtype.byteCount(forElements: count).map { String($0) } ?? "too many") bytes, got \(bytes.count)")
        }
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Adds `values` (row-major, `shape`'s element count) stored as `dtype`
    /// (`SafetensorsDType.encode`: each value rounded once by the dtype's rule).
    public mutating func add(_ name: String, values: [Double], shape: [Int], as dtype: SafetensorsDType) throws(LoomError) {
        try checkCount(name, values.count, shape)
        try add(name, dtype: dtype, shape: shape, bytes: dtype.encode(values))
    }

    /// Adds `values` (row-major, `shape`'s element count) stored as `dtype`.
    @_disfavoredOverload  // so that array literals pick the Double entry
    public mutating func add(_ name: String, values: [Float], shape: [Int], as dtype: SafetensorsDType) throws(LoomError) {
        try checkCount(name, values.count, shape)
        try add(name, dtype: dtype, shape: shape, bytes: dtype.encode(values))
    }

    private func checkCount(_ name: String, _ n: Int, _ shape: [Int]) throws(LoomError) {
        var count = 1
        for d in shape {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            if o || d < 0 { count = -1; break }
            count = c
        }
        guard count == n else {
            throw LoomError(.invalidArgument, Safetensors.place("", tensor: name), "shape \(Tensor<Float>.describe(shape)) does not hold \(n) values")
        }
    }

    /// The tensors in the order they are written (see the type's notes).
    public var orderedEntries: [Entry] {
        let keys = entries.map { Array($0.name.utf8) }
        let order = Array(0..<entries.count).sorted { a, b in
            let ra = entries[a].dtype.writeRank, rb = entries[b].dtype.writeRank
            if ra != rb { return ra < rb }
            return Safetensors.lexicographicallyLess(keys[a], keys[b])
        }
        return order.map { entries[$0] }
    }

    /// The metadata as written: keys in UTF-8 byte order, plus `loom.f4` when needed.
    public var writtenMetadata: [(key: String, value: String)]? {
        var m = metadata
        if entries.contains(where: { $0.dtype == .f4 }) {
            var list = m ?? []
            if !list.contains(where: { JSONObject.sameKey($0.key, SafetensorsWriter.f4MetadataKey) }) {
                list.append((key: SafetensorsWriter.f4MetadataKey, value: SafetensorsWriter.f4MetadataValue))
            }
            m = list
        }
        guard let list = m else { return nil }
        let keys = list.map { Array($0.key.utf8) }
        return Array(0..<list.count).sorted { Safetensors.lexicographicallyLess(keys[$0], keys[$1]) }.map { list[$0] }
    }

    /// The whole file.
    public func serialized() throws(LoomError) -> [UInt8] {
        var header = JSONObject()
        if let m = writtenMetadata {
            var o = JSONObject()
            for e in m {
                if o.contains(e.key) { throw LoomError(.invalidArgument, "__metadata__", "duplicate key \"\(e.key)\"") }
                o.set(e.key, .string(e.value))
            }
            header.set("__metadata__", .object(o))
        }
        let ordered = orderedEntries
        var offset = 0
        for e in ordered {
            let end = offset &+ e.bytes.count
            header.set(e.name, .object(JSONObject([
                ("dtype", .string(e.dtype.name)),
                ("shape", .array(e.shape.map { .number(JSONNumber($0)) })),
                ("data_offsets", .array([.number(JSONNumber(offset)), .number(JSONNumber(end))])),
            ])))
            offset = end
        }
        var json = JSONValue.object(header).serializedBytes()
        while json.count % 8 != 0 { json.append(0x20) }
        guard json.count <= Safetensors.maxHeaderLength else {
            throw LoomError(.invalidArgument, "safetensors", "the header would be \(json.count) bytes, more than the format's limit of \(Safetensors.maxHeaderLength)")
        }
        var out = [UInt8]()
        out.reserveCapacity(8 &+ json.count &+ offset)
        var n = UInt64(json.count)
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: n)); n >>= 8 }
        out.append(contentsOf: json)
        for e in ordered { out.append(contentsOf: e.bytes) }
        return out
    }
}
