/// The GGUF parser: a bounds-checked cursor over the buffer and the validation of every field.
/// Every count read from the file is checked against the bytes left before anything is
/// allocated from it, and every integer computation that could overflow is checked.
struct GGUFParser {
    struct Result {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    let buffer: ByteBuffer
    let file: String
    var pos = 0

    private init(_ buffer: ByteBuffer, _ file: String) { self.buffer = buffer; self.file = file }

    static func parse(_ buffer: ByteBuffer, _ file: String) throws(LoomError) -> Result {
        var p = GGUFParser(buffer, file)
        return try p.parseFile()
    }

    // MARK: errors

    func fail(_ field: String, _ message: String) -> LoomError {
        LoomError(.invalidModel, field.isEmpty ? file : "\(file): \(field)", message)
    }

    var remaining: Int { buffer.count - pos }

    /// Claims `n` bytes at the cursor (advancing it) and returns their offset.
    mutating func take(_ n: Int, _ field: String) throws(LoomError) -> Int {
        guard n >= 0, n <= remaining else {
            throw fail(field, "truncated file: \(n) bytes needed at offset \(pos), \(Swift.max(0, remaining)) left")
        }
        let o = pos
        pos += n
        return o
    }

    mutating func u32(_ field: String) throws(LoomError) -> UInt32 { buffer.u32(try take(4, field)) }
    mutating func u64(_ field: String) throws(LoomError) -> UInt64 { buffer.u64(try take(8, field)) }

    /// A u64 count that must fit the bytes left when each item takes at least `minSize` bytes.
    mutating func count(_ field: String, what: String, minSize: Int) throws(LoomError) -> Int {
        let at = pos
        let n = try u64(field)
        let limit = remaining / minSize
        guard n <= UInt64(limit) else {
            throw fail(field, "\(what) \(n) at offset \(at) is impossible: \(remaining) bytes left hold at most \(limit)")
        }
        return Int(n)
    }

    /// A string: u64 length, UTF-8 bytes. Returns the offset of the length field.
    mutating func stringOffset(_ field: String) throws(LoomError) -> Int {
        let at = pos
        let n = try count(field, what: "string length", minSize: 1)
        let start = try take(n, field)
        guard UTF8Validation.firstInvalid(UnsafeRawBufferPointer(rebasing: buffer.bytes[start..<(start + n)])) == nil else {
            throw fail(field, "string at offset \(at) is not valid UTF-8")
        }
        return at
    }

