// Parsing and checking a safetensors header (the rules are listed on `Safetensors`).

struct _SafetensorsHeaderParser {
    let buffer: ByteBuffer
    let source: String

    var place: String { source.isEmpty ? "safetensors" : source }

    func fail(_ message: String) -> LoomError { LoomError(.invalidModel, place, message) }

    func fail(tensor name: String, _ message: String) -> LoomError {
        LoomError(.invalidModel, Safetensors.place(source, tensor: name), message)
    }

    func parse() throws(LoomError) -> (headerLength: Int, metadata: [(key: String, value: String)]?,
                                        tensors: [SafetensorsTensorInfo]) {
        let size = buffer.count
        guard size >= 8 else {
            throw fail("the file is \(size) bytes, too short for the 8-byte header length (truncated or not a safetensors file)")
        }
        let n64 = buffer.u64(0)
        guard n64 <= UInt64(Safetensors.maxHeaderLength) else {
            throw fail("header length \(n64) is absurd (the limit is \(Safetensors.maxHeaderLength) bytes): not a safetensors file, or a corrupt one")
        }
        let n = Int(n64)
        guard n <= size &- 8 else {
            throw fail("header length \(n) runs past the end of the file (\(size) bytes; truncated file?)")
        }
        let header = UnsafeRawBufferPointer(rebasing: buffer.bytes[8..<(8 &+ n)])
        if let bad = UTF8Validation.firstInvalid(header) {
            throw fail("the header is not valid UTF-8 (byte \(8 &+ bad) of the file)")
        }
        let parsed = header.withMemoryRebound(to: UInt8.self) { JSONParser.run($0, maxDepth: 8) }
        let root: JSONValue
        switch parsed {
        case .success(let v): root = v
        case .failure(let e): throw fail("the header is not valid JSON: \(e.description)")
        }
        guard case .object(let object) = root else {
            throw fail("the header must be a JSON object, got \(root.kindName)")
        }

        let dataLength = size &- 8 &- n
        var metadata: [(key: String, value: String)]? = nil
        var tensors = [SafetensorsTensorInfo]()
        tensors.reserveCapacity(object.count)
        for member in object.members {
            if JSONObject.sameKey(member.key, "__metadata__") {
                metadata = try parseMetadata(member.value)
            } else {
                tensors.append(try parseTensor(member.key, member.value, dataLength: dataLength))
            }
        }
        // Data order: ascending (begin, end); ties keep header order.
        let order = Array(0..<tensors.count).sorted { a, b in
            let x = tensors[a].dataOffsets, y = tensors[b].dataOffsets
            if x.lowerBound != y.lowerBound { return x.lowerBound < y.lowerBound }
            if x.upperBound != y.upperBound { return x.upperBound < y.upperBound }
            return a < b
        }
        let sorted = order.map { tensors[$0] }
        try checkCoverage(sorted, dataLength: dataLength)
        return (n, metadata, sorted)
    }

    /// `__metadata__`: an object of strings (null means none, as in the reference implementation).
    func parseMetadata(_ v: JSONValue) throws(LoomError) -> [(key: String, value: String)]? {
        if v.isNull { return nil }
        guard case .object(let o) = v else {
            throw fail("\"__metadata__\" must be an object of strings, got \(v.kindName)")
        }
        var out = [(key: String, value: String)]()
        for m in o.members {
            guard case .string(let s) = m.value else {
                throw LoomError(.invalidModel, place + ", __metadata__ \"" + m.key + "\"", "must be a string, got \(m.value.kindName)")
            }
            out.append((key: m.key, value: s))
        }
        return out
    }

