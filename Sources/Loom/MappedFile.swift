import Glibc
import LoomCore

/// Opens files as `ByteBuffer`s: memory-mapped read-only (the pages are shared with the page
/// cache, nothing is copied), or read into memory where mapping is not possible (empty files).
public enum MappedFile {
    public static func open(_ path: String) throws(LoomError) -> ByteBuffer {
        let (fd, size) = try FileIO.openRegular(path)
        defer { close(fd) }
        if size == 0 { return ByteBuffer(copying: []) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw LoomError(.io, path, "cannot map: \(String(cString: strerror(errno)))")
        }
        let raw = UnsafeRawPointer(p)
        return ByteBuffer(bytes: UnsafeRawBufferPointer(start: raw, count: size), release: { _ = munmap(UnsafeMutableRawPointer(mutating: raw), size) })
    }
}