    mutating func string(_ field: String) throws(LoomError) -> String {
        let o = try stringOffset(field)
        let n = Int(buffer.u64(o))
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer.bytes[(o + 8)..<(o + 8 + n)]), as: UTF8.self)
    }

    mutating func valueType(_ field: String) throws(LoomError) -> GGUFValueType {
        let at = pos
        let raw = try u32(field)
        guard let t = GGUFValueType(rawValue: raw) else {
            throw fail(field, "unknown value type \(raw) at offset \(at)")
        }
        return t
    }

    // MARK: file

    mutating func parseFile() throws(LoomError) -> Result {
        let magic = try take(4, "header.magic")
        let m = buffer.u32(magic)
        guard m == 0x4655_4747 else {  // "GGUF"
            throw fail("header.magic", "not a GGUF file (magic bytes \(GGUFParser.hexBytes(buffer, magic, 4)), expected 47 47 55 46 \"GGUF\")")
        }
        let version = try u32("header.version")
        if version & 0xFFFF == 0, (1...3).contains(version.byteSwapped) {
            throw fail("header.version", "big-endian GGUF (version \(version.byteSwapped) written big-endian) is not supported")
        }
        guard version == 2 || version == 3 else {
            let why = version == 1 ? "GGUF version 1 (32-bit counts) is not supported" : "unknown GGUF version \(version)"
            throw LoomError(.unsupportedVersion, "\(file): header.version", "\(why); versions 2 and 3 are read")
        }
        // Each tensor info takes at least 24 bytes (name length, n_dims, type, offset); each
        // metadata entry at least 13 (key length, type, one byte of value).
        let tensorCount = try count("header.tensor_count", what: "tensor count", minSize: 24)
        let kvCount = try count("header.metadata_count", what: "metadata count", minSize: 13)

        var entries: [(key: String, value: GGUFValue)] = []
        entries.reserveCapacity(kvCount)
        var index: [String: Int] = [:]
        for i in 0..<kvCount {
            let key = try string("metadata[\(i)].key")
            let field = "metadata \(key)"
            guard index[key] == nil else { throw fail(field, "duplicate metadata key") }
            let t = try valueType(field)
            let v = try value(t, field, depth: 1)
            index[key] = entries.count
            entries.append((key: key, value: v))
        }
        let metadata = GGUFMetadata(entries: entries, index: index)

        var alignment = GGUF.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case .u32(let v) = a else {
                throw fail("metadata general.alignment", "must be a u32, found \(a.type.name)")
            }
            guard v != 0, v & (v - 1) == 0 else {
                throw fail("metadata general.alignment", "\(v) is not a power of two")
            }
            alignment = Int(v)
        }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var names: [String: Int] = [:]
        var raw: [(name: String, dims: [Int], type: GGMLType, offset: Int, elements: Int, bytes: Int)] = []
        raw.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let name = try string("tensors[\(i)].name")
            let field = "tensor \(name)"
            guard names[name] == nil else { throw fail(field, "duplicate tensor name") }
            names[name] = i
            let nd = try u32(field)
            guard nd <= UInt32(GGUF.maxDimensions) else {
                throw fail(field, "\(nd) dimensions (at most \(GGUF.maxDimensions))")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nd) {
                let v = try u64(field)
                guard v <= UInt64(Int.max) else { throw fail(field, "dimension \(d) is \(v): too large") }
                let (e, o) = elements.multipliedReportingOverflow(by: Int(v))
                guard !o else { throw fail(field, "element count overflows (dimensions \(dims + [Int(v)]))") }
                elements = e
                dims.append(Int(v))
            }
            let rawType = try u32(field)
            guard let type = GGMLType(rawValue: rawType) else { throw fail(field, "unknown ggml type \(rawType)") }
            let offset = try u64(field)
            guard offset <= UInt64(Int.max) else { throw fail(field, "offset \(offset) is out of range") }
            let inner = dims.first ?? 1
            guard inner % type.blockSize == 0 else {
                throw fail(field, "innermost dimension \(inner) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let (bytes, o) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
            guard !o else { throw fail(field, "byte size overflows") }
            raw.append((name, dims, type, Int(offset), elements, bytes))
        }

        // The data section starts at the next multiple of the alignment.
        let (padded, o) = pos.addingReportingOverflow(alignment - 1)
        guard !o else { throw fail("data", "data offset overflows") }
        let dataOffset = padded & ~(alignment - 1)

        for r in raw {
            let field = "tensor \(r.name)"
            guard r.offset % alignment == 0 else {
                throw fail(field, "offset \(r.offset) is not a multiple of the alignment \(alignment)")
            }
            let (start, o1) = dataOffset.addingReportingOverflow(r.offset)
            let (end, o2) = start.addingReportingOverflow(r.bytes)
            guard !o1, !o2, end <= buffer.count else {
                throw fail(field, "data [\(r.offset), \(r.offset)+\(r.bytes)) relative to the data section at \(dataOffset) is outside the file (\(buffer.count) bytes)")
            }
            tensors.append(GGUFTensorInfo(name: r.name, dimensions: r.dims, type: r.type, offset: r.offset,
                                          fileOffset: start, elementCount: r.elements, byteCount: r.bytes))
        }

        // No two tensors may share bytes (empty tensors share none).
        let order = tensors.indices.filter { tensors[$0].byteCount > 0 }.sorted {
            (tensors[$0].offset, $0) < (tensors[$1].offset, $1)
        }
        if order.count > 1 {
            for k in 1..<order.count {
                let a = tensors[order[k - 1]], b = tensors[order[k]]
                if a.offset + a.byteCount > b.offset {
                    throw fail("tensor \(b.name)", "data [\(b.offset), \(b.offset + b.byteCount)) overlaps tensor \(a.name) [\(a.offset), \(a.offset + a.byteCount))")
                }
            }
        }
        return Result(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    // MARK: values

    mutating func value(_ t: GGUFValueType, _ field: String, depth: Int) throws(LoomError) -> GGUFValue {
        switch t {
        case .string:
            return .string(try string(field))
        case .array:
            return .array(try array(field, depth: depth))
        case .bool:
            let at = pos
            let b = buffer.u8(try take(1, field))
            guard b <= 1 else { throw fail(field, "bool byte \(b) at offset \(at) is neither 0 nor 1") }
            return .bool(b == 1)
        default:
            let o = try take(t.fixedSize!, field)
            return GGUFArray.decodeFixed(t, buffer, o)
        }
    }

    mutating func array(_ field: String, depth: Int) throws(LoomError) -> GGUFArray {
        guard depth <= GGUF.maxArrayDepth else {
            throw fail(field, "arrays nested deeper than \(GGUF.maxArrayDepth)")
        }
        let et = try valueType(field)
        let n = try count(field, what: "array count", minSize: et.minimumSize)
        let start = pos
        switch et {
        case .string:
            var offsets: [Int] = []
            offsets.reserveCapacity(n)
            for i in 0..<n { offsets.append(try stringOffset("\(field)[\(i)]")) }
            return GGUFArray(elementType: et, count: n, buffer: buffer, start: start, stringOffsets: offsets, children: [])
        case .array:
            var children: [GGUFArray] = []
            children.reserveCapacity(n)
            for i in 0..<n { children.append(try array("\(field)[\(i)]", depth: depth + 1)) }
            return GGUFArray(elementType: et, count: n, buffer: buffer, start: start, stringOffsets: [], children: children)
        case .bool:
            let o = try take(n, field)
            for i in 0..<n where buffer.u8(o + i) > 1 {
                throw fail("\(field)[\(i)]", "bool byte \(buffer.u8(o + i)) at offset \(o + i) is neither 0 nor 1")
            }
            return GGUFArray(elementType: et, count: n, buffer: buffer, start: start, stringOffsets: [], children: [])
        default:
            _ = try take(n * et.fixedSize!, field)  // n ≤ remaining / size: no overflow
            return GGUFArray(elementType: et, count: n, buffer: buffer, start: start, stringOffsets: [], children: [])
        }
    }

    // MARK: helpers

    static func hexBytes(_ b: ByteBuffer, _ o: Int, _ n: Int) -> String {
        var parts: [String] = []
        for i in 0..<n { parts.append(Hex.string(UInt64(b.u8(o + i)), digits: 2)) }
        return parts.joined(separator: " ")
    }
}
