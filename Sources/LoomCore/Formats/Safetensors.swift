/// A safetensors file, read in place from a `ByteBuffer` (a memory-mapped file or bytes in
/// memory): the header is parsed and checked once; tensor data is viewed, never copied, until it
/// is decoded (docs/formats.md).
///
/// Layout: an 8-byte little-endian length N, N bytes of a UTF-8 JSON object (the header), then
/// the data region. The header maps each tensor name to `{"dtype", "shape", "data_offsets":
/// [begin, end]}` (offsets relative to the data region) and may hold `"__metadata__"`, an
/// object of string values.
///
/// Checks (each failure is a `LoomError` of kind `.invalidModel` whose path names the file and,
/// where there is one, the tensor): the file holds the 8 length bytes; N is at most 100,000,000
/// (the reference implementation's limit) and within the file; the header is UTF-8 and a JSON
/// object without duplicate names; every dtype is known; every shape is a list of integers ≥ 0
/// whose element and byte counts fit in `Int`; every `data_offsets` is two integers with
/// begin ≤ end ≤ the data region's size; each tensor's byte count is exactly what its shape and
/// dtype need; and, as the reference implementation requires, the tensors taken in offset order
/// cover the data region exactly: no overlap, no hole, nothing after the last tensor.
/// `__metadata__` values must be strings.
public struct Safetensors: @unchecked Sendable {
    /// The header's limit, as in the reference implementation.
    public static let maxHeaderLength = 100_000_000

    /// The bytes of the whole file; tensor views point into it.
    public let buffer: ByteBuffer
    /// The file name used in error messages (may be empty).
    public let source: String
    /// N: the length of the JSON header in bytes (padding included).
    public let headerLength: Int
    /// `__metadata__` in file order; nil when the header has none.
    public let metadata: [(key: String, value: String)]?
    /// Every tensor, in data order (ascending offsets).
    public let tensors: [SafetensorsTensorInfo]
    /// Indices into `tensors`, sorted by the names' UTF-8 bytes.
    private let byName: [Int]

    /// The first byte of the data region in `buffer`: 8 + `headerLength`.
    public var dataStart: Int { 8 &+ headerLength }
    /// The size of the data region in bytes.
    public var dataLength: Int { buffer.count &- dataStart }

    /// Parses and checks the header of the file in `buffer`.
    public init(_ buffer: ByteBuffer, source: String = "") throws(LoomError) {
        self.buffer = buffer
        self.source = source
        let parsed = try _SafetensorsHeaderParser(buffer: buffer, source: source).parse()
        headerLength = parsed.headerLength
        metadata = parsed.metadata
        tensors = parsed.tensors
        byName = Safetensors.sortedByName(parsed.tensors)
    }

    /// Parses a copy of `bytes`.
    public init(bytes: [UInt8], source: String = "") throws(LoomError) {
        try self.init(ByteBuffer(copying: bytes), source: source)
    }

    /// The tensor names in data order.
    public var names: [String] { tensors.map { $0.name } }

    /// The value of metadata `key` (names compared byte for byte).
    public func metadataValue(_ key: String) -> String? {
        guard let m = metadata else { return nil }
        for e in m where JSONObject.sameKey(e.key, key) { return e.value }
        return nil
    }

    /// The position of tensor `name` in `tensors` (names compared byte for byte).
    public func index(of name: String) -> Int? {
        let key = Array(name.utf8)
        var lo = 0, hi = byName.count
        while lo < hi {
            let mid = (lo &+ hi) / 2
            let c = Safetensors.compare(tensors[byName[mid]].name, key)
            if c == 0 { return byName[mid] }
            if c < 0 { lo = mid &+ 1 } else { hi = mid }
        }
        return nil
    }

    /// The header entry of tensor `name`.
    public func info(_ name: String) -> SafetensorsTensorInfo? {
        index(of: name).map { tensors[$0] }
    }

