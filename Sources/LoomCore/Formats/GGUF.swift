/// A parsed GGUF file (versions 2 and 3, little-endian): its metadata, its tensor infos and
/// views of the tensor data, all read in place from a `ByteBuffer` (map the file with
/// `MappedFile` and nothing is copied).
///
/// Layout (every integer little-endian):
///
///     "GGUF"  u32 version  u64 tensor_count  u64 metadata_count
///     metadata_count × { string key, u32 value_type, value }
///     tensor_count   × { string name, u32 n_dims, u64 dims[n_dims], u32 ggml_type, u64 offset }
///     padding to `general.alignment` (default 32)
///     data section: tensor bytes at `offset` (relative to the section, a multiple of the alignment)
///
/// A string is a u64 byte length and UTF-8 bytes (no terminator); an array is a u32 element type,
/// a u64 count and the elements (arrays may nest). `dims[0]` is the innermost (contiguous) axis.
///
/// `init` validates everything a later access relies on, so tensor views and dequantization
/// never read outside the file. Every problem is a `LoomError` whose path names the file and the
/// field or tensor (`model.gguf: tensor blk.0.attn_q.weight`); no input crashes the reader.
public struct GGUF: Sendable {
    public let buffer: ByteBuffer
    /// The name used in error paths (usually the file path).
    public let name: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// Absolute offset of the data section (the end of the tensor infos rounded up to `alignment`).
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    /// The largest nesting of arrays accepted (an array of arrays is depth 2).
    public static let maxArrayDepth = 8
    /// The most dimensions a tensor may have (ggml's `GGML_MAX_DIMS`).
    public static let maxDimensions = 4
    public static let defaultAlignment = 32

    /// Parses and validates `buffer`; `name` is used in error paths.
    public init(buffer: ByteBuffer, name: String) throws(LoomError) {
        let p = try GGUFParser.parse(buffer, name)
        self.buffer = buffer; self.name = name
        version = p.version; metadata = p.metadata; tensors = p.tensors
        alignment = p.alignment; dataOffset = p.dataOffset
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        tensorIndex = index
    }

    public func tensor(named n: String) -> GGUFTensorInfo? { tensorIndex[n].map { tensors[$0] } }

    /// The tensor's bytes inside the buffer (in range: checked when parsing).
    public func bytes(of t: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer.bytes[t.fileOffset..<(t.fileOffset + t.byteCount)])
    }

    /// The tensor decoded to Float, row-major in `t.shape` order (ggml's order: `dimensions[0]`
    /// varies fastest). Throws for types Loom does not decode (`GGMLType.canDequantize`).
    public func dequantize(_ t: GGUFTensorInfo) throws(LoomError) -> [Float] {
        guard t.type.canDequantize else {
            throw LoomError(.invalidModel, "\(name): tensor \(t.name)", "cannot dequantize type \(t.type.name)")
        }
        let src = bytes(of: t)
        return [Float](unsafeUninitializedCapacity: t.elementCount) { out, n in
            GGUFBlocks.dequantize(t.type, src.baseAddress, blocks: t.elementCount / t.type.blockSize, into: out.baseAddress)
            n = t.elementCount
        }
    }

    /// Convenience: `dequantize(tensor(named:))`, with a typed error when the name is absent.
    public func dequantize(named n: String) throws(LoomError) -> [Float] {
        guard let t = tensor(named: n) else { throw LoomError(.invalidModel, name, "no tensor named \(n)") }
        return try dequantize(t)
    }
}

/// One tensor info of a GGUF file, validated.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `dimensions[0]` is the innermost, contiguous axis (a weight matrix with `rows`
    /// outputs and `cols` inputs is `[cols, rows]`).
    public let dimensions: [Int]
    public let type: GGMLType
    /// The offset as stored: relative to the data section.
    public let offset: Int
    /// Absolute offset in the file.
    public let fileOffset: Int
    public let elementCount: Int
    public let byteCount: Int

    /// Row-major shape, outermost axis first (`dimensions` reversed): `[rows, cols]` for a matrix.
    public var shape: [Int] { dimensions.reversed() }
}
