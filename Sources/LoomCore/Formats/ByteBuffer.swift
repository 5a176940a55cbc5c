/// Read-only bytes — a memory-mapped file or an in-memory copy — that stay valid as long as
/// this object lives. Model readers (safetensors, GGUF) parse and view tensors straight out of
/// it, so loading a mapped file copies nothing.
public final class ByteBuffer: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let release: (() -> Void)?

    /// A private copy of `data`.
    public init(copying data: [UInt8]) {
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, data.count), alignment: 64)
        data.withUnsafeBytes { src in if src.count > 0 { p.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: src.count) } }
        bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[0..<data.count])
        release = { p.deallocate() }
    }

    /// Bytes owned elsewhere (e.g. an `mmap`ed region); `release` runs when this object goes away.
    public init(bytes: UnsafeRawBufferPointer, release: (() -> Void)?) {
        self.bytes = bytes
        self.release = release
    }

    deinit { release?() }

    public var count: Int { bytes.count }

    /// Little-endian integers at `offset` (the caller checks the range).
    @inline(__always) public func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    @inline(__always) public func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    @inline(__always) public func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16
    }
    @inline(__always) public func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32
    }
}