    /// A view of tensor `name` (nil if the file has none of that name).
    public func tensor(_ name: String) -> SafetensorsTensor? {
        index(of: name).map { tensor(at: $0) }
    }

    /// A view of `tensors[index]`.
    public func tensor(at index: Int) -> SafetensorsTensor {
        let info = tensors[index]
        let start = dataStart &+ info.dataOffsets.lowerBound
        let bytes = UnsafeRawBufferPointer(rebasing: buffer.bytes[start..<(start &+ info.byteCount)])
        return SafetensorsTensor(info: info, buffer: buffer, bytes: bytes)
    }

    /// Where errors about this file point: the file name, or "safetensors".
    var place: String { source.isEmpty ? "safetensors" : source }

    /// An error about tensor `name` of this file.
    public func error(tensor name: String, _ message: String, kind: LoomError.Kind = .invalidModel) -> LoomError {
        LoomError(kind, Safetensors.place(source, tensor: name), message)
    }

    static func place(_ source: String, tensor name: String) -> String {
        (source.isEmpty ? "" : source + ", ") + "tensor \"" + name + "\""
    }

    // MARK: - names

    private static func sortedByName(_ tensors: [SafetensorsTensorInfo]) -> [Int] {
        let keys = tensors.map { Array($0.name.utf8) }
        return Array(0..<tensors.count).sorted { lexicographicallyLess(keys[$0], keys[$1]) }
    }

    /// Byte-wise order of two UTF-8 strings (Rust's `str` order, used by the writer too).
    static func lexicographicallyLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = Swift.min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] }
        return a.count < b.count
    }

    private static func compare(_ a: String, _ b: [UInt8]) -> Int {
        var i = 0
        for x in a.utf8 {
            if i == b.count { return 1 }
            if x != b[i] { return x < b[i] ? -1 : 1 }
            i &+= 1
        }
        return i == b.count ? 0 : -1
    }
}

/// The header entry of one tensor.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: SafetensorsDType
    /// Sizes of every axis (empty for a scalar).
    public var shape: [Int]
    /// The number of elements: the product of `shape` (1 for a scalar).
    public var count: Int
    /// `data_offsets`: the tensor's bytes, relative to the start of the data region.
    public var dataOffsets: Range<Int>

    public init(name: String, dtype: SafetensorsDType, shape: [Int], count: Int, dataOffsets: Range<Int>) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.count = count; self.dataOffsets = dataOffsets
    }

    public var byteCount: Int { dataOffsets.count }
}

/// A tensor of a safetensors file, viewed in place: its bytes point into the file's
/// `ByteBuffer`, which the view keeps alive.
public struct SafetensorsTensor: @unchecked Sendable {
    public let info: SafetensorsTensorInfo
    /// The buffer `bytes` points into.
    public let buffer: ByteBuffer
    /// The tensor's little-endian elements, exactly `info.byteCount` bytes (no alignment).
    public let bytes: UnsafeRawBufferPointer

    public var name: String { info.name }
    public var dtype: SafetensorsDType { info.dtype }
    public var shape: [Int] { info.shape }
    public var count: Int { info.count }

    /// The storage code of element `index` (0 ≤ index < count).
    public func storageBits(at index: Int) -> UInt64 {
        precondition(index >= 0 && index < info.count, "element index out of range")
        return info.dtype.loadStorageBits(bytes, at: index)
    }

    /// Every element as a `Double` (rules: `SafetensorsDType.doubleValue(storageBits:)`).
    public func doubles() -> [Double] {
        // The header check guarantees the byte count, so this cannot throw.
        (try? info.dtype.decodeDoubles(bytes, count: info.count)) ?? []
    }

    /// Every element as a `Float` (rules: `SafetensorsDType.floatValue(storageBits:)`).
    public func floats() -> [Float] {
        (try? info.dtype.decodeFloats(bytes, count: info.count)) ?? []
    }

    /// A copy of the raw bytes.
    public var byteArray: [UInt8] { Array(bytes) }
}