    func parseTensor(_ name: String, _ v: JSONValue, dataLength: Int) throws(LoomError) -> SafetensorsTensorInfo {
        guard case .object(let o) = v else {
            throw fail(tensor: name, "the header entry must be an object with \"dtype\", \"shape\" and \"data_offsets\", got \(v.kindName)")
        }
        guard let dv = o["dtype"] else { throw fail(tensor: name, "missing \"dtype\"") }
        guard case .string(let dname) = dv else { throw fail(tensor: name, "\"dtype\" must be a string, got \(dv.kindName)") }
        guard let dtype = SafetensorsDType(name: dname) else {
            let known = SafetensorsDType.allCases.map { $0.name }.joined(separator: " ")
            let others = ["C64", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F8_E4M3FNUZ", "F8_E5M2FNUZ"]
            if others.contains(where: { JSONObject.sameKey($0, dname) }) {
                throw fail(tensor: name, "dtype \"\(dname)\" is not supported (Loom reads \(known))")
            }
            throw fail(tensor: name, "unknown dtype \"\(dname)\" (Loom reads \(known))")
        }
        guard let sv = o["shape"] else { throw fail(tensor: name, "missing \"shape\"") }
        guard case .array(let dims) = sv else { throw fail(tensor: name, "\"shape\" must be an array of sizes, got \(sv.kindName)") }
        var shape = [Int]()
        shape.reserveCapacity(dims.count)
        var count = 1
        var countOverflow = false
        for (i, d) in dims.enumerated() {
            let size = try nonNegativeInt(d, what: "shape[\(i)]", tensor: name)
            shape.append(size)
            let (c, o) = count.multipliedReportingOverflow(by: size)
            count = c
            if o { countOverflow = true }
        }
        if shape.contains(0) { count = 0; countOverflow = false }
        guard !countOverflow else {
            throw fail(tensor: name, "shape \(describe(shape)) has more elements than an Int can count")
        }
        guard let needed = dtype.byteCount(forElements: count) else {
            throw fail(tensor: name, "shape \(describe(shape)) of \(dtype.name) needs more bytes than an Int can count")
        }
        guard let ov = o["data_offsets"] else { throw fail(tensor: name, "missing \"data_offsets\"") }
        guard case .array(let offs) = ov, offs.count == 2 else {
            throw fail(tensor: name, "\"data_offsets\" must be [begin, end], got \(ov.serialized())")
        }
        let begin = try nonNegativeInt(offs[0], what: "data_offsets[0]", tensor: name)
        let end = try nonNegativeInt(offs[1], what: "data_offsets[1]", tensor: name)
        guard begin <= end else {
            throw fail(tensor: name, "data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end <= dataLength else {
            throw fail(tensor: name, "data_offsets [\(begin), \(end)] run past the end of the data region (\(dataLength) bytes; truncated file?)")
        }
        guard end &- begin == needed else {
            throw fail(tensor: name, "shape \(describe(shape)) of \(dtype.name) needs \(needed) bytes, but data_offsets [\(begin), \(end)] hold \(end &- begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, count: count, dataOffsets: begin..<end)
    }

    /// A JSON integer ≥ 0 that fits in `Int`.
    func nonNegativeInt(_ v: JSONValue, what: String, tensor: String) throws(LoomError) -> Int {
        guard case .number(let num) = v, num.isIntegerLiteral else {
            throw fail(tensor: tensor, "\(what) must be an integer ≥ 0, got \(v.serialized())")
        }
        if num.text.utf8.first == UInt8(ascii: "-") && num.int64 != 0 {
            throw fail(tensor: tensor, "\(what) = \(num.text) is negative")
        }
        guard let i = num.int, i >= 0 else {
            throw fail(tensor: tensor, "\(what) = \(num.text) is too large (at most \(Int.max) on this platform)")
        }
        return i
    }

    /// The tensors, sorted by offsets, must cover [0, dataLength) exactly once.
    func checkCoverage(_ tensors: [SafetensorsTensorInfo], dataLength: Int) throws(LoomError) {
        var position = 0
        var previous = -1
        for i in 0..<tensors.count {
            let t = tensors[i]
            let r = t.dataOffsets
            if r.lowerBound < position {
                let p = tensors[previous]
                throw fail(tensor: t.name, "data_offsets [\(r.lowerBound), \(r.upperBound)] overlap tensor \"\(p.name)\" [\(p.dataOffsets.lowerBound), \(p.dataOffsets.upperBound)]")
            }
            if r.lowerBound > position {
                throw fail(tensor: t.name, "bytes [\(position), \(r.lowerBound)) of the data region before this tensor belong to no tensor (a hole; safetensors requires the tensors to cover the data exactly)")
            }
            position = r.upperBound
            previous = i
        }
        if position != dataLength {
            throw fail("the data region holds \(dataLength) bytes but the tensors end at byte \(position): \(dataLength &- position) trailing bytes belong to no tensor")
        }
    }

    func describe(_ shape: [Int]) -> String {
        "[" + shape.map { String($0) }.joined(separator: ", ") + "]"
    }
}
